-- Sends spooled events to the receiver: batches (a batch leaves when it holds batch_size events, or
-- flush_interval after its first event, or as soon as the previous request is answered), one
-- request at a time, oldest first; a batch is removed
-- from the spool only after a 2xx; failures wait an exponential backoff with jitter (at least what
-- Retry-After asks), then the same batch goes again with the same webhook-id.
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
--   counts delivered, refused and failures)

local outbox = {};

local REFUSAL_LOG_INTERVAL = 10; -- seconds between "spool full" reminders

-- What went wrong, for the log: the HTTP status and the start of the receiver's explanation, or
-- why there was no answer (net.http's reason: connection refused, certificate errors...).
local function describe(code, body)
	local detail = type(body) == "string" and body:gsub("%s+", " "):sub(1, 200) or "";
	if code == 0 then
		return "no answer" .. (detail ~= "" and (": " .. detail) or "");
	end
	return "HTTP " .. tostring(code) .. (detail ~= "" and (" " .. detail) or "");
end

function outbox.new(o)
	local delivery = o.delivery;
	local spool, log = o.spool, o.log;
	local self = { delivered = 0, refused = 0, failures = 0 };

	local flush_timer, retry_timer, in_flight;
	local attempt = 0; -- failed attempts of the current head batch
	local last_refusal_log, refused_since_log = nil, 0;
	local stopped = false;

	local function depth_changed()
		if o.on_depth then o.on_depth(spool.depth, self); end
	end

	local kick;

	local function finish(segment, code, retry_after_header, response_body)
		in_flight = nil;
		code = tonumber(code) or 0;
		if stopped then return; end
		local replayed = delivery.already_stored(code, response_body);
		if replayed then
			log("info", "Receiver already had batch %s (its earlier answer was lost); treating it as delivered", segment.id);
		end
		if replayed or delivery.accepted(code) then
			spool.remove_head();
			self.delivered = self.delivered + #segment.events;
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
				refused and " (check presence_logger_url and presence_logger_secret against the receiver)" or "");
		else
			log("debug", "Receiver did not accept batch %s (%s): attempt %d, retrying in %.1f s; %d event(s) spooled",
				segment.id, describe(code, response_body), attempt, delay, spool.depth);
		end
		retry_timer = o.schedule(delay, function ()
			retry_timer = nil;
			kick();
		end);
	end

	local function send(segment)
		local body = o.batch_body(segment.events);
		local headers = o.sign(segment.id, math.floor(o.now()), body);
		local state = { done = false };
		in_flight = state;
		local timeout_timer;
		local function done(code, retry_after_header, response_body)
			if state.done then return; end
			state.done = true;
			if timeout_timer then timeout_timer:stop(); end
			finish(segment, code, retry_after_header, response_body);
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
	-- open batch is left, it goes too: its events arrived while the previous request was out, and
	-- there is no reason to make them wait longer.
	function kick()
		if stopped or in_flight or retry_timer then return; end
		while true do
			local segment, err = spool.head();
			if not segment and spool.seal() then
				if flush_timer then flush_timer:stop(); flush_timer = nil; end
				segment, err = spool.head();
			end
			if not segment then
				if err then log("error", "Cannot read the spool: %s", tostring(err)); end
				return;
			end
			if #segment.events > 0 then return send(segment); end
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
			kick();
		elseif not flush_timer then
			flush_timer = o.schedule(o.flush_interval, function ()
				flush_timer = nil;
				-- While a request is out or a retry is pending, keep filling the open batch: a
				-- receiver that is away gets full batches later, not one request per event.
				if not (in_flight or retry_timer) then self.flush(); end
			end);
		end
		return true;
	end

	--- Send whatever is waiting now (seal the open batch).
	function self.flush()
		spool.seal();
		kick();
	end

	--- Start sending what an earlier life of the server left in the spool.
	function self.resume()
		depth_changed();
		kick();
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
