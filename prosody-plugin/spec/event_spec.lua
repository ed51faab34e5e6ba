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
