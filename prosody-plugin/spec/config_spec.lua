local support = require "spec.support";
local config = support.lib "config";
local delivery = support.lib "delivery";
local identity = support.lib "identity";

local base64 = support.encodings.base64;
local SECRET = "whsec_" .. base64.encode(("s"):rep(32));
local DEFAULTS = { skip_jids = { "focus@auth.meet.jitsi", "jvb@auth.meet.jitsi" }, skip_domains = { "recorder.meet.jitsi" } };

local function read(options)
	return config.read(function (name) return options[name]; end, base64.decode, delivery.parse_secret, DEFAULTS, identity);
end

local function minimal(extra)
	local options = { presence_logger_url = "http://logger:8080/v1/events", presence_logger_secret = SECRET };
	for k, v in pairs(extra or {}) do options[k] = v; end
	return options;
end

local function error_of(options)
	local ok, err = pcall(read, options);
	assert.is_false(ok, "expected a configuration error");
	return err;
end

describe("config.read", function ()
	it("fills defaults around the two required options", function ()
		local c = read(minimal());
		assert.equal("http://logger:8080/v1/events", c.url);
		assert.equal(("s"):rep(32), c.key);
		assert.same({}, c.claims);
		assert.equal(50, c.batch_size);
		assert.equal(1, c.flush_interval); -- 1000 ms, in seconds
		assert.equal(10, c.timeout);
		assert.equal(10000, c.max_queue);
		assert.equal(300, c.max_retry_delay);
		assert.same(DEFAULTS.skip_jids, c.skip_jids);
		assert.same(DEFAULTS.skip_domains, c.skip_domains);
		assert.same({ user_id = { "context", "user", "id" }, email = { "context", "user", "email" },
			name = { "context", "user", "name" }, group = { "context", "group" } }, c.claim_paths);
		assert.same({}, c.trusted_affiliations);
	end);

	it("takes claim paths as dot paths into the token", function ()
		local c = read(minimal({ presence_logger_claim_user_id = "lms.person.number", presence_logger_claim_email = "mail",
			presence_logger_claim_name = "context.user.fullname", presence_logger_claim_group = "class" }));
		assert.same({ user_id = { "lms", "person", "number" }, email = { "mail" },
			name = { "context", "user", "fullname" }, group = { "class" } }, c.claim_paths);
	end);

	it("trusts the affiliations mod_token_moderators trusts unless told otherwise", function ()
		assert.same({ "owner", "teacher" }, read(minimal({
			token_moderators_trusted_affiliations = { "owner", "teacher" } })).trusted_affiliations);
		assert.same({ "moderator" }, read(minimal({ token_moderators_trusted_affiliations = { "owner" },
			presence_logger_trusted_affiliations = { "moderator" } })).trusted_affiliations);
		assert.same({}, read(minimal({ token_moderators_trusted_affiliations = { "owner" },
			presence_logger_trusted_affiliations = {} })).trusted_affiliations);
	end);

	it("refuses a claim path that is no dot path, naming the option and the path", function ()
		for _, bad in ipairs({ "", "context..id", ".id", "context.user.", "context.user id", 42, { "context", "id" } }) do
			local err = error_of(minimal({ presence_logger_claim_user_id = bad }));
			local expected = 'option presence_logger_claim_user_id must be a dot path into the token such as "context.user.id"';
			assert.truthy(err:find(expected, 1, true), err);
			assert.falsy(err:find("\n", 1, true), err);
		end
		local err = error_of(minimal({ presence_logger_claim_name = "context..name" }));
		assert.truthy(err:find('"context..name" has an empty claim name', 1, true), err);
		err = error_of(minimal({ presence_logger_claim_email = { "x" } }));
		assert.truthy(err:find("a table is not a string", 1, true), err);
	end);

	it("takes every option", function ()
		local c = read(minimal({
			presence_logger_claims = { "courseid", "groupid" };
			presence_logger_batch_size = 100; presence_logger_flush_interval = 250;
			presence_logger_timeout = 2.5; presence_logger_max_queue = "500";
			presence_logger_skip_jids = { "bot@meet.jitsi" }; presence_logger_max_retry_delay = 2;
		}));
		assert.equal(2, c.max_retry_delay);
		assert.same({ "courseid", "groupid" }, c.claims);
		assert.equal(100, c.batch_size);
		assert.equal(0.25, c.flush_interval);
		assert.equal(2.5, c.timeout);
		assert.equal(500, c.max_queue);
		assert.same({ "bot@meet.jitsi" }, c.skip_jids);
	end);

	it("names the missing URL or secret and says how to fix it", function ()
		local err = error_of({ presence_logger_secret = SECRET });
		assert.truthy(err:find("presence_logger_url is missing", 1, true), err);
		err = error_of({ presence_logger_url = "http://x/" });
		assert.truthy(err:find("presence_logger_secret is missing", 1, true), err);
		assert.truthy(err:find("whsec_", 1, true), err);
	end);

	it("rejects bad values, naming the option, without echoing the secret", function ()
		local cases = {
			{ { presence_logger_url = "logger:8080" }, "presence_logger_url" },
			{ { presence_logger_url = "ftp://x/" }, "presence_logger_url" },
			{ { presence_logger_secret = "whsec_" .. base64.encode("short-key") }, "presence_logger_secret" },
			{ { presence_logger_secret = "hunter2 hunter2" }, "presence_logger_secret" },
			{ { presence_logger_batch_size = 0 }, "presence_logger_batch_size" },
			{ { presence_logger_batch_size = 101 }, "presence_logger_batch_size" },
			{ { presence_logger_batch_size = 2.5 }, "presence_logger_batch_size" },
			{ { presence_logger_flush_interval = "soon" }, "presence_logger_flush_interval" },
			{ { presence_logger_flush_interval = -1 }, "presence_logger_flush_interval" },
			{ { presence_logger_timeout = 0 }, "presence_logger_timeout" },
			{ { presence_logger_max_queue = 0 }, "presence_logger_max_queue" },
			{ { presence_logger_max_retry_delay = 0.5 }, "presence_logger_max_retry_delay" },
			{ { presence_logger_claims = "courseid" }, "presence_logger_claims" },
			{ { presence_logger_claims = { "courseid", 7 } }, "presence_logger_claims" },
			{ { presence_logger_skip_jids = true }, "presence_logger_skip_jids" },
			{ { presence_logger_storage = "no such driver!" }, "presence_logger_storage" },
			{ { presence_logger_claim_group = "a..b" }, "presence_logger_claim_group" },
			{ { presence_logger_trusted_affiliations = "owner" }, "presence_logger_trusted_affiliations" },
		};
		for _, case in ipairs(cases) do
			local err = error_of(minimal(case[1]));
			assert.truthy(err:find("option " .. case[2] .. " ", 1, true), err);
			assert.falsy(err:find("hunter2", 1, true), err);
			assert.falsy(err:find("\n", 1, true), "one line, no traceback: " .. err);
		end
	end);
end);
