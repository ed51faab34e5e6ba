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

	it("combines mod_auth_token's session fields with the allow-listed claims", function ()
		assert.same({
			user_id = "u-1001"; name = "Alice Martin"; email = "alice@school.example";
			group = "class-3b"; claims = { courseid = "MATH101", groupid = "3B" };
		}, identities.from_session(token_session()));
	end);

	it("reads moderator as a boolean whether the token had true or \"true\"", function ()
		local session = token_session();
		session.jitsi_meet_context_user.moderator = "true";
		assert.is_true(identities.from_session(session).moderator);
		session.jitsi_meet_context_user.moderator = false;
		assert.is_false(identities.from_session(session).moderator);
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
		local facts = identities.from_session(session);
		assert.equal("u-1001", facts.user_id);
		assert.is_nil(facts.claims);
	end);

	it("ignores session fields of the wrong type", function ()
		local facts = identities.from_session({ jitsi_meet_context_user = "alice", jitsi_meet_context_group = { 1 },
			jitsi_meet_domain = "meet.jitsi", auth_token = support.jwt('{"courseid":"C1"}') });
		assert.same({ claims = { courseid = "C1" } }, facts);
	end);
end);
