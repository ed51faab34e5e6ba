-- mod_presence_logger: reports who joins, leaves and renames themselves in Jitsi's MUC rooms to an
-- attendance receiver, as signed attendance events (schema/attendance-event.v1.json), through a
-- spool on disk, so that neither a slow receiver nor an absent one delays a join or loses an event.
--
-- Load it on the MUC component (and optionally on the breakout rooms component):
--   Component "muc.meet.jitsi" "muc"
--       modules_enabled = { "presence_logger" }
--       presence_logger_url = "http://logger:8080/v1/events"
--       presence_logger_secret = "whsec_..."
-- See README.md next to this file for every option, the storage note and Prosody 0.12 / 13.
--
-- This file is the Prosody glue; the logic lives in presence_logger/*.lib.lua (pure Lua, tested
-- with busted in spec/).

local jid_split = require "util.jid".split;
local st = require "util.stanza";
local json = require "util.json";
local hashes = require "util.hashes";
local encodings = require "util.encodings";
local time_now = require "util.time".now;
local random_bytes = require "util.random".bytes;
local datamanager = require "util.datamanager";
local http = require "net.http";
local usermanager = require "core.usermanager";
local storagemanager = require "core.storagemanager";
local lfs = require "lfs";
-- lua-cjson, which Jitsi's token modules need too, decodes token payloads ten times faster than
-- util.json; without it, util.json does the same job.
local has_cjson, cjson = pcall(require, "cjson.safe");

local config_lib = module:require "presence_logger/config";
local delivery = module:require "presence_logger/delivery";
local event_lib = module:require "presence_logger/event";
local identity_lib = module:require "presence_logger/identity";
local outbox_lib = module:require "presence_logger/outbox";
local roster_lib = module:require "presence_logger/roster";
local segment_files = module:require "presence_logger/segment_files";
local spool_lib = module:require "presence_logger/spool";

local base64 = encodings.base64;
local valid_utf8 = encodings.utf8 and encodings.utf8.valid;
local new_id = event_lib.uuid_generator(random_bytes);

local NICK_NS = "http://jabber.org/protocol/nick";
local SPOOL_STORE = "presence_logger_spool";
local DEAD_LETTER_STORE = "presence_logger_dead_letter";
local MAX_DEAD_LETTERS = 10000; -- events; the same bound as the Openfire plugin's dead-letter folder
local SPOOL_NS = "urn:jitsictl:presence-logger:event:1";
local HEALTHCHECK_PREFIX = "__jicofo-health-check";

if module:get_host_type() ~= "component" or module:get_option_string("component_module") ~= "muc" then
	error(("mod_presence_logger: load it on a MUC component (Component \"muc.example.org\" \"muc\"), not on %s")
		:format(module.host == "*" and "the global section" or module.host), 0);
end

-- The deployment's base domain (meet.jitsi for muc.meet.jitsi): system accounts live under it.
local domain = module:get_option_string("presence_logger_domain")
	or module:get_option_string("muc_mapper_domain_base")
	or module.host:match("^[^.]+%.(.+)$") or module.host;

local cfg = config_lib.read(function (name) return module:get_option(name); end, base64.decode, delivery.parse_secret, {
	skip_jids = { "focus@auth." .. domain, "jvb@auth." .. domain };
	skip_domains = { "recorder." .. domain, "hidden." .. domain };
}, identity_lib);

local skip_jids, skip_domains = {}, {};
for _, jid in ipairs(cfg.skip_jids) do skip_jids[jid] = true; end
for _, host in ipairs(cfg.skip_domains) do skip_domains[host] = true; end

-- Spool storage. By default the spool and the dead letters are files of the module's own
-- (presence_logger/segment_files.lib.lua) under Prosody's data directory,
-- <data_path>/<host>/presence_logger_spool/ and .../presence_logger_dead_letter/, whatever storage
-- the component has: docker-jitsi-meet gives MUC components `storage = "memory"`, which would lose
-- the spool on restart, and a storage driver costs several times more per event on the join path.
-- presence_logger_storage = "<driver>" keeps both in that driver's archive stores instead.
local store, dead_store, wrap, unwrap;
local function stanza_wrap(text) return st.stanza("event", { xmlns = SPOOL_NS }):text(text); end
local function stanza_unwrap(stanza) return stanza:get_text(); end

local function archive_stores(driver, driver_name)
	local spool_store, err = driver:open(SPOOL_STORE, "archive");
	if not spool_store then
		error(("mod_presence_logger: storage driver %q cannot open an archive store for the spool: %s"):format(driver_name, tostring(err)), 0);
	end
	local dead_letter_store;
	dead_letter_store, err = driver:open(DEAD_LETTER_STORE, "archive");
	if not dead_letter_store then
		error(("mod_presence_logger: storage driver %q cannot open an archive store for the dead letters: %s"):format(driver_name, tostring(err)), 0);
	end
	return spool_store, dead_letter_store;
end

if cfg.storage then
	local driver = storagemanager.load_driver(module.host, cfg.storage);
	if not driver then
		error(("mod_presence_logger: cannot load the storage driver %q for the spool (option presence_logger_storage)"):format(cfg.storage), 0);
	end
	store, dead_store = archive_stores(driver, cfg.storage);
	wrap, unwrap = stanza_wrap, stanza_unwrap;
	module:log("debug", "Spool store %s uses the %q storage driver", SPOOL_STORE, cfg.storage);
else
	local host_dir = prosody.paths.data .. "/" .. datamanager.path_encode(module.host);
	local err;
	store, err = segment_files.new(host_dir .. "/" .. SPOOL_STORE, lfs);
	if store then dead_store, err = segment_files.new(host_dir .. "/" .. DEAD_LETTER_STORE, lfs); end
	if not store or not dead_store then
		error("mod_presence_logger: cannot keep the spool under Prosody's data directory: " .. tostring(err), 0);
	end
	wrap, unwrap = function (text) return text; end, function (text) return text; end;

	-- Versions before the spool had files of its own kept it in the component's storage (a
	-- memory/null mapping replaced by "internal"): bring over whatever they left waiting.
	local driver, driver_name = storagemanager.get_driver(module.host, SPOOL_STORE);
	if driver_name == "memory" or driver_name == "null" then
		driver_name = "internal";
		driver = storagemanager.load_driver(module.host, driver_name);
	end
	if driver then
		local old_spool, old_dead = archive_stores(driver, driver_name);
		for _, move in ipairs({ { old_spool, store, SPOOL_STORE }, { old_dead, dead_store, DEAD_LETTER_STORE } }) do
			local moved, move_err = spool_lib.migrate(move[1], stanza_unwrap, move[2], function (...) module:log(...); end);
			if not moved then
				error(("mod_presence_logger: cannot move the %s left in %q storage to %s: %s"):format(
					move[3], driver_name, move[2].dir, tostring(move_err)), 0);
			elseif moved > 0 then
				module:log("info", "Moved %d event(s) an earlier version left in %q storage (%s) to %s",
					moved, driver_name, move[3], move[2].dir);
			end
		end
	end
end

local spool = spool_lib.new(store, {
	batch_size = cfg.batch_size;
	max_queue = cfg.max_queue;
	new_id = new_id;
	now = time_now;
	log = function (...) module:log(...); end;
	store_name = SPOOL_STORE;
	wrap = wrap;
	unwrap = unwrap;
});
local waiting, load_err = spool.load();
if not waiting then
	error("mod_presence_logger: cannot read the spool: " .. tostring(load_err), 0);
end

-- Batches the receiver refused for good (400, 415, a single event refused with 413), kept for
-- an admin: same format as the spool, one segment per refused request (README, "Refused batches").
local dead_letters = spool_lib.new(dead_store, {
	batch_size = MAX_DEAD_LETTERS;
	max_queue = MAX_DEAD_LETTERS;
	new_id = new_id;
	now = time_now;
	log = function (...) module:log(...); end;
	store_name = DEAD_LETTER_STORE;
	wrap = wrap;
	unwrap = unwrap;
});
local dead_waiting, dead_err = dead_letters.load();
if not dead_waiting then
	error("mod_presence_logger: cannot read the dead-letter store: " .. tostring(dead_err), 0);
end

-- Prosody statistics (statistics = "internal", OpenMetrics at /metrics): the spool's depth and
-- running totals, as prosody_mod_presence_logger__<name>{host=...}.
local update_metrics do
	local function gauge(name)
		local ok, set = pcall(module.measure, module, name, "amount");
		return ok and set or function () end;
	end
	local queue_depth, delivered, refused, failures, dead_depth, dead_dropped =
		gauge("queue_depth"), gauge("events_delivered"), gauge("events_refused"), gauge("failed_attempts"),
		gauge("dead_letters"), gauge("dead_letters_dropped");
	function update_metrics(depth, counts)
		queue_depth(depth);
		delivered(counts.delivered);
		refused(counts.refused);
		failures(counts.failures);
		dead_depth(counts.dead_letters);
		dead_dropped(counts.dead_letter_dropped);
	end
end

local sign_deps = { hmac_sha256 = hashes.hmac_sha256, base64_encode = base64.encode };

local outbox = outbox_lib.new({
	spool = spool;
	dead_letters = dead_letters;
	json_decode = json.decode;
	delivery = delivery;
	batch_body = event_lib.batch_body;
	flush_interval = cfg.flush_interval;
	timeout = cfg.timeout;
	policy = { base = 1, cap = cfg.max_retry_delay, max_wait = 3600 };
	now = time_now;
	-- Jitter from the system's CSPRNG: math.random may be unseeded (Lua 5.1/5.2), which would
	-- give every server the same "random" retry times.
	random = function ()
		local a, b, c = random_bytes(3):byte(1, 3);
		return (a * 65536 + b * 256 + c) / 16777216;
	end;
	log = function (...) module:log(...); end;
	on_depth = update_metrics;
	sign = function (msg_id, timestamp, body)
		return delivery.headers(sign_deps, cfg.key, msg_id, timestamp, body);
	end;
	schedule = function (delay, fn)
		return module:add_timer(delay, function () fn(); end);
	end;
	post = function (body, headers, done)
		local request = http.request(cfg.url, { method = "POST"; body = body; headers = headers; suppress_errors = true; suppress_url = true },
			function (response_body, code, response)
				local answered = code ~= 0 and type(response) == "table";
				local retry_after = answered and type(response.headers) == "table" and response.headers["retry-after"] or nil;
				-- Without an answer (code 0), net.http passes the reason instead of a body.
				local ok, err = pcall(done, code, retry_after, response_body);
				if not ok then module:log("error", "Handling the receiver's answer failed: %s", tostring(err)); end
			end);
		return function ()
			if request then http.destroy_request(request); end
		end;
	end;
});

local identities = identity_lib.new({ base64_decode = base64.decode, json_decode = has_cjson and cjson.decode or json.decode,
	valid_utf8 = valid_utf8 }, cfg.claims,
	{ paths = cfg.claim_paths, trusted_affiliations = cfg.trusted_affiliations });
local roster = roster_lib.new();
-- One server life, one instance: when the module runs on several MUC components of the same
-- process (main and breakout rooms), they share the instance and only the first to load
-- announces it with source.started. The table lives as long as any host has the module loaded.
local process = module:shared("/*/presence_logger/process");
process.hosts = process.hosts or {};
local first_in_process = next(process.hosts) == nil;
if first_in_process then process.instance = new_id(); end
process.hosts[module.host] = true;
local instance = process.instance;
local source = event_lib.fragment(event_lib.source(module.host, instance));

-- `room`, `occupant` and `identity` are event_lib fragments: written as JSON once, when they
-- change, rather than for every event that names them.
local function emit(kind, at, room, occupant, identity)
	local ok, text = pcall(event_lib.encode_event, {
		id = new_id(); type = kind; time = at; source = source;
		room = room; occupant = occupant; identity = identity;
	});
	if not ok then
		module:log("error", "Could not encode a %s event: %s", kind, tostring(text));
		return;
	end
	outbox.add(text);
end

-- System occupants ------------------------------------------------------------------------------

local get_jid_role = usermanager.get_jid_role; -- Prosody 13 roles; 0.12 has only is_admin
local ADMIN_ROLES = { ["prosody:admin"] = true, ["prosody:operator"] = true };

local function is_admin_on(bare_jid, host)
	if not prosody.hosts[host] then return false; end
	if get_jid_role then
		local ok, role = pcall(get_jid_role, bare_jid, host);
		return ok and type(role) == "table" and ADMIN_ROLES[role.name] or false;
	end
	local ok, admin = pcall(usermanager.is_admin, bare_jid, host);
	return ok and admin or false;
end

-- Server admins of this component or of the account's own host are operators, not attendees.
local function is_system(bare_jid)
	if skip_jids[bare_jid] then return true; end
	local _, host = jid_split(bare_jid);
	if host and skip_domains[host] then return true; end
	return is_admin_on(bare_jid, module.host) or (host ~= nil and is_admin_on(bare_jid, host));
end

local function is_healthcheck(room)
	return room.jid:sub(1, #HEALTHCHECK_PREFIX) == HEALTHCHECK_PREFIX;
end

-- Rooms ---------------------------------------------------------------------------------------

-- Breakout rooms: Jitsi's mod_muc_breakout_rooms lists each breakout room's JID in its main
-- room's _data.breakout_rooms; the main room lives on the main MUC component.
local main_muc = module:get_option_string("presence_logger_main_muc", "muc." .. domain);
local parents = {}; -- breakout room JID -> main room JID

local function parent_of(room)
	if main_muc == module.host then return nil; end
	local known = parents[room.jid];
	if known then return known; end
	local host = prosody.hosts[main_muc];
	local muc = host and host.modules and host.modules.muc;
	if not muc then return nil; end
	local rooms = muc.live_rooms and muc.live_rooms() or muc.each_room and muc.each_room(true);
	if not rooms then return nil; end
	for main_room in rooms do
		local data = main_room._data;
		if data and type(data.breakout_rooms) == "table" and data.breakout_rooms[room.jid] ~= nil then
			parents[room.jid] = main_room.jid;
			return main_room.jid;
		end
	end
	return nil;
end

local room_fragments = setmetatable({}, { __mode = "k" }); -- room -> { meeting_id, parent_jid, fragment }

local function room_object(room)
	local meeting_id = room._data and room._data.meetingId;
	if type(meeting_id) ~= "string" then meeting_id = nil; end
	local parent_jid = parent_of(room);
	local known = room_fragments[room];
	if known and known.meeting_id == meeting_id and known.parent_jid == parent_jid then return known.fragment; end
	local fragment = event_lib.fragment(event_lib.room(room.jid, meeting_id, parent_jid));
	room_fragments[room] = { meeting_id = meeting_id, parent_jid = parent_jid, fragment = fragment };
	return fragment;
end

local announced = {}; -- room JID -> true once room.created was sent
-- Rooms between muc-room-pre-create and muc-room-created. Prosody fires the first occupant's
-- muc-occupant-joined before muc-room-created (and mod_muc_meeting_id assigns the meeting id in
-- muc-room-created), so that join waits here and is sent right after the room.
local creating = setmetatable({}, { __mode = "k" });

local function announce(room, at)
	if announced[room.jid] then return; end
	announced[room.jid] = true;
	emit("room.created", at, room_object(room));
end

-- Occupants -----------------------------------------------------------------------------------

-- The occupant as of now, kept in its roster entry until its nick or role changes (`renamed`
-- events, which also carry the previous nick, get one of their own).
local function occupant_object(entry, previous_nick)
	if entry.fragment and not previous_nick then return entry.fragment; end
	local fragment = event_lib.fragment(event_lib.occupant({
		occupant_jid = entry.occupant_jid; user_jid = entry.user_jid; bare_jid = entry.bare_jid;
		nick = entry.nick; previous_nick = previous_nick; role = entry.role;
	}));
	if not previous_nick then entry.fragment = fragment; end
	return fragment;
end

local function send_joined(room, entry, at)
	emit("occupant.joined", at, room_object(room), occupant_object(entry), entry.identity);
end

-- A session's identity, as a fragment: its token is decoded once, not at every join (breakout
-- rooms, a rejoin after a network change). Keyed by the session and checked against its token,
-- which a client may replace.
local session_identities = setmetatable({}, { __mode = "k" }); -- session -> { token, fragment }

local function identity_of(session)
	if type(session) ~= "table" then return nil; end
	local token = session.auth_token;
	local known = session_identities[session];
	if known and known.token == token then return known.fragment; end
	local fragment = event_lib.fragment(event_lib.identity(identities.from_session(session)));
	session_identities[session] = { token = token, fragment = fragment };
	return fragment;
end

local function session_of(event, user_jid)
	local origin = event.origin;
	if origin and origin.type == "c2s" then return origin; end
	return prosody.full_sessions[user_jid] or origin;
end

local function on_joined(event)
	local room, occupant = event.room, event.occupant;
	if is_healthcheck(room) or is_system(occupant.bare_jid) then return; end
	local stanza = event.stanza or occupant:get_presence();
	local user_jid = stanza and stanza.attr.from or occupant.jid;
	local entry = {
		room_jid = room.jid;
		occupant_jid = occupant.nick;
		user_jid = user_jid;
		bare_jid = occupant.bare_jid;
		nick = stanza and stanza:get_child_text("nick", NICK_NS) or nil;
		role = occupant.role;
		identity = identity_of(session_of(event, user_jid));
	};
	roster.track(entry);
	local at = time_now();
	local pending = creating[room];
	if pending and not announced[room.jid] then
		pending[#pending + 1] = { entry = entry, at = at };
		return;
	end
	announce(room, at);
	send_joined(room, entry, at);
end

local function on_left(event)
	local entry = roster.forget(event.occupant.nick);
	if not entry then return; end -- never reported (system occupant, health check, before load)
	emit("occupant.left", time_now(), room_object(event.room), occupant_object(entry), entry.identity);
end

local function on_presence(event)
	local occupant, stanza = event.occupant, event.stanza;
	if not occupant or not stanza or stanza.attr.type == "unavailable" then return; end
	local entry = roster.get(occupant.nick);
	if not entry then return; end
	local role, nick = entry.role, entry.nick;
	if occupant.role then entry.role = occupant.role; end
	local previous = roster.rename(occupant.nick, stanza:get_child_text("nick", NICK_NS));
	if entry.role ~= role or entry.nick ~= nick then entry.fragment = nil; end
	if previous then
		emit("occupant.renamed", time_now(), room_object(event.room), occupant_object(entry, previous), entry.identity);
	end
end

local function on_room_pre_create(event)
	if not is_healthcheck(event.room) then creating[event.room] = {}; end
end

local function on_room_created(event)
	local room = event.room;
	if is_healthcheck(room) then return; end
	local pending = creating[room];
	creating[room] = nil;
	announce(room, pending and pending[1] and pending[1].at or time_now());
	for _, join in ipairs(pending or {}) do
		send_joined(room, join.entry, join.at);
	end
end

local function on_room_destroyed(event)
	local room = event.room;
	creating[room] = nil;
	roster.forget_room(room.jid); -- leaves were already reported by muc-occupant-left
	if announced[room.jid] then
		emit("room.destroyed", time_now(), room_object(room));
		announced[room.jid] = nil;
	end
	parents[room.jid] = nil;
end

-- A failure in here must never break a join or a leave, and MUC hooks must never return a value
-- (a truthy return from a pre- event would abort the action).
local function guarded(name, handler)
	return function (event)
		local ok, err = pcall(handler, event);
		if not ok then module:log("error", "%s handler failed: %s", name, tostring(err)); end
	end
end

-- Low priority: run after Jitsi's own handlers (mod_muc_meeting_id sets the meeting id at 0),
-- except for leaves: mod_muc destroys an emptied room from its muc-occupant-left handler at -1,
-- and the last leave must be reported before the room's destruction.
module:hook("muc-room-pre-create", guarded("muc-room-pre-create", on_room_pre_create), -100);
module:hook("muc-room-created", guarded("muc-room-created", on_room_created), -100);
module:hook("muc-occupant-joined", guarded("muc-occupant-joined", on_joined), -100);
module:hook("muc-occupant-left", guarded("muc-occupant-left", on_left), 1);
module:hook("muc-broadcast-presence", guarded("muc-broadcast-presence", on_presence), -100);
module:hook("muc-room-destroyed", guarded("muc-room-destroyed", on_room_destroyed), -100);

-- Rooms that already exist: none at server start, some when the module is reloaded. With a new
-- instance (source.started tells the receiver to close what the old one left open) they and
-- their occupants are announced as of now; with the instance of a module still loaded on another
-- component the receiver already knows them, so they are only remembered, for their leaves.
local function adopt_existing_rooms(announce_them)
	local muc = prosody.hosts[module.host] and prosody.hosts[module.host].modules.muc;
	local rooms = muc and (muc.live_rooms and muc.live_rooms() or muc.each_room and muc.each_room(true));
	if not rooms then return; end
	local at, adopted = time_now(), 0;
	for room in rooms do
		if not is_healthcheck(room) then
			if announce_them then announce(room, at); else announced[room.jid] = true; end
			for _, occupant in room:each_occupant() do
				if not is_system(occupant.bare_jid) then
					local presence = occupant:get_presence();
					local entry = {
						room_jid = room.jid; occupant_jid = occupant.nick; user_jid = occupant.jid;
						bare_jid = occupant.bare_jid; role = occupant.role;
						nick = presence and presence:get_child_text("nick", NICK_NS) or nil;
						identity = identity_of(prosody.full_sessions[occupant.jid]);
					};
					roster.track(entry);
					adopted = adopted + 1;
					if announce_them then send_joined(room, entry, at); end
				end
			end
		end
	end
	if adopted > 0 then
		module:log("info", "Took over %d occupant(s) already in rooms%s", adopted, announce_them and " (reported as joining now)" or "");
	end
end

if first_in_process then emit("source.started", time_now()); end
guarded("adopting existing rooms", adopt_existing_rooms)(first_in_process);
module:log("info", "Reporting attendance on %s to %s (instance %s); %d event(s) from before were waiting in the spool",
	module.host, (cfg.url:gsub("//[^/@]*@", "//")), instance, waiting);
if dead_waiting > 0 then
	module:log("warn", "%d event(s) the receiver refused for good wait in the dead-letter store %s (README, \"Refused batches\")",
		dead_waiting, DEAD_LETTER_STORE);
end

-- presence_logger_requeue_dead_letters = true moves the dead letters back into the spool: at
-- load while it is true, and at a config reload (prosodyctl reload) that turns it on. Edge,
-- not level: a batch refused again must not loop between the two stores on every reload.
local REQUEUE_OPTION = "presence_logger_requeue_dead_letters";
local requeue_was_on = false;
local function requeue_if_asked()
	local on = module:get_option_boolean(REQUEUE_OPTION, false);
	if on and not requeue_was_on then
		module:log("info", "%s is on: re-queueing the dead letters", REQUEUE_OPTION);
		outbox.requeue_dead_letters();
	end
	requeue_was_on = on;
end
module:hook_global("config-reloaded", function ()
	local ok, err = pcall(requeue_if_asked);
	if not ok then module:log("error", "Re-queueing the dead letters failed: %s", tostring(err)); end
end);

-- Start sending once the server loop runs (the module may load during startup).
module:add_timer(0, function ()
	outbox.resume();
	requeue_if_asked();
end);

function module.unload()
	outbox.stop();
	if store.close_segment then store:close_segment(); end
	process.hosts[module.host] = nil; -- the last host to unload ends this instance
end
