-- The spool's own storage, used unless presence_logger_storage names a Prosody storage driver:
-- one file per segment in a directory under Prosody's data path, one event (its JSON text) per
-- line. It answers the archive-store calls spool.lib.lua makes (append, find, delete, users), so a
-- driver can take its place, but an event costs one write(2) here where mod_storage_internal
-- copies a stanza, serialises it as Lua and opens, seeks, writes and closes the file.
--
-- Durability is mod_storage_internal's: every event is handed to the OS before append returns,
-- so a crash of Prosody (kill -9) loses nothing; nothing is fsync'ed, so a power cut can lose the
-- last moments. A line without its newline is not an event (a write cut short by a full disk):
-- find skips it, and the spool starts a new segment after a failed write.
--
-- Pure Lua over `io`, `os.remove` and LuaFileSystem (a Prosody dependency), so busted runs it on
-- a temporary directory.

local segment_files = {};

local EXTENSION = ".jsonl";
local NAME_PATTERN = "^(.+)%.jsonl$";

--- A store over directory `dir` (created if missing, with its parents). `lfs` is LuaFileSystem.
function segment_files.new(dir, lfs)
	for slash in dir:gmatch("()/") do
		if slash > 1 then lfs.mkdir(dir:sub(1, slash - 1)); end
	end
	lfs.mkdir(dir);
	if lfs.attributes(dir, "mode") ~= "directory" then
		return nil, "cannot create the directory " .. dir;
	end

	local store = { dir = dir };
	local open_name, open_file; -- the segment being written, kept open between events

	local function path(name) return dir .. "/" .. name .. EXTENSION; end

	--- Close the file of the segment being written (it is complete; the next append opens anew).
	function store:close_segment()
		if open_file then open_file:close(); end
		open_name, open_file = nil, nil;
	end

	function store:append(name, _, text)
		if open_name ~= name then
			self:close_segment();
			local file, err = io.open(path(name), "ab");
			if not file then return nil, err; end
			open_name, open_file = name, file;
		end
		local ok, err = open_file:write(text, "\n");
		if ok then ok, err = open_file:flush(); end
		if not ok then
			self:close_segment();
			return nil, err or "write failed";
		end
		return true;
	end

	--- The events of a segment, as an iterator of (position, JSON text), or nil and why.
	function store:find(name)
		local file, err = io.open(path(name), "rb");
		if not file then return nil, err; end
		local text, read_err = file:read("a");
		file:close();
		if not text then return nil, read_err; end
		-- Plain finds, not a pattern: a segment is tens of kilobytes, read once per request.
		local from, position = 1, 0;
		return function ()
			while true do
				local newline = text:find("\n", from, true);
				if not newline then return nil; end
				local line = text:sub(from, newline - 1);
				from = newline + 1;
				if line ~= "" then
					position = position + 1;
					return position, line;
				end
			end
		end;
	end

	function store:delete(name)
		if open_name == name then self:close_segment(); end
		local ok, err = os.remove(path(name));
		if not ok and lfs.attributes(path(name), "mode") then return nil, err; end
		return true;
	end

	--- The names of the segments on disk, in no particular order.
	function store:users()
		local names = {};
		for entry in lfs.dir(dir) do
			local name = entry:match(NAME_PATTERN);
			if name then names[#names + 1] = name; end
		end
		local i = 0;
		return function ()
			i = i + 1;
			return names[i];
		end;
	end

	return store;
end

return segment_files;
