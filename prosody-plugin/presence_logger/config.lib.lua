-- Reads and checks the module's options. A missing or bad value raises one error naming the
-- option and saying how to fix it, so the module refuses to load rather than half-working.
-- Pure Lua: `get(name)` returns the raw option value (module:get_option in Prosody).

local config = {};

config.DEFAULTS = {
	batch_size = 50;          -- events per request (the contract allows at most 100)
	flush_interval = 1000;    -- milliseconds a batch may wait for more events
	timeout = 10;             -- seconds to wait for the receiver's answer
	max_queue = 10000;        -- events the spool may hold while the receiver is away
	max_retry_delay = 300;    -- seconds: the backoff between attempts grows up to this
};
config.MAX_BATCH = 100;
config.MIN_KEY_BYTES = 24;

local function fail(option, problem, fix)
	error(("mod_presence_logger: option %s %s%s"):format(option, problem, fix and (": " .. fix) or ""), 0);
end

local function number_option(get, option, default, min, max, integer, unit)
	local value = get(option);
	if value == nil then return default; end
	local n = tonumber(value);
	if n == nil or n ~= n then
		fail(option, ("must be a number of %s, got %q"):format(unit, tostring(value)));
	end
	if integer and n ~= math.floor(n) then
		fail(option, ("must be a whole number of %s, got %s"):format(unit, tostring(value)));
	end
	if n < min or n > max then
		fail(option, ("must be between %s and %s %s, got %s"):format(tostring(min), tostring(max), unit, tostring(value)));
	end
	return n;
end

local function list_option(get, option, default)
	local value = get(option);
	if value == nil then return default; end
	if type(value) ~= "table" then
		fail(option, ("must be a list of strings, got a %s"):format(type(value)),
			('write it like %s = { "a", "b" }'):format(option));
	end
	local list = {};
	for i, item in ipairs(value) do
		if type(item) ~= "string" or item == "" then
			fail(option, ("must be a list of non-empty strings; item %d is %s"):format(i, tostring(item)));
		end
		list[#list + 1] = item;
	end
	-- A set (util.set, or a table with string keys) from other Prosody config idioms.
	if #list == 0 then
		for k, v in pairs(value) do
			if type(k) == "string" and v == true then list[#list + 1] = k; end
		end
		table.sort(list);
	end
	return list;
end

-- Where the identity's fields are read from in the token (identity.lib.lua, DEFAULT_PATHS).
config.CLAIM_PATH_OPTIONS = {
	user_id = "presence_logger_claim_user_id";
	email = "presence_logger_claim_email";
	name = "presence_logger_claim_name";
	group = "presence_logger_claim_group";
};

local function path_option(get, option, default, parse_path)
	local value = get(option);
	if value == nil then value = default; end
	local path, problem = parse_path(value);
	if not path then
		local shown = type(value) == "string" and ("%q"):format(value) or ("a " .. type(value));
		fail(option, ("must be a dot path into the token such as \"%s\"; %s %s"):format(default, shown, problem),
			"write the claim names from the payload's top level down, joined by dots");
	end
	return path;
end

--- The checked configuration. `base64_decode` decodes the secret's key.
-- `defaults.skip_jids` / `defaults.skip_domains` depend on the deployment's domain.
-- `identity_lib` (identity.lib.lua) gives the claim paths' defaults and their parser.
function config.read(get, base64_decode, parse_secret, defaults, identity_lib)
	local c = {};

	local url = get("presence_logger_url");
	if type(url) ~= "string" or url == "" then
		fail("presence_logger_url", "is missing",
			'set it to the receiver\'s events endpoint, e.g. presence_logger_url = "http://logger:8080/v1/events"');
	end
	if not url:match("^https?://[^/%s]+") or url:find("%s") then
		fail("presence_logger_url", ("must be an http:// or https:// URL, got %q"):format(url));
	end
	c.url = url;

	local secret = get("presence_logger_secret");
	if secret == nil or secret == "" then
		fail("presence_logger_secret", "is missing",
			"set it to the receiver's signing secret (whsec_ followed by base64 of at least 24 random bytes)");
	end
	local key, problem = parse_secret(secret, base64_decode, config.MIN_KEY_BYTES);
	if not key then fail("presence_logger_secret", "is not a valid signing secret: " .. problem); end
	c.key = key;

	c.claims = list_option(get, "presence_logger_claims", {});
	c.claim_paths = {};
	for field, option in pairs(config.CLAIM_PATH_OPTIONS) do
		c.claim_paths[field] = path_option(get, option, identity_lib.DEFAULT_PATHS[field], identity_lib.parse_path);
	end
	-- The same trust as mod_token_moderators unless said otherwise: an attendance list that calls
	-- someone a teacher whom the room did not make one (or the reverse) would confuse everyone.
	c.trusted_affiliations = list_option(get, "presence_logger_trusted_affiliations",
		list_option(get, "token_moderators_trusted_affiliations", {}));
	c.batch_size = number_option(get, "presence_logger_batch_size", config.DEFAULTS.batch_size, 1, config.MAX_BATCH, true, "events");
	c.flush_interval = number_option(get, "presence_logger_flush_interval", config.DEFAULTS.flush_interval, 1, 3600000, false, "milliseconds") / 1000;
	c.timeout = number_option(get, "presence_logger_timeout", config.DEFAULTS.timeout, 0.1, 600, false, "seconds");
	c.max_queue = number_option(get, "presence_logger_max_queue", config.DEFAULTS.max_queue, 1, 10000000, true, "events");
	c.max_retry_delay = number_option(get, "presence_logger_max_retry_delay", config.DEFAULTS.max_retry_delay, 1, 3600, false, "seconds");
	c.skip_jids = list_option(get, "presence_logger_skip_jids", defaults.skip_jids or {});
	c.skip_domains = list_option(get, "presence_logger_skip_domains", defaults.skip_domains or {});

	local storage = get("presence_logger_storage");
	if storage ~= nil and (type(storage) ~= "string" or not storage:match("^[%w_]+$")) then
		fail("presence_logger_storage", "must be the name of a Prosody storage driver such as \"internal\" or \"sql\"");
	end
	c.storage = storage;

	return c;
end

return config;
