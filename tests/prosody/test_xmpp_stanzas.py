"""Unit tests of jitsictl.xmpp's stanza building and reading (no server needed)."""
from __future__ import annotations

import subprocess
import sys

from jitsictl.xmpp import stanzas as s
from jitsictl.xmpp.client import redact_token


def test_join_presence_names_its_namespaces_and_escapes_the_nick():
    frame = s.muc_presence("r@muc.meet.jitsi/abcd1234", "O'Brien \"D\" <b>&amp;</b> 🎓", join=True)
    element = s.parse(frame)
    assert element.tag == "{jabber:client}presence"
    assert element.find("{http://jabber.org/protocol/muc}x") is not None
    assert s.nick_of(element) == "O'Brien \"D\" <b>&amp;</b> 🎓"


def test_rename_presence_has_no_muc_join_element():
    element = s.parse(s.muc_presence("r@muc.meet.jitsi/abcd1234", "New", join=False))
    assert element.find("{http://jabber.org/protocol/muc}x") is None and s.nick_of(element) == "New"


def test_conference_request_matches_jitsi_shape():
    element = s.parse(s.conference_iq("id1", "focus.meet.jitsi", "r@muc.meet.jitsi", "uid", {"rtcstatsEnabled": "false"}))
    conference = element.find("{http://jitsi.org/protocol/focus}conference")
    assert element.get("to") == "focus.meet.jitsi" and element.get("type") == "set"
    assert conference.get("room") == "r@muc.meet.jitsi" and conference.get("machine-uid") == "uid"
    assert conference.find("{http://jitsi.org/protocol/focus}property").get("name") == "rtcstatsEnabled"


def test_kick_and_destroy_iqs():
    kick = s.parse(s.kick_iq("k", "r@muc.meet.jitsi", "abcd1234", "bye"))
    item = kick.find("{http://jabber.org/protocol/muc#admin}query/{http://jabber.org/protocol/muc#admin}item")
    assert item.attrib == {"nick": "abcd1234", "role": "none"}
    destroy = s.parse(s.destroy_iq("d", "r@muc.meet.jitsi"))
    assert destroy.find("{http://jabber.org/protocol/muc#owner}query/{http://jabber.org/protocol/muc#owner}destroy") is not None


def test_reading_errors_and_status_codes():
    error = s.parse("<presence xmlns='jabber:client' type='error' from='r@m/x'><error type='cancel'>"
                    "<conflict xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>"
                    "<text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>nick in use</text></error></presence>")
    assert str(s.stanza_error(error)) == "conflict (nick in use)"
    presence = s.parse("<presence xmlns='jabber:client'><x xmlns='http://jabber.org/protocol/muc#user'>"
                       "<item role='moderator' affiliation='owner'/><status code='110'/><status code='201'/></x></presence>")
    assert s.muc_status_codes(presence) == {110, 201} and s.muc_item(presence)["role"] == "moderator"


def test_stream_errors_are_read():
    error = s.parse("<stream:error xmlns:stream='http://etherx.jabber.org/streams'>"
                    "<system-shutdown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>"
                    "<text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>Received SIGTERM</text></stream:error>")
    assert s.stream_error_text(error) == "system-shutdown (Received SIGTERM)"


def test_endpoint_ids_are_random_8_hex():
    ids = {s.endpoint_id() for _ in range(50)}
    assert len(ids) == 50 and all(len(i) == 8 and int(i, 16) >= 0 for i in ids)


def test_token_is_redacted_from_urls():
    assert redact_token("ws://h/xmpp-websocket?room=r&token=abc.def.ghi") == "ws://h/xmpp-websocket?room=r&token=…"


def test_importing_the_package_stays_light():
    code = "import sys, jitsictl.xmpp; print(sorted({'websockets', 'asyncio'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
