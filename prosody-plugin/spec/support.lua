-- Helpers for the specs (loaded with require "spec.support" from prosody-plugin/).
local support = {};

--- A library of presence_logger/, loaded like Prosody's module:require does (a chunk returning
-- its table).
function support.lib(name)
	return dofile("presence_logger/" .. name .. ".lib.lua");
end

support.hashes = require "util.hashes";
support.encodings = require "util.encodings";
support.json = require "util.json";

--- A file's content, or its first `bytes` bytes.
function support.read_file(path, bytes)
	local f = assert(io.open(path, "rb"));
	local text = f:read(bytes or "*a");
	f:close();
	return text;
end

--- The worked signing example every implementation is tested against.
function support.signing_example()
	return support.json.decode(support.read_file("../schema/examples/signing.json"));
end

--- A compact JWT with this payload (the signature part is not checked by the module).
function support.jwt(payload_json)
	local function b64url(s)
		return (support.encodings.base64.encode(s):gsub("%+", "-"):gsub("/", "_"):gsub("=+$", ""));
	end
	return b64url('{"alg":"HS256","typ":"JWT"}') .. "." .. b64url(payload_json) .. ".c2lnbmF0dXJl";
end

--- An in-memory store with the archive API subset the spool uses (append, find, delete, users);
-- `broken[name] = true` makes a segment unreadable, as a file cut short by a crash would be.
function support.memory_store()
	local lists = {};
	local store = { lists = lists };
	function store:append(user, _, value)
		lists[user] = lists[user] or {};
		table.insert(lists[user], value);
		return #lists[user];
	end
	store.broken = {};
	function store:find(user)
		if store.broken[user] then return nil, "Error reading storage"; end
		local items, i = lists[user] or {}, 0;
		return function ()
			i = i + 1;
			if items[i] then return i, items[i]; end
		end;
	end
	function store:delete(user) lists[user] = nil; return true; end
	function store:users()
		local names = {};
		for name in pairs(lists) do names[#names + 1] = name; end
		local i = 0;
		return function () i = i + 1; return names[i]; end;
	end
	function store:total()
		local n = 0;
		for _, items in pairs(lists) do n = n + #items; end
		return n;
	end
	return store;
end

return support;
