-- Who an occupant is, from the JWT Jitsi's mod_auth_token verified before the session could log
-- in. Pure Lua: the base64 and JSON decoders are passed in (Prosody's util.encodings and util.json
-- in the module, the same libraries in the busted specs).
--
-- The user id, e-mail, name and group are read from the token's payload at configurable dot
-- paths (DEFAULT_PATHS: where Jitsi and Moodle's mod_jitsi put them), so an LMS that signs its ids
-- elsewhere works too. mod_auth_token also copies `context.user` and `context.group` to
-- session.jitsi_meet_context_user / _group; those stand in for the payload when the session's
-- token cannot be decoded. The token was verified before the session could log in, so we only
-- decode it; anything malformed yields no facts, never an error.
--
-- What Moodle's mod_jitsi signs (ARCHITECTURE.md section 10, flask-logger/docs/moodle-facts.md):
-- `context.user.id` is always "" (an empty string is no id), the e-mail is null unless the admin
-- enabled sending it, and `'` in the name arrives as `\'` (undone here). Moderators are told as
-- mod_token_moderators tells them: `context.user.moderator` or the top-level `moderator` (all
-- mod_jitsi had before v4.3); `context.user.affiliation` only when it is one of the configured
-- trusted affiliations, because mod_jitsi signs it from a URL parameter the student can change.

local identity = {};

--- Where each identity field is read from, as dot paths into the token's payload.
identity.DEFAULT_PATHS = {
	user_id = "context.user.id";
	email = "context.user.email";
	name = "context.user.name";
	group = "context.group";
};

--- A dot path ("context.user.id") as its list of claim names, or nil and why it is not one.
function identity.parse_path(text)
	if type(text) ~= "string" then return nil, "is not a string"; end
	if text == "" then return nil, "is empty"; end
	local path = {};
	for name in (text .. "."):gmatch("([^.]*)%.") do
		if name == "" then return nil, "has an empty claim name (two dots, or a dot at an end)"; end
		if name:find("%s") then return nil, "has a space in a claim name"; end
		path[#path + 1] = name;
	end
	return path;
end

local DEFAULT_PATH_LISTS = {};
for field, text in pairs(identity.DEFAULT_PATHS) do DEFAULT_PATH_LISTS[field] = identity.parse_path(text); end

-- What a character of a base64url payload that is not a letter, digit or = becomes.
local URL_ALPHABET = setmetatable({ ["-"] = "+", ["_"] = "/" }, { __index = function () return "!"; end });

--- A decoder bound to `deps`: { base64_decode = fn(standard base64) -> bytes|nil,
-- json_decode = fn(text) -> value, valid_utf8 = fn(string) -> boolean (optional) }.
-- `allowed_claims`: top-level claims that may be reported in `claims`. `rules` (optional):
-- { paths = { user_id =, email =, name =, group = } (lists from parse_path; DEFAULT_PATHS for
-- those not given), trusted_affiliations = { "owner", ... } }.
function identity.new(deps, allowed_claims, rules)
	local base64_decode, json_decode = deps.base64_decode, deps.json_decode;
	local valid_utf8 = deps.valid_utf8 or function () return true; end;
	local allowed = {};
	for _, name in ipairs(allowed_claims or {}) do allowed[name] = true; end
	rules = rules or {};
	local paths = {};
	for field, default in pairs(DEFAULT_PATH_LISTS) do paths[field] = rules.paths and rules.paths[field] or default; end
	local trusted = {};
	for _, affiliation in ipairs(rules.trusted_affiliations or {}) do trusted[affiliation] = true; end

	local self = {};

	--- The JSON payload of a compact JWT as a table, or nil and a reason.
	-- This runs on every join: plain finds and one pattern pass over the payload (Lua patterns
	-- cost hundreds of instructions per character).
	function self.token_payload(token)
		if type(token) ~= "string" then return nil, "no token"; end
		local first = token:find(".", 1, true);
		local second = first and token:find(".", first + 1, true);
		if not second or first == 1 or second == first + 1 or token:find(".", second + 1, true) then
			return nil, "not a compact JWT";
		end
		-- base64url to base64: - and _ become + and /, anything else but letters, digits and =
		-- marks the payload as not base64url.
		local payload = token:sub(first + 1, second - 1):gsub("[^%w=]", URL_ALPHABET);
		if payload:find("!", 1, true) then return nil, "payload is not base64url"; end
		if payload:find("=", 1, true) then payload = payload:gsub("=+$", ""); end
		payload = payload .. ("="):rep((4 - #payload % 4) % 4);
		local ok, bytes = pcall(base64_decode, payload);
		if not ok or type(bytes) ~= "string" or bytes == "" then return nil, "payload does not decode"; end
		local parsed;
		ok, parsed = pcall(json_decode, bytes);
		if not ok or type(parsed) ~= "table" then return nil, "payload is not a JSON object"; end
		return parsed;
	end

	local function claims_of(payload)
		if next(allowed) == nil then return nil; end
		local claims, found = {}, false;
		for name in pairs(allowed) do
			local value = payload[name];
			local kind = type(value);
			if kind == "boolean" or kind == "number" or (kind == "string" and valid_utf8(value)) then
				claims[name] = value;
				found = true;
			end
		end
		return found and claims or nil;
	end

	--- The allow-listed top-level claims of a token with scalar values, or nil.
	function self.claims(token)
		if next(allowed) == nil then return nil; end
		local payload = self.token_payload(token);
		return payload and claims_of(payload) or nil;
	end

	-- A claim's text: a number as is (event.text writes it), a string unless blank (mod_jitsi
	-- signs `"id": ""`) or not UTF-8; nil for anything else (JSON null, objects, arrays).
	local function given(value)
		if type(value) == "number" then return value; end
		if type(value) == "string" and value:find("%S") and valid_utf8(value) then return value; end
		return nil;
	end

	local function at_path(payload, path)
		local value = payload;
		for i = 1, #path do
			if type(value) ~= "table" then return nil; end
			value = value[path[i]];
		end
		return value;
	end

	-- A moderator claim: true for true or "true", false for other booleans and strings, nil
	-- when absent (or null).
	local function says(value)
		local kind = type(value);
		if kind == "boolean" then return value; end
		if kind == "string" then return value == "true"; end
		return nil;
	end

	local function moderator_of(payload)
		local user = at_path(payload, { "context", "user" });
		if type(user) ~= "table" then user = {}; end
		local in_user, at_top = says(user.moderator), says(payload.moderator);
		local by_affiliation;
		if next(trusted) ~= nil and type(user.affiliation) == "string" then
			by_affiliation = trusted[user.affiliation] == true;
		end
		if in_user == nil and at_top == nil and by_affiliation == nil then return nil; end
		return in_user == true or at_top == true or by_affiliation == true;
	end

	--- Identity facts of a session (see event.identity), or nil for a guest without a token.
	function self.from_session(session)
		if type(session) ~= "table" then return nil; end
		local user = session.jitsi_meet_context_user;
		if type(user) ~= "table" then user = nil; end
		local group = session.jitsi_meet_context_group;
		-- Claims are trusted only where the token module has verified the token and left its
		-- marks on the session; a bare ?token= that nobody checked says nothing.
		if not (user or given(group) or session.jitsi_meet_domain or session.jitsi_meet_room) then return nil; end
		local payload = self.token_payload(session.auth_token);
		local claims = payload and claims_of(payload) or nil;
		payload = payload or { context = { user = user, group = group } };
		local name = given(at_path(payload, paths.name));
		if type(name) == "string" and name:find("\\'", 1, true) then name = name:gsub("\\'", "'"); end
		local facts = {
			user_id = given(at_path(payload, paths.user_id));
			name = name;
			email = given(at_path(payload, paths.email));
			issuer = given(payload.iss);
			moderator = moderator_of(payload);
			group = given(at_path(payload, paths.group));
			claims = claims;
		};
		if next(facts) == nil then return nil; end
		return facts;
	end

	return self;
end

return identity;
