local support = require "spec.support";
local event = support.lib "event";

describe("event.format_time", function ()
	it("writes RFC 3339 UTC with exactly three decimals", function ()
		assert.equal("2025-11-22T08:00:00.000Z", event.format_time(1763798400));
		assert.equal("2025-11-22T08:00:00.123Z", event.format_time(1763798400.1234));
	end);

	it("truncates rather than rounding up into the next second", function ()
		assert.equal("2025-11-22T08:00:00.999Z", event.format_time(1763798400.9999));
	end);
end);

describe("event.clip", function ()
	it("leaves short text alone", function ()
		assert.equal("Zoë 🎓", event.clip("Zoë 🎓", 5));
	end);

	it("counts characters, not bytes, and never cuts a character in half", function ()
		assert.equal("Zoë", event.clip("Zoë 🎓", 3));
		assert.equal("Zoë ", event.clip("Zoë 🎓", 4));
		assert.equal(("é"):rep(1023), event.clip(("é"):rep(2000), 1023));
	end);
end);

describe("event.encode", function ()
	it("reproduces the signing example's body byte for byte from its fields", function ()
		local body = support.signing_example().body;
		local parsed = support.json.decode(body);
		assert.equal(body, event.encode(parsed));
	end);

	it("builds the signing example's event from contract parts", function ()
		local example = support.signing_example();
		local built = event.build({
			id = example.webhook_id;
			type = "occupant.joined";
			time = 1763798400;
			source = event.source("muc.meet.jitsi", "8f14e45fceea167a");
			room = event.room("maths-3b@muc.meet.jitsi");
			occupant = event.occupant({
				occupant_jid = "maths-3b@muc.meet.jitsi/a1b2c3d4"; user_jid = "alice@meet.jitsi/web-1";
				bare_jid = "alice@meet.jitsi"; nick = "Zoë 🎓"; role = "participant";
			});
			identity = event.identity({
				user_id = "u-1001"; name = "Zoë Martin"; email = "zoe@school.example"; moderator = false;
				group = "class-3b"; claims = { courseid = "MATH101" };
			});
		});
		assert.equal(example.body, event.encode(built));
	end);

	it("escapes quotes, backslashes and control characters", function ()
		assert.equal([[{"nick":"a\"b\\c\nd\u0001"}]], event.encode({ nick = 'a"b\\c\nd\1' }));
		assert.same({ nick = 'a"b\\c\nd\1' }, support.json.decode(event.encode({ nick = 'a"b\\c\nd\1' })));
	end);

	it("writes numbers JSON can read and refuses ones it cannot", function ()
		assert.equal('{"a":3,"b":1.5,"c":-2}', event.encode({ a = 3, b = 1.5, c = -2 }));
		assert.has_error(function () event.encode({ a = 0/0 }); end);
		assert.has_error(function () event.encode({ a = math.huge }); end);
	end);

	it("writes a batch as {\"events\": [...]}", function ()
		local body = event.batch_body({ '{"id":"1"}', '{"id":"2"}' });
		assert.equal('{"events":[{"id":"1"},{"id":"2"}]}', body);
		assert.equal(2, #support.json.decode(body).events);
	end);
end);

describe("event.build", function ()
	local source = event.source("muc.meet.jitsi", "instance-1");

	it("gives source.started no room, occupant or identity", function ()
		local e = event.build({ id = "x", type = "source.started", time = 0, source = source,
			room = event.room("r@muc.meet.jitsi"), occupant = {}, identity = {} });
		assert.is_nil(e.room); assert.is_nil(e.occupant); assert.is_nil(e.identity);
	end);

	it("gives room events a room but no occupant or identity", function ()
		local e = event.build({ id = "x", type = "room.destroyed", time = 0, source = source,
			room = event.room("r@muc.meet.jitsi", "m-1"), occupant = {}, identity = {} });
		assert.same({ jid = "r@muc.meet.jitsi", name = "r", meeting_id = "m-1" }, e.room);
		assert.is_nil(e.occupant); assert.is_nil(e.identity);
	end);

	it("carries a breakout room's main room", function ()
		local room = event.room("b1@breakout.meet.jitsi", nil, "maths-3b@muc.meet.jitsi");
		assert.equal("maths-3b@muc.meet.jitsi", room.parent_jid);
		assert.equal("b1", room.name);
	end);
end);

describe("event.occupant", function ()
	it("keeps only roles the contract knows", function ()
		assert.equal("moderator", event.occupant({ role = "moderator" }).role);
		assert.is_nil(event.occupant({ role = "owner" }).role);
		assert.is_nil(event.occupant({}).role);
	end);

	it("clips display names to the schema's 1023 characters", function ()
		local o = event.occupant({ nick = ("x"):rep(5000), previous_nick = ("y"):rep(1024) });
		assert.equal(1023, #o.nick);
		assert.equal(1023, #o.previous_nick);
	end);
end);

describe("event.identity", function ()
	it("is nil when there is nothing to say", function ()
		assert.is_nil(event.identity(nil));
		assert.is_nil(event.identity({}));
		assert.is_nil(event.identity({ user_id = "", claims = {} }));
	end);

	it("drops an email the contract would reject", function ()
		assert.is_nil(event.identity({ user_id = "u", email = "not-an-email" }).email);
		assert.is_nil(event.identity({ user_id = "u", email = "a@b@c" }).email);
		assert.equal("a@b.example", event.identity({ email = "a@b.example" }).email);
	end);

	it("turns numeric ids into strings and moderator strings into booleans", function ()
		local identity = event.identity({ user_id = 42, moderator = "true" });
		assert.equal("42", identity.user_id);
		assert.is_true(identity.moderator);
		assert.is_false(event.identity({ moderator = "false" }).moderator);
	end);

	it("writes the issuer in the contract's place, cut to the schema's 255 characters", function ()
		local identity = event.identity({ name = "Ann", issuer = ("é"):rep(300), moderator = false, email = "a@b.example" });
		assert.equal(255 * 2, #identity.issuer);
		assert.equal('{"name":"Ann","email":"a@b.example","issuer":"moodle","moderator":false}',
			event.encode(event.identity({ moderator = false, issuer = "moodle", email = "a@b.example", name = "Ann" })));
	end);

	it("keeps at most 64 scalar claims", function ()
		local claims = { nested = { a = 1 } };
		for i = 1, 100 do claims[("c%03d"):format(i)] = i; end
		local identity = event.identity({ claims = claims });
		local count = 0;
		for _, value in pairs(identity.claims) do
			count = count + 1;
			assert.equal("number", type(value));
		end
		assert.equal(64, count);
	end);
end);

describe("event.fragment and event.encode_event", function ()
	local source = event.source("muc.meet.jitsi", "instance-1");
	local room = event.room("maths-3b@muc.meet.jitsi", "meeting-7", "main@muc.meet.jitsi");
	local occupant = event.occupant({ occupant_jid = "maths-3b@muc.meet.jitsi/a1b2c3d4", user_jid = "alice@meet.jitsi/web-1",
		bare_jid = "alice@meet.jitsi", nick = 'Zoë "Z" \\ 🎓', role = "moderator" });
	local identity = event.identity({ user_id = "u-1001", name = "Zoë", email = "zoe@school.example", moderator = true,
		group = "class-3b", claims = { courseid = "MATH101", groupid = 3, passed = false } });

	it("writes exactly what encode(build(...)) writes, whether the parts are fragments or tables", function ()
		for _, kind in ipairs({ "source.started", "room.created", "room.destroyed", "occupant.joined",
			"occupant.left", "occupant.renamed" }) do
			for _, who in ipairs({ { identity }, { nil } }) do
				local fields = { id = "0d5b1c2e-7f3a-4b6c-9d8e-1f2a3b4c5d6e", type = kind, time = 1763798400.25,
					source = source, room = room, occupant = occupant, identity = who[1] };
				local expected = event.encode(event.build(fields));
				assert.equal(expected, event.encode_event(fields));
				assert.equal(expected, event.encode_event({ id = fields.id, type = kind, time = fields.time,
					source = event.fragment(source), room = event.fragment(room), occupant = event.fragment(occupant),
					identity = event.fragment(who[1]) }));
			end
		end
	end);

	it("stands a fragment in for its value anywhere encode meets it", function ()
		assert.equal(event.encode({ occupant = occupant, type = "x" }),
			event.encode({ occupant = event.fragment(occupant), type = "x" }));
		assert.is_nil(event.fragment(nil));
	end);
end);

describe("event.uuid_generator", function ()
	it("makes version 4 UUIDs from the random bytes it is given, 64 per draw", function ()
		local draws = 0;
		local bytes = support.read_file("/dev/urandom", 16 * 64 * 4);
		local generate = event.uuid_generator(function (n)
			draws = draws + 1;
			return bytes:sub((draws - 1) * n + 1, draws * n);
		end);
		local seen = {};
		for _ = 1, 256 do
			local id = generate();
			assert.truthy(id:match("^%x%x%x%x%x%x%x%x%-%x%x%x%x%-4%x%x%x%-[89ab]%x%x%x%-%x%x%x%x%x%x%x%x%x%x%x%x$"), id);
			assert.is_nil(seen[id]);
			seen[id] = true;
		end
		assert.equal(4, draws);
		local first = event.uuid_generator(function (n) return ("\255"):rep(n); end)();
		assert.equal("ffffffff-ffff-4fff-bfff-ffffffffffff", first);
		local zeros = event.uuid_generator(function (n) return ("\0"):rep(n); end)();
		assert.equal("00000000-0000-4000-8000-000000000000", zeros);
	end);
end);

