-- Delivery arithmetic: Standard Webhooks signing, retry delays, Retry-After. Pure Lua; the HMAC
-- and base64 primitives are passed in (Prosody's util.hashes and util.encodings).

local delivery = {};

local math_floor, math_min, math_max = math.floor, math.min, math.max;

--- The key bytes of a `whsec_<base64>` secret (the prefix is optional, as in the Standard
-- Webhooks libraries), or nil and what is wrong with it. Never include the secret in errors.
function delivery.parse_secret(secret, base64_decode, min_bytes)
	if type(secret) ~= "string" or secret == "" then return nil, "it is missing or not a string"; end
	local encoded = secret:gsub("^whsec_", "");
	if encoded:find("[^A-Za-z0-9+/=]") or #encoded % 4 ~= 0 then
		return nil, "it must be whsec_ followed by standard base64";
	end
	local ok, key = pcall(base64_decode, encoded);
	if not ok or type(key) ~= "string" or key == "" then
		return nil, "its base64 part does not decode";
	end
	if min_bytes and #key < min_bytes then
		return nil, ("its key is %d bytes, at least %d are required"):format(#key, min_bytes);
	end
	return key;
end

--- The `webhook-signature` header value for one request.
-- deps: { hmac_sha256 = fn(key, data) -> raw digest, base64_encode = fn(bytes) -> text }
function delivery.signature(deps, key, msg_id, timestamp, body)
	local signed = msg_id .. "." .. tostring(timestamp) .. "." .. body;
	return "v1," .. deps.base64_encode(deps.hmac_sha256(key, signed));
end

--- All headers of a signed request.
function delivery.headers(deps, key, msg_id, timestamp, body)
	return {
		["Content-Type"] = "application/json";
		["webhook-id"] = msg_id;
		["webhook-timestamp"] = tostring(timestamp);
		["webhook-signature"] = delivery.signature(deps, key, msg_id, timestamp, body);
	};
end

--- Seconds to wait before retry number `attempt` (1 = first retry): exponential from `base`,
-- capped at `cap`, with "equal jitter" (half fixed, half random) so a fleet of servers that
-- lost the receiver at the same moment does not come back in lock step. `random()` -> [0, 1).
function delivery.backoff(attempt, base, cap, random)
	local exponent = math_min(math_max(attempt - 1, 0), 30);
	local ceiling = math_min(cap, base * 2 ^ exponent);
	return ceiling / 2 + (ceiling / 2) * random();
end

local MONTHS = { Jan = 1, Feb = 2, Mar = 3, Apr = 4, May = 5, Jun = 6,
	Jul = 7, Aug = 8, Sep = 9, Oct = 10, Nov = 11, Dec = 12 };

-- Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's civil-from-days, inverted).
local function days_from_civil(y, m, d)
	if m <= 2 then y = y - 1; end
	local era = math_floor(y / 400);
	local yoe = y - era * 400;
	local mp = (m + 9) % 12;
	local doy = math_floor((153 * mp + 2) / 5) + d - 1;
	local doe = yoe * 365 + math_floor(yoe / 4) - math_floor(yoe / 100) + doy;
	return era * 146097 + doe - 719468;
end

--- Seconds to wait according to a Retry-After header (delta-seconds or an IMF-fixdate), or nil
-- when absent or unreadable. `now` is the current Unix time.
function delivery.retry_after(value, now)
	if type(value) ~= "string" then return nil; end
	value = value:match("^%s*(.-)%s*$");
	if value:match("^%d+$") then return tonumber(value); end
	local d, mon, y, h, mi, s = value:match("^%a%a%a, (%d%d) (%a%a%a) (%d%d%d%d) (%d%d):(%d%d):(%d%d) GMT$");
	if not d or not MONTHS[mon] then return nil; end
	local at = days_from_civil(tonumber(y), MONTHS[mon], tonumber(d)) * 86400
		+ tonumber(h) * 3600 + tonumber(mi) * 60 + tonumber(s);
	return math_max(0, at - now);
end

--- Delay before the next attempt: the backoff, but never sooner than the receiver asked for,
-- and never longer than `max_wait` (a broken Retry-After must not stall delivery for days).
function delivery.next_delay(attempt, retry_after, policy, random)
	local delay = delivery.backoff(attempt, policy.base, policy.cap, random);
	if retry_after then delay = math_max(delay, retry_after); end
	return math_min(delay, policy.max_wait);
end

--- Whether an HTTP status means "stored durably".
function delivery.accepted(code)
	return type(code) == "number" and code >= 200 and code < 300;
end

--- Whether the receiver refused a request because it already accepted that webhook-id. The
-- contract has receivers reject a webhook-id seen within the replay window, and retries reuse
-- the webhook-id; so when an answer was lost (timeout, dropped connection) after the receiver
-- stored the batch, the retry is refused as a replay. The refusal comes after the signature was
-- checked, and a webhook-id only ever names this one batch: it proves the batch is stored.
function delivery.already_stored(code, body)
	return (code == 401 or code == 409) and type(body) == "string"
		and body:match('"error"%s*:%s*"replayed"') ~= nil;
end

--- The receiver's `error` and `message` from a refusal body (JSON), or nil. Only these two are
-- ever logged: the rest of a refusal (a schema report) can quote event content.
function delivery.refusal(body, json_decode)
	if type(body) ~= "string" or not json_decode then return nil; end
	local ok, parsed = pcall(json_decode, body);
	if not ok or type(parsed) ~= "table" then return nil; end
	local reason = type(parsed.error) == "string" and parsed.error:sub(1, 64) or nil;
	local message = type(parsed.message) == "string" and parsed.message:gsub("%s+", " "):sub(1, 200) or nil;
	return reason, message;
end

--- What to do with a batch after the receiver's answer (see README, "Refused batches"):
--   "delivered"    2xx, or a replay refusal (the batch is already stored);
--   "split"        413: the request is too big, smaller ones would pass;
--   "dead_letter"  400 or 415: this request will never be accepted as it is;
--   "retry"        anything else (401 signature/clock, 404, 408, 429, 5xx, no answer): the
--                  batch stays and goes again after a backoff.
function delivery.outcome(code, body)
	if delivery.accepted(code) or delivery.already_stored(code, body) then return "delivered"; end
	if code == 413 then return "split"; end
	if code == 400 or code == 415 then return "dead_letter"; end
	return "retry";
end

return delivery;
