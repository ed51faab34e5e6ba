local support = require "spec.support";
local identity_lib = support.lib "identity";

local deps = {
	base64_decode = support.encodings.base64.decode;
	json_decode = support.json.decode;
	valid_utf8 = support.encodings.utf8.valid;
};

local TOKEN_PAYLOAD = [[{"iss":"lms","aud":"jitsi","sub":"meet.jitsi","room":"*",
	"context":{"user":{"id":"u-1001","name":"Alice Martin","email":"alice@school.example"},"group":"class-3b"},
	"courseid":"MATH101","groupid":"3B","secret_note":"never sent","score":17,"passed":true,
	"tags":["a"],"profile":{"x":1}}]];

local function token_session(payload)
	return {
		auth_token = support.jwt(payload or TOKEN_PAYLOAD);
		jitsi_meet_context_user = { id = "u-1001", name = "Alice Martin", email = "alice@school.example" };
		jitsi_meet_context_group = "class-3b";
		jitsi_meet_domain = "meet.jitsi";
	};
end

describe("identity.claims", function ()
	it("returns only allow-listed claims", function ()
		local identities = identity_lib.new(deps, { "courseid", "groupid" });
		assert.same({ courseid = "MATH101", groupid = "3B" }, identities.claims(support.jwt(TOKEN_PAYLOAD)));
	end);

	it("keeps numbers and booleans but never objects or arrays", function ()
		local identities = identity_lib.new(deps, { "score", "passed", "tags", "profile" });
		assert.same({ score = 17, passed = true }, identities.claims(support.jwt(TOKEN_PAYLOAD)));
	end);

	it("returns nothing when the allow-list is empty or nothing on it is present", function ()
		assert.is_nil(identity_lib.new(deps, {}).claims(support.jwt(TOKEN_PAYLOAD)));
		assert.is_nil(identity_lib.new(deps, { "missing" }).claims(support.jwt(TOKEN_PAYLOAD)));
	end);

	it("reads base64url payloads with - and _ and without padding", function ()
		-- "?>?" encodes to Pz4/ in base64, Pz4_ in base64url.
		local identities = identity_lib.new(deps, { "c" });
		local token = support.jwt('{"c":"?>?~~~"}');
		assert.truthy(token:find("[-_]"));
		assert.same({ c = "?>?~~~" }, identities.claims(token));
	end);

	it("never fails on malformed tokens", function ()
		local identities = identity_lib.new(deps, { "courseid" });
		local b64 = support.encodings.base64.encode;
		for _, token in ipairs({
			false, 42, {}, "", "garbage", "a.b", "a.b.c.d", "..", "a.!!!.c", ".eyJhIjoxfQ.s", "x..s",
			"x.eyJh+IjoxfQ.s", "x.eyJh/IjoxfQ.s",                 -- standard base64, not base64url
			"eyJ.eyJhIjox.sig",                           -- truncated JSON
			"x." .. b64("[1,2]"):gsub("=", "") .. ".s",  -- JSON, but not an object
			"x." .. b64("not json"):gsub("=", "") .. ".s",
			"x." .. b64('"string"'):gsub("=", "") .. ".s",
		}) do
			local ok, claims = pcall(identities.claims, token);
			assert.is_true(ok, "claims() raised for " .. tostring(token));
			assert.is_nil(claims);
		end
	end);

	it("drops claim strings that are not valid UTF-8", function ()
		local identities = identity_lib.new(deps, { "courseid", "groupid" });
		local claims = identities.claims(support.jwt('{"courseid":"\255\254","groupid":"3B"}'));
		assert.same({ groupid = "3B" }, claims);
	end);
end);

describe("identity.from_session", function ()
	local identities = identity_lib.new(deps, { "courseid", "groupid" });

	it("reads Jitsi's claims, the issuer and the allow-listed claims from the verified token", function ()
		assert.same({
			user_id = "u-1001"; name = "Alice Martin"; email = "alice@school.example"; issuer = "lms";
			group = "class-3b"; claims = { courseid = "MATH101", groupid = "3B" };
		}, identities.from_session(token_session()));
	end);

	local function facts_of(payload, rules)
		return identity_lib.new(deps, {}, rules).from_session(token_session(payload));
	end

	-- classes/local/session.php of Moodle's mod_jitsi v5.3 (ARCHITECTURE.md section 10).
	local MOD_JITSI = [[{"context":{"user":{"affiliation":"member","avatar":"https://moodle.example/pic.php",
		"name":"Beatriz O\\'Neil","email":null,"id":"","moderator":false},"group":""},
		"aud":"jitsi","iss":"moodle-app","sub":"meet.jitsi","room":"mat-1a7algebra","exp":4102444800,"moderator":false}]];

	it("leaves out mod_jitsi's empty id and null e-mail and undoes its escaped quote", function ()
		assert.same({ name = "Beatriz O'Neil", issuer = "moodle-app", moderator = false }, facts_of(MOD_JITSI));
	end);

	it("counts blank strings as absent, whatever the field", function ()
		assert.same({ name = "Ann", issuer = "i" }, facts_of([[{"iss":"i","context":{"user":{"id":"  ",
			"email":"\t","name":"Ann"},"group":" "}}]]));
		assert.is_nil(facts_of([[{"iss":"","context":{"user":{"id":"","name":"","email":""}}}]]));
	end);

	it("keeps numeric ids as numbers (written without a fraction) and drops objects and arrays", function ()
		assert.same({ user_id = 42, issuer = "i" }, facts_of([[{"iss":"i","context":{"user":{"id":42,
			"name":{"first":"A"},"email":["a@b.c"]}}}]]));
	end);

	it("undoes every escaped quote, and only in the name", function ()
		local facts = facts_of([[{"context":{"user":{"id":"d\\'1","name":"D\\'Arcy O\\'Brien"}}}]]);
		assert.equal("D'Arcy O'Brien", facts.name);
		assert.equal("d\\'1", facts.user_id);
	end);

	it("reads the fields at the configured dot paths", function ()
		local payload = [[{"iss":"lms","sub":"s-7","person":{"mail":"p@x.example","display":"Paul"},
			"context":{"user":{"id":"ignored","name":"ignored"},"group":"g"}}]];
		local parse = identity_lib.parse_path;
		assert.same({ user_id = "s-7", email = "p@x.example", name = "Paul", issuer = "lms" },
			facts_of(payload, { paths = { user_id = parse "sub", email = parse "person.mail",
				name = parse "person.display", group = parse "person.group" } }));
		-- A path through something that is not an object finds nothing.
		assert.same({ issuer = "lms", name = "ignored", group = "g" },
			facts_of(payload, { paths = { user_id = parse "sub.x", email = parse "iss.x" } }));
	end);

	describe("moderator", function ()
		it("is context.user.moderator, true or \"true\"", function ()
			assert.is_true(facts_of([[{"context":{"user":{"moderator":"true"}}}]]).moderator);
			assert.is_true(facts_of([[{"context":{"user":{"moderator":true}}}]]).moderator);
			assert.is_false(facts_of([[{"context":{"user":{"moderator":false}}}]]).moderator);
			assert.is_false(facts_of([[{"context":{"user":{"moderator":"no"}}}]]).moderator);
		end);

		it("is the top-level moderator of mod_jitsi before v4.3", function ()
			assert.is_true(facts_of([[{"moderator":true,"context":{"user":{"name":"T","affiliation":"owner"}}}]]).moderator);
			assert.is_false(facts_of([[{"moderator":false,"context":{"user":{"name":"S","affiliation":"member"}}}]]).moderator);
		end);

		it("is true when either claim says so", function ()
			assert.is_true(facts_of([[{"moderator":true,"context":{"user":{"moderator":false}}}]]).moderator);
			assert.is_true(facts_of([[{"moderator":false,"context":{"user":{"moderator":true}}}]]).moderator);
		end);

		it("ignores the affiliation unless it is a trusted one", function ()
			-- mod_jitsi signs the affiliation from a URL parameter the student can change.
			local forged = [[{"moderator":false,"context":{"user":{"affiliation":"owner","moderator":false}}}]];
			assert.is_false(facts_of(forged).moderator);
			assert.is_nil(facts_of([[{"context":{"user":{"name":"S","affiliation":"owner"}}}]]).moderator);
			local trusting = { trusted_affiliations = { "owner", "moderator" } };
			assert.is_true(facts_of(forged, trusting).moderator);
			assert.is_true(facts_of([[{"context":{"user":{"affiliation":"moderator"}}}]], trusting).moderator);
			assert.is_false(facts_of([[{"context":{"user":{"affiliation":"member"}}}]], trusting).moderator);
		end);

		it("is absent when the token says nothing about it (or null)", function ()
			assert.is_nil(facts_of([[{"moderator":null,"context":{"user":{"name":"A","moderator":null}}}]]).moderator);
		end);
	end);

	it("is nil for a guest without a token", function ()
		assert.is_nil(identities.from_session({}));
		assert.is_nil(identities.from_session(nil));
	end);

	it("ignores a token nobody verified (no token module marks on the session)", function ()
		assert.is_nil(identities.from_session({ auth_token = support.jwt(TOKEN_PAYLOAD) }));
	end);

	it("keeps the session's identity when the token itself is malformed", function ()
		local session = token_session();
		session.auth_token = "not-a-jwt";
		assert.same({ user_id = "u-1001", name = "Alice Martin", email = "alice@school.example", group = "class-3b" },
			identities.from_session(session));
	end);

	it("ignores session fields of the wrong type", function ()
		local facts = identities.from_session({ jitsi_meet_context_user = "alice", jitsi_meet_context_group = { 1 },
			jitsi_meet_domain = "meet.jitsi", auth_token = support.jwt('{"courseid":"C1"}') });
		assert.same({ claims = { courseid = "C1" } }, facts);
	end);
end);
