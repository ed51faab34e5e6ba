-- Who an occupant is, from the session fields Jitsi's mod_auth_token fills after it verified the
-- client's JWT. Pure Lua: the base64 and JSON decoders are passed in (Prosody's util.encodings
-- and util.json in the module, the same libraries in the busted specs).
--
-- mod_auth_token puts `context.user` in session.jitsi_meet_context_user and `context.group` in
-- session.jitsi_meet_context_group; other claims (courseid, groupid, ...) are not on the session,
-- so we read them from the token's payload. The token was verified before the session could
-- log in, so we only decode it; anything malformed yields no claims, never an error.

local identity = {};

-- What a character of a base64url payload that is not a letter, digit or = becomes.
local URL_ALPHABET = setmetatable({ ["-"] = "+", ["_"] = "/" }, { __index = function () return "!"; end });

--- A decoder bound to `deps`: { base64_decode = fn(standard base64) -> bytes|nil,
-- json_decode = fn(text) -> value, valid_utf8 = fn(string) -> boolean (optional) }.
function identity.new(deps, allowed_claims)
	local base64_decode, json_decode = deps.base64_decode, deps.json_decode;
	local valid_utf8 = deps.valid_utf8 or function () return true; end;
	local allowed = {};
	for _, name in ipairs(allowed_claims or {}) do allowed[name] = true; end

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

	--- The allow-listed top-level claims of a token with scalar values, or nil.
	function self.claims(token)
		if next(allowed) == nil then return nil; end
		local payload = self.token_payload(token);
		if not payload then return nil; end
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

	local function scalar_text(value)
		if type(value) == "number" then return tostring(value); end
		if type(value) == "string" and valid_utf8(value) then return value; end
		return nil;
	end

	--- Identity facts of a session (see event.identity), or nil for a guest without a token.
	function self.from_session(session)
		if type(session) ~= "table" then return nil; end
		local user = session.jitsi_meet_context_user;
		if type(user) ~= "table" then user = nil; end
		local group = scalar_text(session.jitsi_meet_context_group);
		-- Claims are trusted only where the token module has verified the token and left its
		-- marks on the session; a bare ?token= that nobody checked says nothing.
		local verified = user or group or session.jitsi_meet_domain or session.jitsi_meet_room;
		local claims = verified and self.claims(session.auth_token) or nil;
		if not (user or group or claims) then return nil; end
		local facts = { group = group, claims = claims };
		if user then
			facts.user_id = scalar_text(user.id);
			facts.name = scalar_text(user.name);
			facts.email = scalar_text(user.email);
			if type(user.moderator) == "boolean" then
				facts.moderator = user.moderator;
			elseif user.moderator ~= nil then
				facts.moderator = user.moderator == "true";
			end
		end
		return facts;
	end

	return self;
end

return identity;
