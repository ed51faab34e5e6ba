-- TEST-ONLY stand-in for Jitsi's token authentication, which cannot be installed here.
--
-- Source of the behaviour it imitates (facts only, no code copied):
--   jitsi/jitsi-meet resources/prosody-plugins/mod_auth_token.lua      (SASL ANONYMOUS + ?token=)
--   jitsi/jitsi-meet resources/prosody-plugins/token/util.lib.lua      (verification, session fields)
--   jitsi/jitsi-meet resources/prosody-plugins/mod_jitsi_session.lua   (websocket-session / bosh-session)
--
-- What it does, like Jitsi's module:
--   * reads `token` (and `room`) from the query string of the BOSH or WebSocket request into
--     session.auth_token (and session.jitsi_web_query_room);
--   * offers SASL ANONYMOUS; the mechanism succeeds only if the token is a valid HS256 JWT signed
--     with `test_jwt_app_secret` (signature, `exp`, `nbf`, `iss`, `aud` checked), and the account
--     is a random id, as lib-jitsi-meet's anonymous login gets;
--   * fills the session fields token/util.lib.lua fills: auth_token, jitsi_meet_room,
--     jitsi_meet_domain, jitsi_meet_context_user, jitsi_meet_context_group,
--     jitsi_meet_context_features.
-- Difference (test convenience, documented): PLAIN is also offered for accounts in this host's
-- internal store, so a server admin such as admin@meet.jitsi can log in over c2s.
-- Options: test_jwt_app_secret (required), test_jwt_accepted_issuers, test_jwt_accepted_audiences
-- (lists; empty means any), test_jwt_allow_empty_token (boolean, default false).

local formdecode = require "util.http".formdecode;
local hashes = require "util.hashes";
local base64 = require "util.encodings".base64;
local json = require "util.json";
local sasl = require "util.sasl";
local random_id = require "util.id".medium;

local app_secret = module:get_option_string("test_jwt_app_secret");
if not app_secret or app_secret == "" then
	module:log("error", "test_jwt_app_secret is not set: token logins will all fail");
end
local accepted_issuers = module:get_option_set("test_jwt_accepted_issuers", {});
local accepted_audiences = module:get_option_set("test_jwt_accepted_audiences", {});
local allow_empty_token = module:get_option_boolean("test_jwt_allow_empty_token", false);
local accounts = module:open_store("accounts");

local function from_base64url(text)
	local padded = text:gsub("-", "+"):gsub("_", "/");
	padded = padded .. string.rep("=", (4 - #padded % 4) % 4);
	return base64.decode(padded);
end

local function to_base64url(bytes)
	return (base64.encode(bytes):gsub("+", "-"):gsub("/", "_"):gsub("=", ""));
end

local function claim_accepted(accepted, value)
	if accepted:empty() then return true; end
	if type(value) == "table" then
		for _, item in ipairs(value) do
			if accepted:contains(item) then return true; end
		end
		return false;
	end
	return accepted:contains(value);
end

-- Returns the claims of a valid token, or nil and why it is not valid.
local function verify_token(token)
	local header_b64, payload_b64, signature_b64 = token:match("^([%w_-]+)%.([%w_-]+)%.([%w_-]+)$");
	if not header_b64 then return nil, "malformed token"; end
	local header = json.decode(from_base64url(header_b64) or "");
	if type(header) ~= "table" or header.alg ~= "HS256" then
		return nil, "unsupported token algorithm";
	end
	local expected = to_base64url(hashes.hmac_sha256(app_secret or "", header_b64 .. "." .. payload_b64));
	if not hashes.equals(expected, signature_b64) then
		return nil, "bad token signature";
	end
	local claims = json.decode(from_base64url(payload_b64) or "");
	if type(claims) ~= "table" then return nil, "token payload is not a JSON object"; end
	local now = os.time();
	if type(claims.exp) ~= "number" or claims.exp <= now then return nil, "token expired"; end
	if type(claims.nbf) == "number" and claims.nbf > now then return nil, "token not yet valid"; end
	if not claim_accepted(accepted_issuers, claims.iss) then return nil, "token issuer not accepted"; end
	if not claim_accepted(accepted_audiences, claims.aud) then return nil, "token audience not accepted"; end
	return claims;
end

local function on_web_session(event)
	local session, request = event.session, event.request;
	local query = request.url and request.url.query;
	if query then
		local params = formdecode(query) or {};
		session.auth_token = params.token;
		session.jitsi_web_query_room = params.room;
	end
end
module:hook_global("websocket-session", on_web_session);
module:hook_global("bosh-session", on_web_session);

-- util.sasl's own ANONYMOUS mechanism retries its backend until it says yes, which would spin
-- forever on a bad token; Jitsi's module registers a single-attempt one, and so do we.
sasl.registerMechanism("ANONYMOUS", { "anonymous" }, function(self, message) -- luacheck: ignore 212/message
	local username = random_id():lower();
	local ok, condition, text = self.profile.anonymous(self, username, self.realm);
	if ok then
		self.username = username;
		return "success";
	end
	return "failure", condition or "not-authorized", text;
end);

local provider = {};

function provider.test_password(username, password)
	local account = accounts:get(username);
	if account and account.password and hashes.equals(account.password, password) then
		return true;
	end
	return nil, "Auth failed. Invalid username or password.";
end

function provider.get_password(username)
	local account = accounts:get(username);
	return account and account.password;
end

function provider.set_password(username, password)
	local account = accounts:get(username);
	if not account then return nil, "Account not available."; end
	account.password = password;
	return accounts:set(username, account);
end

function provider.user_exists(username)
	return accounts:get(username) ~= nil;
end

function provider.create_user(username, password)
	return accounts:set(username, { password = password });
end

function provider.delete_user(username)
	return accounts:set(username, nil);
end

function provider.users()
	return accounts:users();
end

function provider.get_sasl_handler(session)
	local profile = {};
	function profile.plain_test(_, username, password)
		return provider.test_password(username, password), true;
	end
	function profile.anonymous()
		local token = session.auth_token;
		if token == nil then
			if allow_empty_token then return true; end
			return false, "not-authorized", "token required";
		end
		local claims, why = verify_token(token);
		if not claims then
			module:log("info", "Rejected token login from %s: %s", session.ip or "?", why);
			return false, "not-authorized", why;
		end
		session.jitsi_meet_room = claims.room;
		session.jitsi_meet_domain = claims.sub;
		if type(claims.context) == "table" then
			session.jitsi_meet_context_user = claims.context.user;
			session.jitsi_meet_context_group = claims.context.group;
			session.jitsi_meet_context_features = claims.context.features;
		end
		return true;
	end
	return sasl.new(module.host, profile);
end

module:provides("auth", provider);
