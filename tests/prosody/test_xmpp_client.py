"""jitsictl.xmpp's WebSocket client against a real Prosody (tests/support/prosody_server.py).

Token logins go through the test stand-in for Jitsi's mod_auth_token
(tests/prosody/modules/mod_auth_test_jwt.lua); the conference answer comes from the jicofo
stand-in (mod_test_focus.lua). Everything else is Prosody's own MUC and WebSocket code.
"""
from __future__ import annotations

import asyncio
import re
import warnings

import jwt
import pytest

from jitsictl.xmpp import (MucJoinError, WebSocketXmppClient, XmppAuthError, XmppConnectError, XmppDisconnected,
                           XmppStanzaError)

pytestmark = pytest.mark.slow  # real Prosody

ROOM = "maths-3b@muc.meet.jitsi"
ALICE = {"context": {"user": {"id": "u-1001", "name": "Alice Martin"}, "group": "class-3b"}, "courseid": "MATH101"}


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 30))


def client(prosody, token=None, domain="meet.jitsi", timeout=5.0):
    return WebSocketXmppClient(prosody.websocket_url(room="maths-3b", token=token), domain, timeout=timeout)


def test_token_login_conference_request_join_rename_leave(prosody):
    async def scenario():
        alice = client(prosody, prosody.token(ALICE))
        jid = await alice.connect()
        assert "@meet.jitsi/" in jid                          # a random account, as Jitsi's token users get
        answer = await alice.conference_request(ROOM)
        assert answer["ready"] == "true" and answer["room"] == ROOM
        occupant = await alice.join(ROOM, "Alice")
        assert occupant.startswith(ROOM + "/") and len(occupant.split("/")[1]) == 8

        watcher = client(prosody, domain="guest.meet.jitsi")
        await watcher.connect()
        seen = []
        watcher.add_listener(lambda e: seen.append(e) if e.get("from") == occupant else None)
        await watcher.join(ROOM, "Watcher")
        await alice.send_presence(ROOM, "Alice Martin")
        await alice.leave(ROOM)
        await asyncio.sleep(0.2)
        await alice.close()
        await watcher.close()
        return seen

    seen = run(scenario())
    nicks = [(e.get("type"), _nick(e)) for e in seen]
    assert nicks == [(None, "Alice"), (None, "Alice Martin"), ("unavailable", None)]


def test_rejected_tokens_say_why(prosody):
    async def attempt(token):
        with pytest.raises(XmppAuthError) as info:
            await client(prosody, token).connect()
        return str(info.value)

    assert "token expired" in run(attempt(prosody.token(ALICE, ttl=-60)))
    assert "bad token signature" in run(attempt(prosody.token(ALICE, secret="another-secret-of-32-bytes-len!!")))
    assert "token required" in run(attempt(None))
    assert "token issuer not accepted" in run(attempt(prosody.token({**ALICE, "iss": "someone-else"})))
    assert "token not yet valid" in run(attempt(prosody.token({**ALICE, "nbf": 4102444800})))
    unsigned = jwt.encode({"iss": prosody.jwt_app_id, "exp": 4102444800, **ALICE}, key=None, algorithm="none")
    assert "malformed token" in run(attempt(unsigned))
    with warnings.catch_warnings():   # PyJWT warns that the test key is short for HS512: beside the point
        warnings.simplefilter("ignore")
        hs512 = jwt.encode({"iss": prosody.jwt_app_id, "exp": 4102444800, **ALICE}, prosody.jwt_secret,
                           algorithm="HS512")
    assert "unsupported token algorithm" in run(attempt(hs512))
    assert "malformed token" in run(attempt("not-a-jwt"))


def test_token_never_appears_in_error_messages(prosody):
    token = prosody.token(ALICE)
    url = f"ws://127.0.0.1:{prosody.http_port}/wrong-path?token={token}"
    with pytest.raises(XmppConnectError) as info:
        run(WebSocketXmppClient(url, "meet.jitsi").connect())
    assert "HTTP 404" in str(info.value) and token not in str(info.value)


def test_connection_refused_is_a_clear_error(prosody):
    prosody.stop()
    with pytest.raises(XmppConnectError, match="connection refused"):
        run(client(prosody).connect())


def test_plain_login_for_accounts(prosody):
    async def scenario():
        admin = client(prosody)
        jid = await admin.connect(user="admin", password="admin-test-password")
        await admin.close()
        with pytest.raises(XmppAuthError, match="user 'admin'"):
            await client(prosody).connect(user="admin", password="wrong")
        return jid

    assert run(scenario()).startswith("admin@meet.jitsi/")


def test_moderator_kicks_and_owner_destroys(prosody):
    async def scenario():
        teacher, student, other = (client(prosody, prosody.token(ALICE)) for _ in range(3))
        for c in (teacher, student, other):
            await c.connect()
        await teacher.join(ROOM, "Teacher")                  # first in: owner, moderator
        bob = await student.join(ROOM, "Bob")
        await other.join(ROOM, "Other")
        with pytest.raises(XmppStanzaError) as info:
            await other.kick(ROOM, bob)                        # a participant may not kick
        assert info.value.condition in ("not-allowed", "forbidden")
        await teacher.kick(ROOM, bob)
        await teacher.destroy(ROOM, "class over")
        for c in (teacher, student, other):
            await c.close()

    run(scenario())


def test_join_error_is_raised(prosody):
    async def scenario():
        first, second = client(prosody, prosody.token(ALICE)), client(prosody, prosody.token(ALICE))
        await first.connect()
        await second.connect()
        await first.join(ROOM, "A", resource="samename")
        with pytest.raises(MucJoinError, match="cannot join .*conflict"):
            await second.join(ROOM, "B", resource="samename")
        await first.drop()
        await second.drop()

    run(scenario())


def _nick(element):
    nick = element.find("{http://jabber.org/protocol/nick}nick")
    return nick.text if nick is not None else None


def test_server_shutdown_is_a_disconnection_error(prosody):
    # Prosody sends <stream:error><system-shutdown/> when it stops, but may exit before that
    # frame leaves its buffer: either way the client says the server ended the connection.
    async def scenario():
        alice = client(prosody, prosody.token(ALICE))
        await alice.connect()
        await alice.join(ROOM, "Alice")
        prosody.stop()
        with pytest.raises(XmppDisconnected, match="system-shutdown|closed by server"):
            await alice.send_presence(ROOM, "Alice again")

    run(scenario())


def _bosh_login(prosody, token):
    """Create a BOSH session with ?token= (as older Jitsi clients do) and try SASL ANONYMOUS."""
    import requests

    url = f"http://127.0.0.1:{prosody.http_port}/http-bind" + (f"?token={token}" if token else "")
    bosh = "xmlns='http://jabber.org/protocol/httpbind'"
    created = requests.post(url, data=(f"<body {bosh} rid='1000' to='meet.jitsi' wait='5' hold='1' ver='1.6' "
                                       "xmlns:xmpp='urn:xmpp:xbosh' xmpp:version='1.0'/>"), timeout=10)
    sid = re.search(r"sid='([^']+)'|sid=\"([^\"]+)\"", created.text)
    sid = sid.group(1) or sid.group(2)
    answer = requests.post(url, data=(f"<body {bosh} rid='1001' sid='{sid}'><auth "
                                      "xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='ANONYMOUS'/></body>"),
                           timeout=10)
    return answer.text


def test_bosh_token_login_like_older_jitsi_clients(prosody):
    assert "<success" in _bosh_login(prosody, prosody.token(ALICE))
    assert "token expired" in _bosh_login(prosody, prosody.token(ALICE, ttl=-60))
