-- The persistent, bounded spool of events waiting for the receiver.
--
-- Events are kept in segments, one file (segment_files.lib.lua) or one Prosody archive store
-- "user" per segment, named "<sequence>-<uuid>". A segment fills up to batch_size events and is
-- then sealed; a sealed segment is exactly one HTTP request, its uuid the request's webhook-id, so
-- a retry (even after a restart) sends the same id and the same body. Appending is O(1) (a line
-- appended to the segment's file) and a delivered segment is removed as a whole, so the spool
-- never rewrites its backlog, however long the receiver stays away.
--
-- Pure Lua over an injected store with the archive API subset we use:
--   append(user, nil, value, when) -> key | nil, err;  find(user) -> iterator(key, value);
--   delete(user) -> ok | nil, err;  users() -> iterator(user) (and its state);
--   close_segment() (optional): the segment being written is complete.
-- The store is segment_files.lib.lua (one file per segment) or a Prosody archive store;
-- `wrap(json) -> value` and `unwrap(value) -> json` adapt event text to what the store holds
-- (mod_storage_internal archives hold stanzas only).

local spool = {};

local SEGMENT_PATTERN = "^(%d+)%-(.+)$";

function spool.new(store, opts)
	local batch_size, max_queue = opts.batch_size, opts.max_queue;
	local wrap, unwrap, new_id, now = opts.wrap, opts.unwrap, opts.new_id, opts.now;
	local log = opts.log or function () end;

	local self = { depth = 0 };
	local segments = {}; -- oldest first; every one but possibly the last is sealed
	local next_seq = 1;
	local open; -- the segment new events go to, or nil

	-- The events of a segment, or nil and why it cannot be read (a file cut short by a crash in
	-- the middle of a write does not parse).
	local function read_segment(name)
		local ok, iter, err = pcall(store.find, store, name);
		if not ok then iter, err = nil, iter; end
		if not iter then return nil, err or "unreadable"; end
		local items = {};
		for _, value in iter do
			local ok, text = pcall(unwrap, value);
			if ok and type(text) == "string" then items[#items + 1] = text; end
		end
		return items;
	end

	--- Rebuild the index from the store (at module load). Returns the number of waiting events.
	function self.load()
		local names = {};
		if not store.users then return 0; end -- a driver that cannot list (memory) kept nothing
		-- users() returns an iterator with its state (lfs.dir): use it directly in the for.
		local listed, err = pcall(function ()
			for name in store:users() do names[#names + 1] = name; end
		end);
		if not listed then return nil, err; end
		local found = {};
		for _, name in ipairs(names) do
			local seq, id = name:match(SEGMENT_PATTERN);
			if seq then
				local items, err = read_segment(name);
				if not items then
					log("error", "Spooled batch %s cannot be read (%s); it is left in the %s store for inspection",
						name, tostring(err), opts.store_name or "spool");
				elseif #items > 0 then
					found[#found + 1] = { name = name, id = id, seq = tonumber(seq), count = #items, sealed = true };
				else
					store:delete(name);
				end
			end
		end
		table.sort(found, function (a, b) return a.seq < b.seq; end);
		for _, segment in ipairs(found) do
			segments[#segments + 1] = segment;
			self.depth = self.depth + segment.count;
			if segment.seq >= next_seq then next_seq = segment.seq + 1; end
		end
		return self.depth;
	end

	--- Append one encoded event. Returns true (and "sealed" when that filled a segment), or nil
	-- and "full" when the bound is reached (the newest event is refused: events already spooled
	-- are never dropped), or nil and a storage error.
	function self.push(json)
		if self.depth >= max_queue then return nil, "full"; end
		if not open then
			local id = new_id();
			open = { name = ("%012d-%s"):format(next_seq, id), id = id, seq = next_seq, count = 0, sealed = false };
			next_seq = next_seq + 1;
			segments[#segments + 1] = open;
		end
		-- Whole seconds: mod_storage_internal formats `when` with os.date.
		local called, ok, err = pcall(store.append, store, open.name, nil, wrap(json), math.floor(now()));
		if not called then ok, err = nil, ok; end
		if not ok then
			if err == "quota-limit" then return nil, "full"; end
			-- Whatever that write left behind, the next event starts a segment of its own.
			self.seal();
			return nil, err or "storage error";
		end
		open.count = open.count + 1;
		self.depth = self.depth + 1;
		if open.count >= batch_size then
			self.seal();
			return true, "sealed";
		end
		return true;
	end

	--- Close the open segment so it can be sent. Returns whether there was anything to seal.
	function self.seal()
		if not open then return false; end
		local segment = open;
		open = nil;
		if store.close_segment then store:close_segment(); end
		if segment.count == 0 then
			table.remove(segments);
			return false;
		end
		segment.sealed = true;
		return true;
	end

	--- The oldest sealed segment with its events (a list of JSON texts), or nil.
	function self.head()
		while true do
			local segment = segments[1];
			if not (segment and segment.sealed) then return nil; end
			if segment.events then return segment; end
			local items, err = read_segment(segment.name);
			if items then
				segment.events = items;
				return segment;
			end
			-- Never let one damaged batch hold up the others; keep it on disk for a human.
			log("error", "Spooled batch %s cannot be read (%s); skipping it, it stays in the %s store for inspection",
				segment.name, tostring(err), opts.store_name or "spool");
			table.remove(segments, 1);
			self.depth = self.depth - segment.count;
		end
	end

	--- Forget the oldest segment once the receiver has stored it.
	function self.remove_head()
		local segment = table.remove(segments, 1);
		if not segment then return; end
		self.depth = self.depth - segment.count;
		local ok, err = store:delete(segment.name);
		if not ok and err then return nil, err; end
		return true;
	end

	--- How many more events fit under the bound.
	function self.room() return math.max(0, max_queue - self.depth); end

	function self.segment_count() return #segments; end

	return self;
end

--- Move every segment of `from` (where an earlier version of the module spooled: a Prosody
-- archive store, read with `unwrap`) into `to`, under the same names, so that they keep their
-- webhook-ids and their order. A segment leaves `from` only once it is whole in `to`; one cut
-- short by a crash is written again from the start at the next load. Returns the number of events
-- moved, or nil and an error.
function spool.migrate(from, unwrap, to, log)
	if not from.users then return 0; end -- a driver that cannot list (memory) kept nothing
	local listed, names = pcall(function ()
		local found = {};
		for name in from:users() do found[#found + 1] = name; end
		return found;
	end);
	if not listed then return nil, names; end
	local moved = 0;
	for _, name in ipairs(names) do
		if name:match(SEGMENT_PATTERN) then
			local ok, iter, err = pcall(from.find, from, name);
			if not ok then iter, err = nil, iter; end
			if not iter then
				log("error", "Spooled batch %s cannot be read (%s); it is left where it was for inspection", name, tostring(err));
			else
				to:delete(name);
				local count = 0;
				for _, value in iter do
					local read, text = pcall(unwrap, value);
					if read and type(text) == "string" then
						local written, write_err = to:append(name, nil, text);
						if not written then
							if to.close_segment then to:close_segment(); end
							return nil, write_err;
						end
						count = count + 1;
					end
				end
				if to.close_segment then to:close_segment(); end
				from:delete(name);
				moved = moved + count;
			end
		end
	end
	return moved;
end

return spool;
