-- Contract-v1 attendance events (schema/attendance-event.v1.json): building them and writing
-- them as JSON. Pure Lua (5.1 to 5.4), no Prosody API, so busted can test it directly.
--
-- We write JSON ourselves rather than with util.json so that fields come out in the contract's
-- order (readable logs, a body that can be compared byte for byte with schema/examples) and so
-- that strings are clipped to the schema's length limits: an event the receiver would reject
-- would otherwise block the spool behind it.

local event = {};

local string_format, string_byte = string.format, string.byte;
local math_floor, math_huge = math.floor, math.huge;
local table_concat, table_sort = table.concat, table.sort;

-- Contract field order. Keys not listed here (future fields, claim names) follow, sorted.
local FIELD_ORDER = {
	"id", "type", "time", "source", "room", "occupant", "identity",
	"server", "host", "instance",
	"jid", "user_id", "name", "meeting_id", "parent_jid",
	"email", "issuer", "moderator", "group", "claims",
	"occupant_jid", "user_jid", "bare_jid", "nick", "previous_nick", "role",
};
local field_rank, field_key = {}, {}; -- name -> rank, and its JSON text with the colon
for i, key in ipairs(FIELD_ORDER) do field_rank[key] = i; field_key[i] = '"' .. key .. '":'; end

local escapes = { ['"'] = '\\"', ["\\"] = "\\\\", ["\b"] = "\\b", ["\f"] = "\\f",
	["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t" };
local function escape_char(c)
	return escapes[c] or string_format("\\u%04x", string_byte(c));
end

local encode_value;

local function encode_string(s)
	if not s:find('[%c"\\]') then return '"' .. s .. '"'; end -- the usual case: nothing to escape
	return '"' .. s:gsub('[%c"\\]', escape_char) .. '"';
end

local function encode_number(n)
	if n ~= n or n == math_huge or n == -math_huge then
		error("JSON cannot represent " .. tostring(n));
	end
	if n == math_floor(n) and n > -2^53 and n < 2^53 then
		return string_format("%d", n);
	end
	return string_format("%.17g", n);
end

-- A table is written as an array when it has a [1] (or is the special empty array), else as an
-- object; the contract's only array is the batch's `events`.
local EMPTY_ARRAY = setmetatable({}, { __newindex = function () error("read-only") end });
event.EMPTY_ARRAY = EMPTY_ARRAY;

-- Marks a part already written as JSON (see event.fragment).
local FRAGMENT = {};

local function encode_table(t)
	if getmetatable(t) == FRAGMENT then return t.json; end
	if t[1] ~= nil or t == EMPTY_ARRAY then
		local parts = {};
		for i = 1, #t do parts[i] = encode_value(t[i]); end
		return "[" .. table_concat(parts, ",") .. "]";
	end
	-- Contract fields sort by their rank (numbers: no comparison function to call), others after
	-- them by name.
	local ranks, others, n = {}, nil, 0;
	for k in pairs(t) do
		local rank = field_rank[k];
		if rank then
			n = n + 1;
			ranks[n] = rank;
		elseif type(k) == "string" then
			others = others or {};
			others[#others + 1] = k;
		else
			error("JSON object keys must be strings, got " .. type(k));
		end
	end
	table_sort(ranks);
	local parts = {};
	for i = 1, n do
		local rank = ranks[i];
		parts[i] = field_key[rank] .. encode_value(t[FIELD_ORDER[rank]]);
	end
	if others then
		table_sort(others);
		for _, k in ipairs(others) do
			n = n + 1;
			parts[n] = encode_string(k) .. ":" .. encode_value(t[k]);
		end
	end
	return "{" .. table_concat(parts, ",") .. "}";
end

function encode_value(v)
	local kind = type(v);
	if kind == "string" then return encode_string(v);
	elseif kind == "number" then return encode_number(v);
	elseif kind == "boolean" then return v and "true" or "false";
	elseif kind == "table" then return encode_table(v);
	end
	error("JSON cannot represent a " .. kind);
end

--- JSON text of a value (tables of strings, numbers, booleans), objects in contract order.
function event.encode(value)
	return encode_value(value);
end

--- `value` written as JSON once, to stand in its place in the values given to encode: for the
-- parts events repeat (the source, a room, an occupant and its identity from join to leave), so
-- that each event only writes what is new in it. nil stays nil.
function event.fragment(value)
	if value == nil then return nil; end
	return setmetatable({ json = encode_value(value) }, FRAGMENT);
end

local UUID_FORMAT = "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x";

--- A generator of random (version 4) UUIDs, drawing `random_bytes` (the system's CSPRNG) for 64
-- of them at a time.
function event.uuid_generator(random_bytes)
	local pool, at = "", 1;
	return function ()
		if at > #pool then pool, at = random_bytes(16 * 64), 1; end
		local b1, b2, b3, b4, b5, b6, b7, b8, b9, b10, b11, b12, b13, b14, b15, b16 = pool:byte(at, at + 15);
		at = at + 16;
		-- RFC 4122: version 4 in the high nibble of byte 7, variant 10xx in byte 9.
		return UUID_FORMAT:format(b1, b2, b3, b4, b5, b6, b7 % 16 + 64, b8, b9 % 64 + 128, b10,
			b11, b12, b13, b14, b15, b16);
	end;
end

--- RFC 3339 UTC with exactly three decimals, e.g. 2025-11-22T08:00:00.000Z.
-- `seconds` is a Unix time with a fraction (util.time.now()).
local last_second, last_second_text; -- events come in bursts: os.date once per second
function event.format_time(seconds)
	local whole = math_floor(seconds);
	local millis = math_floor((seconds - whole) * 1000);
	if millis > 999 then millis = 999; end
	if whole ~= last_second then
		last_second, last_second_text = whole, os.date("!%Y-%m-%dT%H:%M:%S", whole);
	end
	return last_second_text .. string_format(".%03dZ", millis);
end

--- `s` cut to at most `max` characters (UTF-8 code points, as JSON Schema counts them).
function event.clip(s, max)
	if #s <= max then return s; end
	local count = 0;
	for i = 1, #s do
		local b = string_byte(s, i);
		if b < 0x80 or b >= 0xC0 then -- first byte of a character
			count = count + 1;
			if count > max then return s:sub(1, i - 1); end
		end
	end
	return s;
end

-- Schema limits (schema/attendance-event.v1.json).
local MAX_NAME, MAX_EMAIL, MAX_ISSUER, MAX_CLAIMS = 1023, 320, 255, 64;
event.MAX_CLAIMS = MAX_CLAIMS;

local function text(s, max)
	if type(s) == "number" then s = encode_number(s); end
	if type(s) ~= "string" then return nil; end
	return event.clip(s, max or MAX_NAME);
end
event.text = text;

--- The part of a JID before the first "@" (a room's name as users see it in the URL).
local function node_of(jid)
	return jid:match("^([^@/]*)@") or jid;
end

--- `room` object: jid, name, and meeting_id / parent_jid when known.
function event.room(room_jid, meeting_id, parent_jid)
	local name = node_of(room_jid);
	return {
		jid = room_jid;
		name = name ~= "" and text(name) or room_jid;
		meeting_id = meeting_id ~= "" and text(meeting_id) or nil;
		parent_jid = parent_jid;
	};
end

local ROLES = { moderator = true, participant = true, visitor = true, none = true };

--- `occupant` object. `info` carries occupant_jid, user_jid, bare_jid, nick, previous_nick, role.
function event.occupant(info)
	return {
		occupant_jid = info.occupant_jid;
		user_jid = info.user_jid;
		bare_jid = info.bare_jid;
		nick = text(info.nick);
		previous_nick = text(info.previous_nick);
		role = ROLES[info.role] and info.role or nil;
	};
end

--- `identity` object from already extracted token facts, or nil when there is nothing to say.
-- `facts`: user_id, name, email, issuer, moderator, group, claims (table of name -> scalar).
function event.identity(facts)
	if not facts then return nil; end
	local identity = {
		user_id = text(facts.user_id);
		name = text(facts.name);
		issuer = text(facts.issuer, MAX_ISSUER);
		group = text(facts.group);
	};
	if identity.user_id == "" then identity.user_id = nil; end
	local email = text(facts.email, MAX_EMAIL);
	if email and email:match("^[^@%s]+@[^@%s]+$") then identity.email = email; end
	if facts.moderator ~= nil then
		identity.moderator = facts.moderator == true or facts.moderator == "true";
	end
	if facts.claims and next(facts.claims) then
		local claims, count = {}, 0;
		local names = {};
		for name in pairs(facts.claims) do names[#names + 1] = name; end
		table_sort(names);
		for _, name in ipairs(names) do
			local value = facts.claims[name];
			local kind = type(value);
			if count < MAX_CLAIMS and (kind == "boolean" or kind == "string"
				or (kind == "number" and value == value and value ~= math_huge and value ~= -math_huge)) then
				claims[name] = value;
				count = count + 1;
			end
		end
		if count > 0 then identity.claims = claims; end
	end
	if next(identity) == nil then return nil; end
	return identity;
end

--- A complete event table. `fields`: id, type, time (seconds), source, room?, occupant?, identity?
function event.build(fields)
	local kind = fields.type;
	local e = {
		id = fields.id;
		type = kind;
		time = event.format_time(fields.time);
		source = fields.source;
	};
	if kind ~= "source.started" then
		e.room = fields.room;
	end
	if kind:match("^occupant%.") then
		e.occupant = fields.occupant;
		e.identity = fields.identity;
	end
	return e;
end

--- The JSON text of the event build(fields) makes, byte for byte what encode would write of it,
-- without building the table first: the module's way of writing an event, its parts (source,
-- room, occupant, identity) given as fragments.
function event.encode_event(fields)
	local kind = fields.type;
	local parts = { '{"id":', encode_string(fields.id), ',"type":', encode_string(kind),
		',"time":"', event.format_time(fields.time), '","source":', encode_value(fields.source) };
	if kind ~= "source.started" and fields.room ~= nil then
		parts[#parts + 1] = ',"room":';
		parts[#parts + 1] = encode_value(fields.room);
	end
	if kind:find("occupant.", 1, true) == 1 then
		if fields.occupant ~= nil then
			parts[#parts + 1] = ',"occupant":';
			parts[#parts + 1] = encode_value(fields.occupant);
		end
		if fields.identity ~= nil then
			parts[#parts + 1] = ',"identity":';
			parts[#parts + 1] = encode_value(fields.identity);
		end
	end
	parts[#parts + 1] = "}";
	return table_concat(parts);
end

--- The `source` object.
function event.source(host, instance)
	return { server = "prosody", host = host, instance = instance };
end

--- A batch body from already encoded events (strings), as the receiver expects it.
function event.batch_body(encoded_events)
	return '{"events":[' .. table_concat(encoded_events, ",") .. "]}";
end

return event;
