local support = require "spec.support";
local delivery = support.lib "delivery";

local base64 = support.encodings.base64;
local sign_deps = { hmac_sha256 = support.hashes.hmac_sha256, base64_encode = base64.encode };

describe("delivery signing (Standard Webhooks)", function ()
	local example = support.signing_example();

	it("reproduces the worked example of schema/README.md byte for byte", function ()
		local key = assert(delivery.parse_secret(example.secret, base64.decode, 24));
		assert.equal(example.webhook_signature,
			delivery.signature(sign_deps, key, example.webhook_id, example.webhook_timestamp, example.body));
	end);

	it("sends the three headers with the signature over id.timestamp.body", function ()
		local key = assert(delivery.parse_secret(example.secret, base64.decode, 24));
		local headers = delivery.headers(sign_deps, key, example.webhook_id, tonumber(example.webhook_timestamp), example.body);
		assert.same({
			["Content-Type"] = "application/json";
			["webhook-id"] = example.webhook_id;
			["webhook-timestamp"] = example.webhook_timestamp;
			["webhook-signature"] = example.webhook_signature;
		}, headers);
	end);

	it("changes the signature when any signed part changes", function ()
		local key = assert(delivery.parse_secret(example.secret, base64.decode, 24));
		local base = delivery.signature(sign_deps, key, example.webhook_id, example.webhook_timestamp, example.body);
		assert.not_equal(base, delivery.signature(sign_deps, key, example.webhook_id, "1763798401", example.body));
		assert.not_equal(base, delivery.signature(sign_deps, key, "other-id", example.webhook_timestamp, example.body));
		assert.not_equal(base, delivery.signature(sign_deps, key, example.webhook_id, example.webhook_timestamp, example.body .. " "));
	end);
end);

describe("delivery.parse_secret", function ()
	it("accepts whsec_-prefixed and bare base64 keys", function ()
		local key = delivery.parse_secret("whsec_" .. base64.encode(("k"):rep(32)), base64.decode, 24);
		assert.equal(("k"):rep(32), key);
		assert.equal(("k"):rep(32), delivery.parse_secret(base64.encode(("k"):rep(32)), base64.decode, 24));
	end);

	it("explains what is wrong without echoing the secret", function ()
		local cases = {
			{ nil, "missing" }, { "", "missing" },
			{ "whsec_not base64!", "base64" }, { "whsec_abc", "base64" },
			{ "whsec_" .. base64.encode("short"), "at least 24" },
		};
		for _, case in ipairs(cases) do
			local key, problem = delivery.parse_secret(case[1], base64.decode, 24);
			assert.is_nil(key);
			assert.truthy(problem:find(case[2], 1, true), problem);
			if case[1] and #case[1] > 6 then assert.falsy(problem:find(case[1], 1, true)); end
		end
	end);
end);

describe("delivery.backoff", function ()
	it("grows exponentially from base, capped, with jitter between half and all of it", function ()
		for attempt = 1, 12 do
			local ceiling = math.min(300, 1 * 2 ^ (attempt - 1));
			assert.equal(ceiling / 2, delivery.backoff(attempt, 1, 300, function () return 0; end));
			local high = delivery.backoff(attempt, 1, 300, function () return 0.999999; end);
			assert.is_true(high <= ceiling and high > ceiling * 0.99);
		end
	end);

	it("stays within bounds for random jitter and very high attempt counts", function ()
		math.randomseed(7);
		for attempt = 1, 200 do
			local delay = delivery.backoff(attempt, 2, 60, math.random);
			local ceiling = math.min(60, 2 * 2 ^ (attempt - 1));
			assert.is_true(delay >= ceiling / 2 and delay <= ceiling, ("attempt %d: %s"):format(attempt, delay));
		end
		assert.equal(30, delivery.backoff(10 ^ 9, 2, 60, function () return 0; end));
	end);

	it("spreads retries: different random draws give different delays", function ()
		local seen = {};
		math.randomseed(11);
		for _ = 1, 20 do seen[delivery.backoff(5, 1, 300, math.random)] = true; end
		local distinct = 0;
		for _ in pairs(seen) do distinct = distinct + 1; end
		assert.is_true(distinct > 10);
	end);
end);

describe("delivery.retry_after", function ()
	local now = 1763798400; -- Sat, 22 Nov 2025 08:00:00 GMT

	it("reads delta-seconds", function ()
		assert.equal(120, delivery.retry_after("120", now));
		assert.equal(0, delivery.retry_after(" 0 ", now));
	end);

	it("reads an HTTP date relative to now", function ()
		assert.equal(90, delivery.retry_after("Sat, 22 Nov 2025 08:01:30 GMT", now));
		assert.equal(86400 + 3600, delivery.retry_after("Sun, 23 Nov 2025 09:00:00 GMT", now));
		assert.equal(0, delivery.retry_after("Fri, 21 Nov 2025 08:00:00 GMT", now)); -- already past
		-- across a leap day (2028-02-29), checked with Python's datetime
		assert.equal(71596800, delivery.retry_after("Tue, 29 Feb 2028 00:00:00 GMT", now));
	end);

	it("ignores what it cannot read", function ()
		for _, value in ipairs({ nil, "", "soon", "-5", "1.5", "22 Nov 2025", "Sat, 22 Foo 2025 08:00:00 GMT" }) do
			assert.is_nil(delivery.retry_after(value, now));
		end
	end);
end);

describe("delivery.next_delay", function ()
	local policy = { base = 1, cap = 300, max_wait = 3600 };
	local zero = function () return 0; end;

	it("waits at least what Retry-After asks", function ()
		assert.equal(120, delivery.next_delay(1, 120, policy, zero));
	end);

	it("keeps its own backoff when that is longer", function ()
		assert.equal(128, delivery.next_delay(9, 5, policy, zero));
	end);

	it("never waits longer than max_wait, whatever the receiver says", function ()
		assert.equal(3600, delivery.next_delay(1, 10 ^ 9, policy, zero));
	end);
end);

describe("delivery.accepted", function ()
	it("accepts 2xx only", function ()
		for _, code in ipairs({ 200, 201, 202, 204, 299 }) do assert.is_true(delivery.accepted(code)); end
		for _, code in ipairs({ 0, 100, 301, 400, 401, 409, 429, 500, 503 }) do assert.is_false(delivery.accepted(code)); end
		assert.is_false(delivery.accepted("200"));
	end);
end);

describe("delivery.already_stored", function ()
	it("recognises the receiver refusing a webhook-id it already accepted", function ()
		assert.is_true(delivery.already_stored(401, '{"error": "replayed", "message": "webhook-id was already accepted"}'));
		assert.is_true(delivery.already_stored(409, '{"error":"replayed"}'));
	end);

	it("does not mistake other refusals for it", function ()
		assert.is_false(delivery.already_stored(401, '{"error": "bad_signature"}'));
		assert.is_false(delivery.already_stored(500, '{"error": "replayed"}'));
		assert.is_false(delivery.already_stored(401, nil));
		assert.is_false(delivery.already_stored(0, "replayed"));
	end);
end);

describe("delivery.outcome", function ()
	it("sorts the receiver's answers as the README's refusal table says", function ()
		local cases = {
			{ 200, "{}", "delivered" }, { 204, nil, "delivered" },
			{ 401, '{"error": "replayed"}', "delivered" },
			{ 413, '{"error": "too_large"}', "split" }, { 413, '{"error": "batch_too_large"}', "split" },
			{ 400, '{"error": "schema"}', "dead_letter" }, { 400, '{"error": "bad_json"}', "dead_letter" },
			{ 400, '{"error": "duplicate_ids"}', "dead_letter" }, { 415, nil, "dead_letter" },
			{ 401, '{"error": "bad_signature"}', "retry" }, { 401, '{"error": "timestamp_too_old"}', "retry" },
			{ 404, nil, "retry" }, { 408, nil, "retry" }, { 429, nil, "retry" }, { 500, nil, "retry" },
			{ 503, '{"error": "database_unavailable"}', "retry" }, { 0, "timed out", "retry" },
		};
		for _, case in ipairs(cases) do
			assert.equal(case[3], delivery.outcome(case[1], case[2]), ("HTTP %d %s"):format(case[1], tostring(case[2])));
		end
	end);
end);

describe("delivery.refusal", function ()
	local decode = require "util.json".decode;
	it("reads the reason and message, nothing else", function ()
		local reason, message = delivery.refusal('{"error": "schema", "message": "2 schema\\nviolation(s)", "errors": ["x"]}', decode);
		assert.equal("schema", reason);
		assert.equal("2 schema violation(s)", message);
	end);

	it("gives nothing for a body that is not a refusal", function ()
		assert.is_nil(delivery.refusal("<html>Bad Request</html>", decode));
		assert.is_nil(delivery.refusal(nil, decode));
		assert.is_nil(delivery.refusal('["schema"]', decode));
	end);
end);
