-- The spool's own files, on a temporary directory (LuaFileSystem, as in Prosody).
local support = require "spec.support";
local segment_files = support.lib "segment_files";
local spool_lib = support.lib "spool";
local lfs = require "lfs";

local function temp_dir()
	local base = os.tmpname(); -- a file; its name, suffixed, is a fresh directory
	os.remove(base);
	return base .. ".spool/muc%2emeet%2ejitsi/presence_logger_spool";
end

local function list(store, name)
	local items = {};
	for position, text in assert(store:find(name)) do items[position] = text; end
	return items;
end

local function write(path, text)
	local f = assert(io.open(path, "wb"));
	f:write(text);
	f:close();
end

describe("segment_files", function ()
	it("creates its directory and appends one line per event, readable at once", function ()
		local dir = temp_dir();
		local store = assert(segment_files.new(dir, lfs));
		assert.equal("directory", lfs.attributes(dir, "mode"));
		assert.is_true(store:append("000000000001-a", nil, '{"id":"e1"}'));
		assert.is_true(store:append("000000000001-a", nil, '{"id":"e2"}'));
		-- Flushed on every append: another reader sees both lines while the file is still open.
		assert.equal('{"id":"e1"}\n{"id":"e2"}\n', support.read_file(dir .. "/000000000001-a.jsonl"));
		assert.same({ '{"id":"e1"}', '{"id":"e2"}' }, list(store, "000000000001-a"));
	end);

	it("lists its segments, and nothing else in the directory", function ()
		local dir = temp_dir();
		local store = assert(segment_files.new(dir, lfs));
		store:append("000000000001-a", nil, "{}");
		store:append("000000000002-b", nil, "{}");
		write(dir .. "/000000000003-c.list", "item({});\n"); -- mod_storage_internal's, not ours
		local names = {};
		for name in store:users() do names[#names + 1] = name; end
		table.sort(names);
		assert.same({ "000000000001-a", "000000000002-b" }, names);
	end);

	it("skips a last line cut short and empty lines", function ()
		local dir = temp_dir();
		local store = assert(segment_files.new(dir, lfs));
		write(dir .. "/000000000001-a.jsonl", '{"id":"e1"}\n\n{"id":"e2"}\n{"id":"e3');
		assert.same({ '{"id":"e1"}', '{"id":"e2"}' }, list(store, "000000000001-a"));
	end);

	it("continues a segment after it was closed, and deletes it whole", function ()
		local dir = temp_dir();
		local store = assert(segment_files.new(dir, lfs));
		store:append("000000000001-a", nil, '{"id":"e1"}');
		store:close_segment();
		store:append("000000000001-a", nil, '{"id":"e2"}');
		assert.same({ '{"id":"e1"}', '{"id":"e2"}' }, list(store, "000000000001-a"));
		assert.is_true(store:delete("000000000001-a"));
		assert.is_nil(lfs.attributes(dir .. "/000000000001-a.jsonl"));
		assert.is_true(store:delete("000000000001-a"), "deleting what is gone is not an error");
		assert.is_nil(store:find("000000000001-a"));
	end);

	it("says why when its directory cannot be made", function ()
		local blocker = os.tmpname(); -- a file where the directory's parent should be
		local store, err = segment_files.new(blocker .. "/spool", lfs);
		assert.is_nil(store);
		assert.truthy(err:find(blocker, 1, true), err);
		os.remove(blocker);
	end);

	it("survives the spool's restart: what one life wrote, the next one sends", function ()
		local dir = temp_dir();
		local function life()
			local n = 0;
			return spool_lib.new(assert(segment_files.new(dir, lfs)), {
				batch_size = 2; max_queue = 100; now = os.time;
				new_id = function () n = n + 1; return "id" .. n; end;
				wrap = function (text) return text; end; unwrap = function (text) return text; end;
			});
		end
		local first = life();
		first.load();
		for i = 1, 3 do assert.is_true(first.push(('{"id":"e%d"}'):format(i))); end
		local second = life();
		assert.equal(3, second.load());
		assert.same({ '{"id":"e1"}', '{"id":"e2"}' }, second.head().events);
		second.remove_head();
		assert.same({ '{"id":"e3"}' }, second.head().events);
	end);
end);

describe("spool.migrate", function ()
	-- An earlier version's spool: a Prosody archive store holding stanzas (here: tables).
	local function archive(segments)
		local store = support.memory_store();
		for name, texts in pairs(segments) do
			for _, text in ipairs(texts) do store:append(name, nil, { text = text }); end
		end
		return store;
	end
	local function unwrap(value) return value.text; end
	local function quiet() end

	it("moves every segment under its name, so webhook-ids and order are kept, and empties the old store", function ()
		local old = archive({ ["000000000001-a"] = { "e1", "e2" }, ["000000000002-b"] = { "e3" }, other = { "x" } });
		local dir = temp_dir();
		local new = assert(segment_files.new(dir, lfs));
		assert.equal(3, spool_lib.migrate(old, unwrap, new, quiet));
		assert.same({ "e1", "e2" }, list(new, "000000000001-a"));
		assert.same({ "e3" }, list(new, "000000000002-b"));
		assert.is_nil(old.lists["000000000001-a"]);
		assert.same({ { text = "x" } }, old.lists.other, "not a spool segment: left alone");
		assert.equal(0, spool_lib.migrate(old, unwrap, new, quiet), "a second load finds nothing to move");
	end);

	it("writes a segment again from the start when a crash cut the move short", function ()
		local old = archive({ ["000000000001-a"] = { "e1", "e2" } });
		local new = assert(segment_files.new(temp_dir(), lfs));
		new:append("000000000001-a", nil, "e1"); -- the previous load died here
		new:close_segment();
		assert.equal(2, spool_lib.migrate(old, unwrap, new, quiet));
		assert.same({ "e1", "e2" }, list(new, "000000000001-a"));
	end);

	it("leaves a segment it cannot read where it is and says so", function ()
		local old = archive({ ["000000000001-a"] = { "e1" } });
		old.broken["000000000001-a"] = true;
		local logged = {};
		local new = assert(segment_files.new(temp_dir(), lfs));
		assert.equal(0, spool_lib.migrate(old, unwrap, new, function (level, fmt, ...)
			logged[#logged + 1] = level .. " " .. fmt:format(...);
		end));
		assert.is_not_nil(old.lists["000000000001-a"]);
		assert.truthy(logged[1]:find("^error Spooled batch 000000000001%-a cannot be read"), logged[1]);
	end);
end);
