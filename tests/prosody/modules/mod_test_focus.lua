-- TEST-ONLY stand-in for jicofo behind Jitsi's `focus.<domain>` component.
--
-- In a Jitsi deployment `focus.<domain>` is a client_proxy component that relays the web client's
-- conference request IQ to jicofo (focus@auth.<domain>), which answers with a <conference/>
-- result carrying ready='true' (jitsi/jicofo, protocol http://jitsi.org/protocol/focus). Jicofo
-- cannot run here, so this component answers that request the same way, so that synthetic clients
-- (jitsictl's XMPP client, `jitsictl smoke`) can go through the web client's full join sequence.
-- Load it as:  Component "focus.meet.jitsi" "test_focus"
-- Option: test_focus_jid (the focus account the answer names; default focus@auth.<parent host>).

local st = require "util.stanza";

local xmlns_focus = "http://jitsi.org/protocol/focus";
local parent_host = module.host:gsub("^focus%.", "");
local focus_jid = module:get_option_string("test_focus_jid", "focus@auth." .. parent_host);

module:hook("iq-set/host/" .. xmlns_focus .. ":conference", function(event)
	local origin, stanza = event.origin, event.stanza;
	local request = stanza.tags[1];
	local room = request.attr.room;
	if not room or room == "" then
		origin.send(st.error_reply(stanza, "modify", "bad-request", "conference request without a room"));
		return true;
	end
	local reply = st.reply(stanza)
		:tag("conference", { xmlns = xmlns_focus, ready = "true", room = room, focusjid = focus_jid })
		:tag("property", { name = "authentication", value = "false" }):up();
	origin.send(reply);
	return true;
end);

module:log("info", "Test focus stand-in answering conference requests as %s", focus_jid);
