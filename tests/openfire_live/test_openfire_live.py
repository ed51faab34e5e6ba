"""jitsictl's Openfire path on a real Openfire 5.x: boot from the rendered openfire.xml, the
plugin's start-up guarantees, `jitsictl openfire apply`, the REST client, the focus relay, and
a classroom whose attendance must equal the Prosody path's. See conftest.py for how to run it.

The tests share one Openfire and run in file order (the first ones look at the server before
`apply` has run).
"""
from __future__ import annotations

import asyncio
import json
import secrets as random_secrets
import xml.etree.ElementTree as ET

import pytest

from jitsictl.xmpp import MucJoinError, XmppAuthError
from tests.openfire_live import classroom
from tests.openfire_live.conftest import jitsictl, wait_until
from tests.openfire_live.openfire import DOMAIN
from tests.prosody.c2s_client import C2sClient
from tests.prosody.environment import logger_prosody
from tests.prosody.receivers import RealReceiver
from tests.support.prosody_server import Account

# Every test here starts a real Openfire (and the receiver): the slow tier's, skipped there unless
# the environment names an Openfire (conftest.py).
pytestmark = pytest.mark.slow

CONFERENCE = f"conference.{DOMAIN}"
NS_FOCUS = "http://jitsi.org/protocol/focus"


def test_the_brewery_exists_before_jvb_can_log_in(stack):
    early = stack.early_jvb
    print(f"client port open {early['opened_after']:.1f} s after start; jvb logging in then: {early}")
    assert early["error"] is None, f"a jvb logging in at the first moment found no brewery: {early['error']}"
    assert early["joined"].startswith(f"jvbbrewery@internal-muc.{DOMAIN}/")
    brewery = stack.brewery_before_apply
    assert brewery is not None, "the plugin created no brewery before `jitsictl openfire apply`"
    assert brewery["membersOnly"] in (True, "true")
    assert f"jvb@{DOMAIN}" in json.dumps(brewery.get("members")), brewery
    assert f"focus@{DOMAIN}" in json.dumps(brewery.get("owners")), brewery


def test_apply_twice_second_changes_nothing(stack):
    args = ("openfire", "apply", "--url", stack.openfire.admin_url, "--wait", "120", "--json")
    first = jitsictl(*args, cwd=stack.project)
    print("first apply:", first.stdout, first.stderr)
    assert first.returncode == 0, first.stdout + first.stderr
    second = jitsictl(*args, cwd=stack.project)
    print("second apply:", second.stdout, second.stderr)
    assert second.returncode == 0, second.stdout + second.stderr
    changes = json.loads(second.stdout)
    changes = changes.get("changes", changes) if isinstance(changes, dict) else changes
    assert changes == [], f"the second apply changed: {changes}"
    assert stack.rest().get_property("attendance.url") == "http://logger:8080/v1/events"


def test_rest_client_user_operations(stack):
    rest = stack.rest()
    name = "live-" + random_secrets.token_hex(4)
    first, second = random_secrets.token_urlsafe(12), random_secrets.token_urlsafe(12)
    rest.create_user(name, first, name="Live Test", properties={"origin": "live suite"})
    assert name in [u.get("username") for u in rest.list_users()]
    assert rest.get_user(name)["name"] == "Live Test"
    rest.update_user(name, password=second, name="Live Test", properties={"origin": "live suite"})

    async def login(password: str) -> str:
        client = C2sClient(f"{name}@{DOMAIN}", password, stack.openfire.c2s_port)
        try:
            return await client.connect()
        finally:
            await client.close()

    assert asyncio.run(login(second)).startswith(f"{name}@{DOMAIN}/")
    with pytest.raises(XmppAuthError):
        asyncio.run(login(first))
    delete = getattr(rest, "delete_user", None)
    if delete is not None:
        delete(name)
        assert rest.get_user(name) is None


def test_anonymous_users_cannot_create_rooms_nor_enter_the_brewery(stack):
    async def scenario():
        guest = C2sClient(DOMAIN, "", stack.openfire.c2s_port, anonymous=True)
        await guest.connect()
        try:
            with pytest.raises(MucJoinError) as refused:
                await guest.join(f"pirate-{random_secrets.token_hex(3)}@{CONFERENCE}", "Pirate")
            with pytest.raises(MucJoinError) as kept_out:
                await guest.join(f"jvbbrewery@internal-muc.{DOMAIN}", None)
            return refused.value, kept_out.value
        finally:
            await guest.close()

    refused, kept_out = asyncio.run(scenario())
    print("room creation:", refused, "| brewery:", kept_out)
    assert "not-allowed" in str(refused)
    assert "registration-required" in str(kept_out)


async def _focus(stack) -> C2sClient:
    focus = C2sClient(f"focus@{DOMAIN}", stack.secrets["JICOFO_AUTH_PASSWORD"], stack.openfire.c2s_port, timeout=20)
    await focus.connect()
    focus.xmpp.send_presence()  # jicofo is available once logged in; Openfire routes to available sessions
    await asyncio.sleep(0.5)
    return focus


def test_a_room_takes_more_than_30_occupants(stack):
    room = f"lecture-{random_secrets.token_hex(3)}@{CONFERENCE}"

    async def scenario() -> int:
        focus = await _focus(stack)
        clients = [focus]
        try:
            await focus.join(room, None, resource="focus")
            await focus.iq_set(room, f"<query xmlns='{classroom.NS_MUC_OWNER}'><x xmlns='jabber:x:data' type='submit'/>"
                                     "</query>", "making an instant room")
            for n in range(35):
                guest = C2sClient(DOMAIN, "", stack.openfire.c2s_port, anonymous=True, timeout=20)
                await guest.connect()
                clients.append(guest)
                await guest.join(room, f"Student {n + 1}")
            return len(clients)
        finally:
            for client in clients:
                await client.close()

    assert asyncio.run(scenario()) == 36, "focus and 35 students in one room (Openfire's default is 30)"
    assert stack.rest().get_property("attendance.jitsi.room.max.occupants") in ("500", None)


def test_focus_relay_carries_a_conference_request_and_refuses_what_it_does_not_relay(stack):
    async def scenario():
        from slixmpp.xmlstream.handler import Callback
        from slixmpp.xmlstream.matcher import MatchXPath

        focus = await _focus(stack)
        seen_by_focus = []

        def on_conference(iq):
            seen_by_focus.append(str(iq["from"]))
            reply = iq.reply()
            reply.append(ET.fromstring(f"<conference xmlns='{NS_FOCUS}' ready='true' room='{iq.xml[0].get('room')}'/>"))
            reply.send()

        focus.xmpp.register_handler(Callback("conference", MatchXPath(f"{{jabber:client}}iq/{{{NS_FOCUS}}}conference"),
                                             on_conference))
        student = C2sClient(DOMAIN, "", stack.openfire.c2s_port, anonymous=True)
        await student.connect()
        try:
            iq = student.xmpp.make_iq_set(ito=f"focus.{DOMAIN}")
            iq.append(ET.fromstring(f"<conference xmlns='{NS_FOCUS}' room='maths-3b@{CONFERENCE}' machine-uid='m1'/>"))
            answer = await iq.send(timeout=15)
            error = asyncio.get_running_loop().create_future()
            student.xmpp.add_event_handler("message_error", lambda m: error.done() or error.set_result(m))
            student.xmpp.send_message(mto=f"focus.{DOMAIN}", mbody="hello?")
            refused = await asyncio.wait_for(error, 15)
            return student.jid, seen_by_focus, answer, refused
        finally:
            await student.close()
            await focus.close()

    student, seen_by_focus, answer, refused = asyncio.run(scenario())
    print("focus saw:", seen_by_focus, "| answer:", answer, "| refusal:", refused)
    assert seen_by_focus == [f"focus.{DOMAIN}/{student}"], "the request reached focus with the requester in the resource"
    assert answer["type"] == "result" and str(answer["from"]) == f"focus.{DOMAIN}"
    assert answer.xml.find(f"{{{NS_FOCUS}}}conference").get("ready") == "true"
    assert refused["error"]["condition"] == "feature-not-implemented"
    assert refused["error"]["type"] == "cancel"


def test_classroom_attendance_equals_the_prosody_paths(stack, tmp_path):
    people = {name: (f"{name}@{DOMAIN}", random_secrets.token_urlsafe(12)) for name in classroom.PEOPLE}
    rest = stack.rest()
    for name, (_jid, password) in people.items():
        rest.create_user(name, password)
    before = len(stack.receiver.events())
    asyncio.run(classroom.play(classroom.Server(
        c2s_port=stack.openfire.c2s_port, muc=CONFERENCE,
        focus=(f"focus@{DOMAIN}", stack.secrets["JICOFO_AUTH_PASSWORD"]), accounts=people)))
    openfire_events = wait_until(
        lambda: (lambda got: got if got and got[-1]["type"] == "room.destroyed" else None)(
            classroom.classroom_events(stack.receiver.events()[before:])),
        30, "the classroom's events at the receiver")

    # The same classroom on Prosody with our module, into a receiver of its own.
    receiver = RealReceiver(tmp_path / "receiver").start()
    prosody = logger_prosody(tmp_path / "prosody", receiver.url, receiver.secret)
    prosody.accounts.update({jid: Account(jid, password) for jid, password in people.values()})
    prosody.start()
    try:
        focus = prosody.account(f"focus@auth.{DOMAIN}")
        asyncio.run(classroom.play(classroom.Server(
            c2s_port=prosody.c2s_port, muc=prosody.muc, focus=(focus.jid, focus.password), accounts=people)))
        prosody_events = wait_until(
            lambda: (lambda got: got if got and got[-1]["type"] == "room.destroyed" else None)(
                classroom.classroom_events(receiver.events())),
            30, "the classroom's events at the Prosody receiver")
        for name, events in (("openfire", openfire_events), ("prosody", prosody_events)):
            print(f"\n{name}:")
            for event in events:
                print("  ", json.dumps(classroom.comparable(event), ensure_ascii=False))
        assert classroom.comparable_stream(openfire_events) == classroom.comparable_stream(prosody_events)

        def attendance(of: RealReceiver) -> list[dict]:
            meeting = next(m for m in of.meetings() if m["room"] == classroom.ROOM)
            return of.attendance(meeting["id"])["participants"]

        openfire_attendance = attendance(stack.receiver)
        prosody_attendance = attendance(receiver)
        for name, rows in (("openfire", openfire_attendance), ("prosody", prosody_attendance)):
            print(f"\n{name} attendance:")
            for row in rows:
                print("  ", json.dumps({k: row[k] for k in ("key", "name", "names", "present_seconds", "percent",
                                                             "status", "intervals")}, ensure_ascii=False))
        assert sorted(map(classroom.comparable_attendance, openfire_attendance), key=lambda p: p["key"]) == \
            sorted(map(classroom.comparable_attendance, prosody_attendance), key=lambda p: p["key"])
        by_key = {p["key"]: p for p in prosody_attendance}
        for row in openfire_attendance:
            assert abs(row["present_seconds"] - by_key[row["key"]]["present_seconds"]) < 3, row["key"]
    finally:
        prosody.stop()
        receiver.stop()
