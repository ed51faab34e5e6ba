-- The spool and the sender together, over an in-memory store with the archive API subset the
-- spool uses (support.memory_store) and a fake clock. Prosody's real storage (mod_storage_internal) and real HTTP are
-- exercised by the real-Prosody tests in tests/prosody/.
local support = require "spec.support";
local spool_lib = support.lib "spool";
local outbox_lib = support.lib "outbox";
local delivery = support.lib "delivery";
local event = support.lib "event";

local memory_store = support.memory_store;

local function fake_clock()
	local clock = { t = 1763798400, timers = {} };
	function clock.now() return clock.t; end
	function clock.schedule(delay, fn)
		local timer = { at = clock.t + delay, fn = fn };
		function timer.stop() timer.stopped = true; end
		clock.timers[#clock.timers + 1] = timer;
		return timer;
	end
	function clock.advance(seconds)
		local target = clock.t + seconds;
		while true do
			local next_timer;
			for _, timer in ipairs(clock.timers) do
				if not timer.stopped and timer.at <= target and (not next_timer or timer.at < next_timer.at) then
					next_timer = timer;
				end
			end
			if not next_timer then break; end
			clock.t = next_timer.at;
			next_timer.stopped = true;
			next_timer.fn();
		end
		clock.t = target;
	end
	return clock;
end

local counter = 0;
local function new_id() counter = counter + 1; return ("00000000-0000-4000-8000-%012d"):format(counter); end

-- One life of the server: a spool over `store` and an outbox posting into `requests`.
local function server(store, clock, options)
	options = options or {};
	local requests = {};
	local logs = {};
	local function log(level, fmt, ...) logs[#logs + 1] = { level = level, text = fmt:format(...) }; end
	local spool = spool_lib.new(store, {
		batch_size = options.batch_size or 3; max_queue = options.max_queue or 100;
		new_id = new_id; now = clock.now; log = log;
		wrap = function (text) return { text = text }; end;
		unwrap = function (value) return value.text; end;
	});
	local waiting = spool.load();
	local dead_store = options.dead_store or memory_store();
	local dead_letters = spool_lib.new(dead_store, {
		batch_size = options.max_dead_letters or 1000; max_queue = options.max_dead_letters or 1000;
		new_id = new_id; now = clock.now; log = log;
		wrap = function (text) return { text = text }; end;
		unwrap = function (value) return value.text; end;
	});
	dead_letters.load();
	local outbox = outbox_lib.new({
		spool = spool; delivery = delivery; batch_body = event.batch_body;
		dead_letters = dead_letters; json_decode = support.json.decode;
		flush_interval = options.flush_interval or 1; timeout = options.timeout or 10;
		policy = { base = 1, cap = 60, max_wait = 3600 };
		now = clock.now; schedule = clock.schedule;
		random = function () return 0; end; -- backoff = its lower bound, so timings are exact
		log = log;
		sign = function (msg_id, timestamp) return { ["webhook-id"] = msg_id, ["webhook-timestamp"] = tostring(timestamp) }; end;
		post = function (body, headers, done)
			local request = { body = body, headers = headers, done = done };
			function request.cancel() request.cancelled = true; end
			requests[#requests + 1] = request;
			return request.cancel;
		end;
	});
	outbox.resume();
	return { spool = spool, outbox = outbox, requests = requests, logs = logs, waiting = waiting,
		dead_letters = dead_letters, dead_store = dead_store };
end

local function ids_in(request)
	local ids = {};
	for _, e in ipairs(support.json.decode(request.body).events) do ids[#ids + 1] = e.id; end
	return table.concat(ids, ",");
end

local function add(s, first, last)
	for i = first, last do assert.is_true(s.outbox.add(('{"id":"e%d"}'):format(i))); end
end

describe("outbox batching", function ()
	it("sends a full batch at once and a partial one after the flush interval", function ()
		local clock, store = fake_clock(), memory_store();
		local s = server(store, clock, { batch_size = 3, flush_interval = 1 });
		add(s, 1, 3);
		assert.equal(1, #s.requests);
		assert.equal("e1,e2,e3", ids_in(s.requests[1]));
		s.requests[1].done(200);
		add(s, 4, 5);
		assert.equal(1, #s.requests);
		clock.advance(0.9);
		assert.equal(1, #s.requests);
		clock.advance(0.1);
		assert.equal(2, #s.requests);
		assert.equal("e4,e5", ids_in(s.requests[2]));
	end);

	it("lets a batch wait its flush interval even when the line is free (a request costs ~100 events)", function ()
		local clock, store = fake_clock(), memory_store();
		local s = server(store, clock, { batch_size = 10, flush_interval = 1 });
		add(s, 1, 1);
		clock.advance(1);
		assert.equal(1, #s.requests);
		clock.advance(0.5);
		add(s, 2, 3);
		s.requests[1].done(200);
		assert.equal(1, #s.requests, "sent before its flush interval");
		clock.advance(0.99);
		assert.equal(1, #s.requests);
		clock.advance(0.01);
		assert.equal(2, #s.requests);
		assert.equal("e2,e3", ids_in(s.requests[2]));
	end);

	it("sends a batch whose flush interval ran out during a request as soon as it is answered", function ()
		local clock, store = fake_clock(), memory_store();
		local s = server(store, clock, { batch_size = 10, flush_interval = 1, timeout = 10 });
		add(s, 1, 1);
		clock.advance(1);
		add(s, 2, 3);
		clock.advance(3); -- the receiver takes 3 s to answer; e2 and e3 have waited long enough
		assert.equal(1, #s.requests);
		add(s, 4, 4);
		s.requests[1].done(200);
		assert.equal(2, #s.requests);
		assert.equal("e2,e3,e4", ids_in(s.requests[2]));
		add(s, 5, 5); -- a new batch, with a flush interval of its own
		s.requests[2].done(200);
		assert.equal(2, #s.requests);
		clock.advance(1);
		assert.equal("e5", ids_in(s.requests[3]));
	end);

	it("fills whole batches while the receiver is away instead of one request per event", function ()
		local clock, store = fake_clock(), memory_store();
		local s = server(store, clock, { batch_size = 5, flush_interval = 1, timeout = 10 ^ 9 });
		local answered = 0;
		local function refuse_all()
			while answered < #s.requests do
				answered = answered + 1;
				s.requests[answered].done(503);
			end
		end
		for i = 1, 16 do -- one event every 2 s, far apart compared with the flush interval
			add(s, i, i);
			clock.advance(2);
			refuse_all();
		end
		for _, request in ipairs(s.requests) do assert.equal("e1", ids_in(request)); end -- only retries
		local sizes = {};
		for _, items in pairs(store.lists) do sizes[#sizes + 1] = #items; end
		table.sort(sizes);
		assert.same({ 1, 5, 5, 5 }, sizes); -- the first batch, then full ones
	end);

	it("keeps one request in flight and sends oldest first", function ()
		local clock, store = fake_clock(), memory_store();
		local s = server(store, clock, { batch_size = 2 });
		add(s, 1, 6);
		assert.equal(1, #s.requests);
		s.requests[1].done(204);
		assert.equal(2, #s.requests);
		assert.equal("e3,e4", ids_in(s.requests[2]));
		s.requests[2].done(200);
		assert.equal("e5,e6", ids_in(s.requests[3]));
		s.requests[3].done(200);
		assert.equal(0, s.spool.depth);
		assert.equal(0, store:total());
	end);
end);

describe("outbox delivery", function ()
	it("removes a batch from the spool only after a 2xx", function ()
		local clock, store = fake_clock(), memory_store();
		local s = server(store, clock);
		add(s, 1, 3);
		s.requests[1].done(500);
		assert.equal(3, store:total());
		assert.equal(3, s.spool.depth);
		clock.advance(0.5); -- first retry after base/2 = 0.5 s (jitter at its lower bound)
		assert.equal(2, #s.requests);
		s.requests[2].done(201);
		assert.equal(0, store:total());
	end);

	it("retries with the same webhook-id and body, re-signed, with growing delays", function ()
		local clock, store = fake_clock(), memory_store();
		local s = server(store, clock);
		add(s, 1, 3);
		local expected_gaps = { 0.5, 1, 2, 4, 8, 16, 30, 30 }; -- base 1 s, cap 60 s, lower bound
		for i, gap in ipairs(expected_gaps) do
			s.requests[i].done(i % 2 == 0 and 503 or 0);
			clock.advance(gap - 0.01);
			assert.equal(i, #s.requests, "retried too early");
			clock.advance(0.01);
			assert.equal(i + 1, #s.requests, "not retried in time");
			assert.equal(s.requests[1].headers["webhook-id"], s.requests[i + 1].headers["webhook-id"]);
			assert.equal(s.requests[1].body, s.requests[i + 1].body);
		end
		assert.not_equal(s.requests[1].headers["webhook-timestamp"], s.requests[#s.requests].headers["webhook-timestamp"]);
	end);

	it("counts a batch as delivered when the receiver says it already has it (lost answer)", function ()
		local clock, store = fake_clock(), memory_store();
		local s = server(store, clock, { timeout = 5 });
		add(s, 1, 3);
		clock.advance(5); -- the receiver stored it but its answer never came
		clock.advance(0.5);
		s.requests[2].done(401, nil, '{"error": "replayed", "message": "webhook-id was already accepted"}');
		assert.equal(0, store:total());
		add(s, 4, 6);
		assert.equal("e4,e5,e6", ids_in(s.requests[3]));
	end);

	it("keeps retrying after other refusals", function ()
		local clock, store = fake_clock(), memory_store();
		local s = server(store, clock);
		add(s, 1, 3);
		s.requests[1].done(401, nil, '{"error": "bad_signature"}');
		assert.equal(3, store:total());
		local last = s.logs[#s.logs];
		assert.equal("error", last.level); -- waiting will not fix a wrong secret: say it loudly
		assert.truthy(last.text:find('HTTP 401 {"error": "bad_signature"}', 1, true), last.text);
		assert.truthy(last.text:find("presence_logger_secret", 1, true), last.text);
		clock.advance(0.5);
		assert.equal(2, #s.requests);
	end);

	it("warns about an unreachable receiver once, then every tenth attempt", function ()
		local clock, store = fake_clock(), memory_store();
		local s = server(store, clock, { timeout = 10 ^ 9 });
		add(s, 1, 3);
		for i = 1, 20 do
			s.requests[i].done(0, nil, "connection refused");
			clock.advance(60); -- longer than any backoff here (cap 60 s, lower bound: 30 s)
			assert.equal(i + 1, #s.requests);
		end
		local warnings = {};
		for _, entry in ipairs(s.logs) do
			if entry.level == "warn" then warnings[#warnings + 1] = entry.text; end
		end
		assert.equal(3, #warnings); -- attempts 1, 10 and 20
		assert.truthy(warnings[1]:find("no answer: connection refused", 1, true), warnings[1]);
		assert.truthy(warnings[3]:find("attempt 20", 1, true), warnings[3]);
	end);

	it("waits as long as Retry-After asks", function ()
		local clock, store = fake_clock(), memory_store();
		local s = server(store, clock);
		add(s, 1, 3);
		s.requests[1].done(429, "30");
		clock.advance(29.9);
		assert.equal(1, #s.requests);
		clock.advance(0.1);
		assert.equal(2, #s.requests);
	end);

	it("gives up on an unanswered request after the timeout, cancels it and retries", function ()
		local clock, store = fake_clock(), memory_store();
		local s = server(store, clock, { timeout = 5 });
		add(s, 1, 3);
		clock.advance(4.9);
		assert.is_nil(s.requests[1].cancelled);
		clock.advance(0.1);
		assert.is_true(s.requests[1].cancelled);
		s.requests[1].done(200); -- a late answer of the abandoned request changes nothing
		assert.equal(3, store:total());
		clock.advance(0.5);
		assert.equal(2, #s.requests);
		assert.equal(s.requests[1].headers["webhook-id"], s.requests[2].headers["webhook-id"]);
	end);
end);

describe("spool bound", function ()
	it("refuses the newest events when full, keeps what it has, and says so with counts", function ()
		local clock, store = fake_clock(), memory_store();
		local s = server(store, clock, { batch_size = 2, max_queue = 4 });
		add(s, 1, 4);
		s.requests[1].done(503);
		local ok, err = s.outbox.add('{"id":"e5"}');
		assert.is_nil(ok);
		assert.equal("full", err);
		s.outbox.add('{"id":"e6"}');
		assert.equal(4, store:total());
		local errors = {};
		for _, entry in ipairs(s.logs) do
			if entry.level == "error" then errors[#errors + 1] = entry.text; end
		end
		assert.equal(1, #errors, "one loud report, not one per event");
		assert.truthy(errors[1]:find("4 events waiting", 1, true), errors[1]);
		assert.truthy(errors[1]:find("refused 1 new event", 1, true), errors[1]);
		assert.equal(2, s.outbox.refused);
		clock.advance(10); -- retry succeeds: room again
		s.requests[2].done(200);
		assert.is_true(s.outbox.add('{"id":"e7"}'));
		clock.advance(10);
		s.outbox.add('{"id":"e8"}');
		s.outbox.add('{"id":"e9"}'); -- full again: reported again, with the new count
		assert.truthy(s.logs[#s.logs].text:find("refused 2 new event(s) since the last report, 3 in total", 1, true),
			s.logs[#s.logs].text);
	end);
end);

describe("spool write errors", function ()
	it("lose only the event being written, say so, and start a new batch after it", function ()
		local clock, store = fake_clock(), memory_store();
		local append = store.append;
		function store:append(user, key, value)
			if value.text == '{"id":"e2"}' then return nil, "No space left on device"; end
			return append(self, user, key, value);
		end
		local s = server(store, clock, { batch_size = 10, flush_interval = 1 });
		assert.is_true(s.outbox.add('{"id":"e1"}'));
		assert.is_nil(s.outbox.add('{"id":"e2"}'));
		assert.truthy(s.logs[#s.logs].text:find("No space left on device", 1, true));
		assert.equal("error", s.logs[#s.logs].level);
		assert.is_true(s.outbox.add('{"id":"e3"}'));
		assert.equal(2, s.spool.segment_count(), "e3 did not go into the batch the failed write touched");
		clock.advance(1);
		assert.equal("e1", ids_in(s.requests[1]));
		s.requests[1].done(200);
		assert.equal("e3", ids_in(s.requests[2]));
	end);
end);

describe("spool across restarts", function ()
	it("sends what a previous life left, with the same webhook-ids, before new events", function ()
		local clock, store = fake_clock(), memory_store();
		local first = server(store, clock, { batch_size = 2 });
		add(first, 1, 5); -- two sealed batches and one open
		first.requests[1].done(503);
		local old_id = first.requests[1].headers["webhook-id"];
		first.outbox.stop(); -- the server goes away; the spool stays

		local second = server(store, clock, { batch_size = 2 });
		assert.equal(5, second.waiting);
		assert.equal(1, #second.requests);
		assert.equal(old_id, second.requests[1].headers["webhook-id"]);
		assert.equal("e1,e2", ids_in(second.requests[1]));
		add(second, 6, 7);
		second.requests[1].done(200);
		assert.equal("e3,e4", ids_in(second.requests[2]));
		second.requests[2].done(200);
		assert.equal("e5", ids_in(second.requests[3])); -- the old open batch, sealed by the restart
		second.requests[3].done(200);
		assert.equal("e6,e7", ids_in(second.requests[4]));
		second.requests[4].done(200);
		assert.equal(0, store:total());
	end);

	it("leaves a batch it cannot read on disk, says so, and sends the others", function ()
		local clock, store = fake_clock(), memory_store();
		local first = server(store, clock, { batch_size = 2 });
		first.outbox.stop();
		add(first, 1, 6); -- three sealed batches, nothing sent (stopped)
		local names = {};
		for name in store:users() do names[#names + 1] = name; end
		table.sort(names);
		store.broken[names[2]] = true;

		local second = server(store, clock, { batch_size = 2 });
		assert.equal(4, second.waiting);
		assert.truthy(second.logs[1].text:find(names[2], 1, true));
		assert.equal("error", second.logs[1].level);
		second.requests[1].done(200);
		assert.equal("e5,e6", ids_in(second.requests[2]));
		second.requests[2].done(200);
		assert.is_not_nil(store.lists[names[2]], "the unreadable batch must stay on disk");
	end);

	it("skips a batch that became unreadable after load", function ()
		local clock, store = fake_clock(), memory_store();
		local s = server(store, clock, { batch_size = 2, flush_interval = 100 });
		s.outbox.add('{"id":"e1"}');
		s.outbox.add('{"id":"e2"}');
		s.outbox.add('{"id":"e3"}');
		s.outbox.add('{"id":"e4"}');
		local second_batch;
		for name in store:users() do if name:match("^0+2%-") then second_batch = name; end end
		store.broken[second_batch] = true;
		s.requests[1].done(200);
		assert.equal(1, #s.requests); -- nothing readable left to send
		assert.equal(0, s.spool.depth);
		assert.equal("error", s.logs[#s.logs].level);
		s.outbox.add('{"id":"e5"}');
		s.outbox.add('{"id":"e6"}');
		assert.equal("e5,e6", ids_in(s.requests[2]));
	end);

	it("ignores answers that arrive after stop()", function ()
		local clock, store = fake_clock(), memory_store();
		local s = server(store, clock);
		add(s, 1, 3);
		s.outbox.stop();
		s.requests[1].done(200);
		assert.equal(3, store:total());
	end);
end);

describe("refused batches", function ()
	local function logged(s, level, needle)
		for _, entry in ipairs(s.logs) do
			if entry.level == level and entry.text:find(needle, 1, true) then return entry.text; end
		end
	end

	local function dead_events(s)
		local ids = {};
		for name in s.dead_store:users() do
			for _, value in s.dead_store:find(name) do ids[#ids + 1] = support.json.decode(value.text).id; end
		end
		table.sort(ids);
		return table.concat(ids, ",");
	end

	for _, refusal in ipairs({
		{ 400, '{"error": "schema", "message": "1 schema violation(s): nothing was stored", '
			.. '"errors": ["events[0].id: SECRET-CONTENT"]}', "schema", "1 schema violation(s)" },
		{ 415, '{"error": "unsupported_media_type", "message": "Content-Type must be application/json"}',
			"unsupported_media_type", "Content-Type must be" },
	}) do
		local code, body, reason, message = refusal[1], refusal[2], refusal[3], refusal[4];
		it(("moves a batch refused with %d to the dead-letter store and sends the next one"):format(code), function ()
			local clock, store = fake_clock(), memory_store();
			local s = server(store, clock, { batch_size = 3 });
			add(s, 1, 6);
			s.requests[1].done(code, nil, body);
			assert.equal(2, #s.requests, "the next batch goes at once");
			assert.equal("e4,e5,e6", ids_in(s.requests[2]));
			assert.equal("e1,e2,e3", dead_events(s));
			assert.equal(3, s.outbox.dead_letters);
			assert.equal(3, s.outbox.dead_lettered);
			s.requests[2].done(200);
			assert.equal(0, store:total());
			assert.equal(0, s.spool.depth);
			local text = logged(s, "error", "dead-letter store");
			assert.truthy(text, "an error names the dead-letter store");
			assert.truthy(text:find("3 event(s)", 1, true), text);
			assert.truthy(text:find(("HTTP %d %s: %s"):format(code, reason, message), 1, true), text);
			for _, entry in ipairs(s.logs) do
				assert.falsy(entry.text:find("SECRET-CONTENT", 1, true), "event content must not be logged: " .. entry.text);
				assert.falsy(entry.text:find('"id":"e', 1, true), "event content must not be logged: " .. entry.text);
			end
		end);
	end

	it("splits a batch refused with 413 into halves down to what fits, in order", function ()
		local clock, store = fake_clock(), memory_store();
		local s = server(store, clock, { batch_size = 5 });
		add(s, 1, 5);
		local too_large = '{"error": "batch_too_large", "message": "too many events"}';
		local function answer(i)
			local n = #support.json.decode(s.requests[i].body).events;
			s.requests[i].done(n > 2 and 413 or 200, nil, n > 2 and too_large or '{"accepted": 1}');
		end
		for i = 1, 5 do answer(i); end
		local sent = {};
		for _, request in ipairs(s.requests) do sent[#sent + 1] = ids_in(request); end
		assert.same({ "e1,e2,e3,e4,e5", "e1,e2", "e3,e4,e5", "e3", "e4,e5" }, sent);
		local whole = s.requests[1].headers["webhook-id"];
		assert.equal(whole .. "-1-2", s.requests[2].headers["webhook-id"]);
		assert.equal(whole .. "-4-5", s.requests[5].headers["webhook-id"]);
		assert.equal(0, store:total());
		assert.equal(5, s.outbox.delivered);
		assert.equal(0, s.outbox.dead_letters);
		assert.truthy(logged(s, "warn", "too large (HTTP 413 batch_too_large)"));
	end);

	it("keeps a split part's place when it fails for a passing reason", function ()
		local clock, store = fake_clock(), memory_store();
		local s = server(store, clock, { batch_size = 4 });
		add(s, 1, 4);
		s.requests[1].done(413, nil, '{"error": "too_large"}');
		s.requests[2].done(503);
		clock.advance(0.5);
		assert.equal("e1,e2", ids_in(s.requests[3]));
		assert.equal(s.requests[2].headers["webhook-id"], s.requests[3].headers["webhook-id"]);
		s.requests[3].done(200);
		assert.equal("e3,e4", ids_in(s.requests[4]));
		s.requests[4].done(200);
		assert.equal(0, store:total());
	end);

	it("dead-letters a single event still refused with 413 and sends the rest", function ()
		local clock, store = fake_clock(), memory_store();
		local s = server(store, clock, { batch_size = 2 });
		add(s, 1, 4);
		s.requests[1].done(413, nil, '{"error": "too_large", "message": "body exceeds 10 bytes"}');
		assert.equal("e1", ids_in(s.requests[2]));
		s.requests[2].done(413, nil, '{"error": "too_large", "message": "body exceeds 10 bytes"}');
		assert.equal("e2", ids_in(s.requests[3]));
		s.requests[3].done(200);
		assert.equal("e3,e4", ids_in(s.requests[4]));
		s.requests[4].done(200);
		assert.equal("e1", dead_events(s));
		assert.equal(1, s.outbox.dead_letters);
		assert.equal(0, store:total());
		assert.truthy(logged(s, "error", "HTTP 413 too_large: body exceeds 10 bytes"));
	end);

	it("keeps retrying a batch refused with 401 and says to check the secret and the clocks, not on every attempt", function ()
		local clock, store = fake_clock(), memory_store();
		local s = server(store, clock, { timeout = 10 ^ 9 });
		add(s, 1, 3);
		for i = 1, 20 do
			s.requests[i].done(401, nil, '{"error": "timestamp_too_old", "message": "clock skew"}');
			clock.advance(60);
			assert.equal(i + 1, #s.requests);
		end
		assert.equal(3, store:total());
		assert.equal(0, s.outbox.dead_letters);
		local errors = {};
		for _, entry in ipairs(s.logs) do
			if entry.level == "error" then errors[#errors + 1] = entry.text; end
		end
		assert.equal(3, #errors, "attempts 1, 10 and 20");
		assert.truthy(errors[1]:find("presence_logger_secret", 1, true), errors[1]);
		assert.truthy(errors[1]:find("clocks", 1, true), errors[1]);
		s.requests[21].done(200);
		assert.equal(0, store:total());
	end);

	it("re-queues dead letters, also after a restart, behind what waits", function ()
		local clock, store, dead_store = fake_clock(), memory_store(), memory_store();
		local first = server(store, clock, { batch_size = 2, dead_store = dead_store });
		add(first, 1, 4);
		first.requests[1].done(400, nil, '{"error": "bad_shape"}');
		first.requests[2].done(400, nil, '{"error": "bad_shape"}');
		assert.equal(4, first.outbox.dead_letters);
		first.outbox.stop();

		local second = server(store, clock, { batch_size = 2, dead_store = dead_store });
		assert.equal(4, second.outbox.dead_letters, "dead letters survive a restart");
		add(second, 5, 6);
		assert.equal(4, second.outbox.requeue_dead_letters());
		assert.equal(0, second.outbox.dead_letters);
		assert.equal(0, dead_store:total());
		second.requests[1].done(200);
		second.requests[2].done(200);
		second.requests[3].done(200);
		assert.same({ "e5,e6", "e1,e2", "e3,e4" },
			{ ids_in(second.requests[1]), ids_in(second.requests[2]), ids_in(second.requests[3]) });
		assert.equal(0, store:total());
		assert.truthy(logged(second, "info", "Re-queued 4 dead-lettered event(s) in 2 batch(es)"));
	end);

	it("drops refused events loudly when the dead-letter store is full", function ()
		local clock, store = fake_clock(), memory_store();
		local s = server(store, clock, { batch_size = 2, max_dead_letters = 3 });
		add(s, 1, 4);
		s.requests[1].done(400, nil, '{"error": "schema"}');
		s.requests[2].done(400, nil, '{"error": "schema"}');
		assert.equal(2, s.outbox.dead_letters);
		assert.equal(2, s.outbox.dead_letter_dropped);
		assert.truthy(logged(s, "error", "dead-letter store is full (2 events): they are DROPPED (2 dropped so far)"));
		assert.equal(0, store:total());
	end);
end);
