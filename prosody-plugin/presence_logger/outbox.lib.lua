-- Sends spooled events to the receiver: batches (a batch leaves when it holds batch_size events, or
-- flush_interval after its first event; while a request is out or a retry waits, the open batch
-- keeps filling and leaves when that request is answered), one request at a time, oldest first;
-- a batch is removed from the spool only after a 2xx; failures wait an exponential backoff with
-- jitter (at least what Retry-After asks), then the same batch goes again with the same webhook-id.
--
-- Each request costs Prosody far more than an event (connection, HTTP parsing, signing: about a
-- hundred events' worth), so a batch is not sent before its time just because the line is free.
--
-- Pure Lua: everything that touches Prosody is injected, so busted drives it with a fake clock.
--   spool          presence_logger/spool.lib.lua instance
--   delivery       presence_logger/delivery.lib.lua;  batch_body(events) -> JSON text
--   post(body, headers, done) -> cancel()    done(code, retry_after_header, response_body) once;
--                                            code 0 = no HTTP answer, the body then says why
--   schedule(seconds, fn) -> handle with :stop()
--   now() -> Unix seconds;  random() -> [0, 1)
--   sign(msg_id, timestamp, body) -> headers
--   flush_interval, timeout (seconds), policy = { base, cap, max_wait } (seconds)
--   log(level, format, ...);  on_depth(depth, outbox) (optional, for statistics: the outbox
--   counts delivered, refused, failures, dead_lettered, dead_letter_dropped and dead_letters)
--   dead_letters   a second spool instance: where batches the receiver refuses permanently go
--   json_decode    reads the receiver's refusal ({"error": ..., "message": ...})
--
-- Refusals (README "Refused batches"): 413 splits the request in halves down to single events
-- (the parts go in order, each under its own webhook-id "<batch id>-<first>-<last>"); 400/415
-- and a single event still refused with 413 move to the dead-letter store and the next batch
-- goes; 401 (other than "replayed") keeps the batch and retries, as waiting for the admin to
-- fix the secret or the clock is the only cure.

local outbox = {};

local REFUSAL_LOG_INTERVAL = 10; -- seconds between "spool full" reminders
local RETRY_HINTS = {
	[401] = " (check that presence_logger_secret is the receiver's secret and that both clocks are right)";
};
local DEFAULT_4XX_HINT = " (check presence_logger_url and presence_logger_secret against the receiver)";

-- What went wrong, for the log: the HTTP status and the start of the receiver's explanation, or
-- why there was no answer (net.http's reason: connection refused, certificate errors...).
local function describe(code, body)
	local detail = type(body) == "string" and body:gsub("%s+", " "):sub(1, 200) or "";
	if code == 0 then
		return "no answer" .. (detail ~= "" and (": " .. detail) or "");
	end
	return "HTTP " .. tostring(code) .. (detail ~= "" and (" " .. detail) or "");
end

-- A permanent refusal, for the log: the status and the receiver's reason and message only.
local function describe_refusal(code, reason, message)
	if not reason and not message then return ("HTTP %d, no reason given"):format(code); end
	return ("HTTP %d %s: %s"):format(code, reason or "?", message or "no message");
end

function outbox.new(o)
	local delivery = o.delivery;
	local spool, log = o.spool, o.log;
	local dead = o.dead_letters;
	local self = { delivered = 0, refused = 0, failures = 0, dead_lettered = 0, dead_letter_dropped = 0,
		dead_letters = dead.depth };

	local flush_timer, retry_timer, in_flight;
	local flush_due = false; -- the open batch's flush interval is up, but a request was out
	local attempt = 0; -- failed attempts of the current head batch
	local last_refusal_log, refused_since_log = nil, 0;
	local stopped = false;
	-- After a 413 on the head batch: the ranges of it still to send, { first, last } in order.
	local parts, parts_of;

	local function depth_changed()
		self.dead_letters = dead.depth;
		if o.on_depth then o.on_depth(spool.depth, self); end
	end

	local function slice(events, first, last)
		local out = {};
		for i = first, last do out[#out + 1] = events[i]; end
		return out;
	end

	-- The head batch's range [first, last] is done with (stored or dead-lettered): the batch
	-- leaves the spool once all its ranges are.
	local function range_done()
		if parts then
			table.remove(parts, 1);
			if #parts > 0 then return; end
			parts, parts_of = nil, nil;
		end
		spool.remove_head();
	end

	-- Keep the events the receiver will never accept as they are, for an admin to look at and
	-- re-queue; only the receiver's reason and message are logged, never event content.
	local function dead_letter(segment, events, code, reason, message)
		local n = #events;
		if dead.room() < n then
			self.dead_letter_dropped = self.dead_letter_dropped + n;
			log("error", "Receiver refused %d event(s) of batch %s for good (%s) and the dead-letter store is full "
				.. "(%d events): they are DROPPED (%d dropped so far). Inspect and re-queue the dead letters (README, \"Refused batches\")",
				n, segment.id, describe_refusal(code, reason, message), dead.depth, self.dead_letter_dropped);
			return;
		end
		dead.seal();
		for _, json in ipairs(events) do
			local ok, err = dead.push(json);
			if not ok then
				log("error", "Could not write to the dead-letter store (%s); %d refused event(s) of batch %s are lost",
					tostring(err), n, segment.id);
				break;
			end
		end
		dead.seal();
		self.dead_lettered = self.dead_lettered + n;
		log("error", "Receiver refused %d event(s) of batch %s for good (%s): moved them to the dead-letter store "
			.. "(%d event(s) there now) and going on with the next batch. See README, \"Refused batches\", to inspect and re-queue them",
			n, segment.id, describe_refusal(code, reason, message), dead.depth);
	end

	local kick;

	local function finish(segment, first, last, code, retry_after_header, response_body)
		in_flight = nil;
		code = tonumber(code) or 0;
		if stopped then return; end
		local outcome = delivery.outcome(code, response_body);
		local count = last - first + 1;
		if outcome == "split" or outcome == "dead_letter" then
			local reason, message = delivery.refusal(response_body, o.json_decode);
			attempt = 0;
			if outcome == "split" and count > 1 then
				local middle = first + math.floor(count / 2) - 1;
				if not parts then parts, parts_of = { { first, last } }, segment; end
				table.remove(parts, 1);
				table.insert(parts, 1, { middle + 1, last });
				table.insert(parts, 1, { first, middle });
				log("warn", "Receiver says batch %s is too large (HTTP 413 %s): sending its events %d-%d as %d-%d and %d-%d",
					segment.id, reason or "?", first, last, first, middle, middle + 1, last);
			else
				dead_letter(segment, slice(segment.events, first, last), code, reason, message);
				range_done();
			end
			depth_changed();
			return kick();
		end
		if outcome == "delivered" then
			if delivery.already_stored(code, response_body) then
				log("info", "Receiver already had batch %s (its earlier answer was lost); treating it as delivered", segment.id);
			end
			range_done();
			self.delivered = self.delivered + count;
			if attempt > 0 then
				log("info", "Receiver is back: batch %s delivered after %d failed attempt(s); %d event(s) still spooled",
					segment.id, attempt, spool.depth);
			else
				log("debug", "Delivered batch %s (%d events); %d event(s) still spooled", segment.id, #segment.events, spool.depth);
			end
			attempt = 0;
			depth_changed();
			return kick();
		end
		attempt = attempt + 1;
		self.failures = self.failures + 1;
		depth_changed();
		local retry_after = delivery.retry_after(retry_after_header, o.now());
		local delay = delivery.next_delay(attempt, retry_after, o.policy, o.random);
		-- A 4xx other than 408/429 will not go away by waiting: a wrong URL or secret, or a
		-- receiver that disagrees with the contract. Say so as an error; the batch stays spooled.
		local refused = code >= 400 and code < 500 and code ~= 408 and code ~= 429;
		local level = refused and "error" or "warn";
		if attempt == 1 or attempt % 10 == 0 then
			log(level, "Receiver did not accept batch %s (%s): attempt %d, retrying in %.1f s; %d event(s) spooled%s",
				segment.id, describe(code, response_body), attempt, delay, spool.depth,
				refused and (RETRY_HINTS[code] or DEFAULT_4XX_HINT) or "");
		else
			log("debug", "Receiver did not accept batch %s (%s): attempt %d, retrying in %.1f s; %d event(s) spooled",
				segment.id, describe(code, response_body), attempt, delay, spool.depth);
		end
		retry_timer = o.schedule(delay, function ()
			retry_timer = nil;
			kick();
		end);
	end

	local function send(segment, first, last)
		local whole = first == 1 and last == #segment.events;
		local body = o.batch_body(whole and segment.events or slice(segment.events, first, last));
		local msg_id = whole and segment.id or ("%s-%d-%d"):format(segment.id, first, last);
		local headers = o.sign(msg_id, math.floor(o.now()), body);
		local state = { done = false };
		in_flight = state;
		local timeout_timer;
		local function done(code, retry_after_header, response_body)
			if state.done then return; end
			state.done = true;
			if timeout_timer then timeout_timer:stop(); end
			finish(segment, first, last, code, retry_after_header, response_body);
		end
		state.cancel = o.post(body, headers, done);
		if not state.done then
			timeout_timer = o.schedule(o.timeout, function ()
				if state.done then return; end
				log("debug", "Batch %s: no answer within %.1f s, cancelling the request", segment.id, o.timeout);
				if state.cancel then pcall(state.cancel); end
				done(0, nil, ("timed out after %g s"):format(o.timeout));
			end);
		end
	end

	-- Send the oldest waiting batch, if nothing is in flight or waiting for a retry. When only the
	-- open batch is left, it goes too if its flush interval is up (it passed while the previous
	-- request was out).
	function kick()
		if stopped or in_flight or retry_timer then return; end
		while true do
			local segment, err = spool.head();
			if not segment and flush_due then
				flush_due = false;
				if spool.seal() then segment, err = spool.head(); end
			end
			if not segment then
				if err then log("error", "Cannot read the spool: %s", tostring(err)); end
				return;
			end
			if #segment.events > 0 then
				if parts and parts_of ~= segment then parts, parts_of = nil, nil; end
				if parts then return send(segment, parts[1][1], parts[1][2]); end
				return send(segment, 1, #segment.events);
			end
			spool.remove_head(); -- an empty or unreadable segment: nothing to send
			depth_changed();
		end
	end

	--- Spool one encoded event and arrange for it to be sent.
	function self.add(json)
		local ok, err = spool.push(json);
		if not ok then
			if err == "full" then
				self.refused = self.refused + 1;
				refused_since_log = refused_since_log + 1;
				local t = o.now();
				if not last_refusal_log or t - last_refusal_log >= REFUSAL_LOG_INTERVAL then
					log("error", "Spool is full (%d events waiting, presence_logger_max_queue reached): "
						.. "refused %d new event(s) since the last report, %d in total. Attendance is being lost until the receiver is reachable again",
						spool.depth, refused_since_log, self.refused);
					last_refusal_log, refused_since_log = t, 0;
				end
			else
				self.refused = self.refused + 1;
				log("error", "Could not write an event to the spool (%s); it is lost", tostring(err));
			end
			depth_changed();
			return nil, err;
		end
		depth_changed();
		if err == "sealed" then
			if flush_timer then flush_timer:stop(); flush_timer = nil; end
			flush_due = false;
			kick();
		elseif not flush_timer and not flush_due then
			flush_timer = o.schedule(o.flush_interval, function ()
				flush_timer = nil;
				-- While a request is out or a retry is pending, keep filling the open batch (a
				-- receiver that is away gets full batches later, not one request per event); it
				-- goes as soon as the line is free.
				if in_flight or retry_timer then
					flush_due = true;
				else
					self.flush();
				end
			end);
		end
		return true;
	end

	--- Send whatever is waiting now (seal the open batch).
	function self.flush()
		if flush_timer then flush_timer:stop(); flush_timer = nil; end
		flush_due = false;
		spool.seal();
		kick();
	end

	--- Start sending what an earlier life of the server left in the spool.
	function self.resume()
		depth_changed();
		kick();
	end

	--- Move every dead-lettered batch back into the spool (oldest first), to be sent again after
	-- what is already waiting. Stops when the spool has no room. Returns the number of events moved.
	function self.requeue_dead_letters()
		local moved, batches = 0, 0;
		while true do
			local segment = dead.head();
			if not segment then break; end
			if spool.room() < #segment.events then
				log("error", "Cannot re-queue the dead letters: the spool has room for %d more event(s), the next dead batch has %d; "
					.. "%d event(s) stay in the dead-letter store", spool.room(), #segment.events, dead.depth);
				break;
			end
			spool.seal(); -- a re-queued batch goes as it was, not mixed with new events
			for _, json in ipairs(segment.events) do
				local ok, err = spool.push(json);
				if not ok then
					log("error", "Could not write a re-queued dead letter to the spool (%s)", tostring(err));
					spool.seal();
					depth_changed();
					return moved;
				end
			end
			spool.seal();
			dead.remove_head();
			moved, batches = moved + #segment.events, batches + 1;
		end
		log("info", "Re-queued %d dead-lettered event(s) in %d batch(es); %d event(s) left in the dead-letter store",
			moved, batches, dead.depth);
		depth_changed();
		kick();
		return moved;
	end

	--- Stop timers and ignore late answers (module unload). The spool stays on disk.
	function self.stop()
		stopped = true;
		if flush_timer then flush_timer:stop(); end
		if retry_timer then retry_timer:stop(); end
		if in_flight and in_flight.cancel and not in_flight.done then
			in_flight.done = true;
			pcall(in_flight.cancel);
		end
	end

	function self.busy() return in_flight ~= nil, retry_timer ~= nil; end

	return self;
end

return outbox;
