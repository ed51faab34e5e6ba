-- TEST-ONLY stand-in for the part of Jitsi's breakout rooms module that links a breakout room to
-- its main room (jitsi/jitsi-meet resources/prosody-plugins/mod_muc_breakout_rooms.lua, which
-- cannot be installed here). Jitsi records every breakout room it creates in its main room's
-- `_data.breakout_rooms` (breakout room JID -> subject) and sets `_data.breakout_rooms_active`;
-- the attendance module finds a breakout room's main room there.
--
-- Jitsi's module creates breakout rooms with random names when a moderator asks by message; the
-- scenario vectors name theirs, so this stand-in takes an IQ instead, sent before the join:
--   <iq type='set' to='breakout.meet.jitsi'>
--     <breakout-room xmlns='urn:jitsictl:test:breakout' room='ROOM@breakout.meet.jitsi'
--                    main-room='MAIN@muc.meet.jitsi' subject='Breakout room 1'/>
--   </iq>
-- Load it on the breakout component: modules_enabled = { "test_breakout_link" }.

local st = require "util.stanza";
local jid_host = require "util.jid".host;

local xmlns = "urn:jitsictl:test:breakout";

module:hook("iq-set/host/" .. xmlns .. ":breakout-room", function(event)
	local origin, stanza = event.origin, event.stanza;
	local request = stanza.tags[1];
	local room_jid, main_jid = request.attr.room, request.attr["main-room"];
	if not room_jid or jid_host(room_jid) ~= module.host or not main_jid then
		origin.send(st.error_reply(stanza, "modify", "bad-request", "need room@" .. module.host .. " and main-room"));
		return true;
	end
	local main_host = prosody.hosts[jid_host(main_jid)];
	local muc = main_host and main_host.modules and main_host.modules.muc;
	local main_room = muc and muc.get_room_from_jid(main_jid);
	if not main_room then
		origin.send(st.error_reply(stanza, "cancel", "item-not-found", "no main room " .. main_jid));
		return true;
	end
	main_room._data.breakout_rooms = main_room._data.breakout_rooms or {};
	main_room._data.breakout_rooms[room_jid] = request.attr.subject or "Breakout room";
	main_room._data.breakout_rooms_active = true;
	origin.send(st.reply(stanza));
	return true;
end);
