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

return support;
