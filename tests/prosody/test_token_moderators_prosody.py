"""Classroom roles from the LMS's token (prosody-plugin/mod_token_moderators.lua) in a real
Prosody, with real XMPP clients joining the way Jitsi's web client does (WebSocket, ?token=).

Tokens are shaped exactly like Moodle mod_jitsi's (ARCHITECTURE.md §10,
SergioComeron/moodle-mod_jitsi classes/local/session.php): v4.3 and later put
`context.user.moderator` and `context.user.affiliation` beside the top-level `moderator`, older
versions only the top-level one. Jitsi's token authentication is the harness's stand-in
(tests/prosody/modules/mod_auth_test_jwt.lua), which fills the same session fields.

As in docker-jitsi-meet, jicofo's focus account creates every room (it is the MUC admin; with
JICOFO_ENABLE_AUTH=0 and ENABLE_AUTO_OWNER=0, which jitsictl renders, it grants no one
ownership), so each room is joined by focus first, then by the class.
"""
from __future__ import annotations

import asyncio
import time

import pytest

from jitsictl.xmpp import WebSocketXmppClient
from jitsictl.xmpp import stanzas as s
from tests.support.prosody_server import PLUGIN_DIR, ProsodyServer

pytestmark = pytest.mark.slow  # real Prosody


DOMAIN = "meet.jitsi"
MUC = f"muc.{DOMAIN}"


def mod_jitsi_token(server: ProsodyServer, room: str, name: str, teacher: bool, *,
                    before_4_3: bool = False, claimed_affiliation: str | None = None) -> str:
    """A token as Moodle mod_jitsi v5.3 (or, with before_4_3, v4.2) mints it. mod_jitsi signs as
    affiliation what the `t` parameter of its session.php URL says: `claimed_affiliation` is what
    a student who edited that URL gets signed."""
    user = {"avatar": "https://moodle.example.org/pluginfile.php/5/user/icon/f1", "name": name,
            "email": "", "id": ""}
    if not before_4_3:
        user.update(affiliation=claimed_affiliation or ("owner" if teacher else "member"), moderator=teacher)
    payload = {"context": {"user": user, "group": ""}, "aud": "jitsi", "iss": server.jwt_app_id,
               "sub": DOMAIN, "room": room, "exp": int(time.time()) + 600, "moderator": teacher}
    return server.token(payload)


class Seat:
    """One participant in one room: what the room says about them (their own presence)."""

    def __init__(self, client: WebSocketXmppClient, room_jid: str) -> None:
        self.client, self.room_jid = client, room_jid
        self.presences: list = []
        client.add_listener(self._seen)

    def _seen(self, element) -> None:
        if s.local_name(element) == "presence" and element.get("from", "").startswith(self.room_jid + "/"):
            self.presences.append(element)

    def role_of(self, occupant: str) -> tuple[str | None, str | None]:
        mine = [p for p in self.presences if p.get("from") == occupant]
        item = s.muc_item(mine[-1]) if mine else {}
        return item.get("affiliation"), item.get("role")


async def focus_opens(server: ProsodyServer, room: str) -> WebSocketXmppClient:
    focus = server.account(f"focus@auth.{DOMAIN}")
    client = WebSocketXmppClient(server.websocket_url(), f"auth.{DOMAIN}", timeout=10)
    await client.connect(focus.user, focus.password)
    await client.join(f"{room}@{MUC}", nick="focus", resource="focus")
    return client


async def join_with_token(server: ProsodyServer, room: str, token: str) -> tuple[Seat, str]:
    client = WebSocketXmppClient(server.websocket_url(room=room, token=token), DOMAIN, timeout=10)
    await client.connect()
    seat = Seat(client, f"{room}@{MUC}")
    occupant = await client.join(f"{room}@{MUC}", nick="someone")
    return seat, occupant


async def roles_in_a_class(server: ProsodyServer, room: str, *, before_4_3: bool,
                           student_claims: str | None = None) -> dict:
    focus = await focus_opens(server, room)
    clients = [focus]
    try:
        roles = {}
        for who, teacher in (("student", False), ("teacher", True), ("second student", False)):
            token = mod_jitsi_token(server, room, who, teacher, before_4_3=before_4_3,
                                    claimed_affiliation=None if teacher else student_claims)
            seat, occupant = await join_with_token(server, room, token)
            clients.append(seat.client)
            await asyncio.sleep(0.2)
            roles[who] = seat.role_of(occupant)
        return roles
    finally:
        for client in clients:
            await client.close()


@pytest.fixture
def prosody(tmp_path, prosody_version):
    server = ProsodyServer(tmp_path / "prosody", muc_modules=["token_moderators"],
                           plugin_paths=[PLUGIN_DIR], version=prosody_version)
    server.start()
    yield server
    server.stop()


@pytest.mark.parametrize("before_4_3", [False, True], ids=["mod_jitsi-4.3+", "mod_jitsi-before-4.3"])
def test_the_teacher_moderates_and_students_do_not(prosody, before_4_3):
    roles = asyncio.run(asyncio.wait_for(
        roles_in_a_class(prosody, "maths-3b", before_4_3=before_4_3), 40))
    assert roles == {"student": ("member", "participant"),
                     "teacher": ("owner", "moderator"),
                     "second student": ("member", "participant")}, prosody.recent_log()
    assert "Moderators of muc.meet.jitsi come from their tokens" in prosody.log_text()


def test_an_affiliation_a_student_put_in_the_url_makes_no_moderator(prosody):
    """mod_jitsi signs `affiliation` from a URL parameter the student's browser sends: a student
    who changed it to owner still joins as a student."""
    roles = asyncio.run(asyncio.wait_for(
        roles_in_a_class(prosody, "maths-3b", before_4_3=False, student_claims="owner"), 40))
    assert roles["student"] == ("member", "participant"), prosody.recent_log()
    assert roles["teacher"] == ("owner", "moderator")


def test_an_lms_that_signs_affiliations_can_have_them_trusted(tmp_path, prosody_version):
    server = ProsodyServer(tmp_path / "prosody", muc_modules=["token_moderators"], plugin_paths=[PLUGIN_DIR],
                           muc_options={"token_moderators_trusted_affiliations": ["owner", "moderator"]},
                           version=prosody_version)
    server.start()
    try:
        roles = asyncio.run(asyncio.wait_for(
            roles_in_a_class(server, "maths-3b", before_4_3=False, student_claims="owner"), 40))
    finally:
        server.stop()
    assert roles["student"] == ("owner", "moderator"), server.recent_log()


def test_without_the_module_a_teacher_is_no_moderator(tmp_path, prosody_version):
    """What the module changes: Prosody alone gives every joiner the same role."""
    server = ProsodyServer(tmp_path / "prosody", version=prosody_version)
    server.start()
    try:
        roles = asyncio.run(asyncio.wait_for(roles_in_a_class(server, "maths-3b", before_4_3=False), 40))
    finally:
        server.stop()
    assert roles["teacher"] == roles["student"] == ("none", "participant")


def test_a_members_only_room_still_holds_students_but_not_the_teacher(prosody):
    """With the lobby on (a members-only room), a student is not made member by their token."""
    async def scenario():
        room = "physics-4a"
        focus = await focus_opens(prosody, room)
        try:
            form = ("<query xmlns='http://jabber.org/protocol/muc#owner'><x xmlns='jabber:x:data' type='submit'>"
                    "<field var='FORM_TYPE'><value>http://jabber.org/protocol/muc#roomconfig</value></field>"
                    "<field var='muc#roomconfig_membersonly'><value>1</value></field></x></query>")
            await focus.iq_set(f"{room}@{MUC}", form, "making the room members-only")
            student = WebSocketXmppClient(prosody.websocket_url(room=room, token=mod_jitsi_token(
                prosody, room, "student", False)), DOMAIN, timeout=10)
            await student.connect()
            try:
                with pytest.raises(Exception) as refused:
                    await student.join(f"{room}@{MUC}", nick="student")
                assert "registration-required" in str(refused.value)
            finally:
                await student.close()
            seat, occupant = await join_with_token(prosody, room, mod_jitsi_token(prosody, room, "teacher", True))
            await asyncio.sleep(0.2)
            assert seat.role_of(occupant) == ("owner", "moderator")
            await seat.client.close()
        finally:
            await focus.close()

    asyncio.run(asyncio.wait_for(scenario(), 40))
