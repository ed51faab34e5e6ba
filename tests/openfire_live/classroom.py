"""One classroom, played by real XMPP clients (slixmpp, plain c2s on loopback) against any server.

The same script runs on Openfire (with our plugin) and on Prosody (with our module), so the two
event streams and the two receivers' attendance can be compared. focus creates the room and makes
it an instant room (jicofo configures it the same way), then: a teacher and three students join
with display names (quotes, emoji, right-to-left script), focus makes the teacher a moderator, a
student renames herself, one leaves, she opens a second tab and closes it, the teacher kicks a
student, and focus destroys the room with people inside. Each step is followed by a pause, so the
events of different steps never share a moment.
"""
from __future__ import annotations

import asyncio
import copy
from dataclasses import dataclass

from tests.prosody.c2s_client import C2sClient

ROOM = "maths-3b"
NS_MUC_ADMIN = "http://jabber.org/protocol/muc#admin"
NS_MUC_OWNER = "http://jabber.org/protocol/muc#owner"

TEACHER_NICK = 'Mme Jeanne "la prof" D\'Arc'
NICKS = {
    "alice": "Zoë 🎓",
    "bob": "مريم أحمد",
    "carol": "Carol <b>&amp;</b>",
}
ALICE_RENAMED = "Zoë M. 🌟"
PEOPLE = ("teacher", "alice", "bob", "carol")


@dataclass(frozen=True)
class Server:
    """Where and as whom the script connects."""
    c2s_port: int
    muc: str                                  # the conference MUC service
    focus: tuple[str, str]                    # (bare JID, password)
    accounts: dict[str, tuple[str, str]]      # person -> (bare JID, password)


async def _connect(server: Server, jid: str, password: str) -> C2sClient:
    """A logged-in, available client: Openfire delivers a room's answer to a leave only to
    sessions that announced their presence (every desktop client and jicofo do)."""
    client = C2sClient(jid, password, server.c2s_port, timeout=20)
    await client.connect()
    client.xmpp.send_presence()
    return client


async def play(server: Server, pause: float = 1.5) -> None:
    room = f"{ROOM}@{server.muc}"
    clients: list[C2sClient] = []

    async def person(name: str) -> C2sClient:
        client = await _connect(server, *server.accounts[name])
        clients.append(client)
        return client

    try:
        focus = await _connect(server, *server.focus)
        clients.append(focus)
        await focus.join(room, None, resource="focus")
        await focus.iq_set(room, f"<query xmlns='{NS_MUC_OWNER}'><x xmlns='jabber:x:data' type='submit'/></query>",
                           "making an instant room")
        await asyncio.sleep(pause)
        teacher = await person("teacher")
        teacher_occupant = await teacher.join(room, TEACHER_NICK)
        await asyncio.sleep(pause)
        students = {}
        for name in ("alice", "bob", "carol"):
            students[name] = await person(name)
            students[name].occupant = await students[name].join(room, NICKS[name])
            await asyncio.sleep(pause)
        resource = teacher_occupant.split("/", 1)[1]
        await focus.iq_set(room, f"<query xmlns='{NS_MUC_ADMIN}'><item nick='{resource}' role='moderator'/></query>",
                           "making the teacher a moderator")
        await asyncio.sleep(pause)
        await students["alice"].send_presence(room, ALICE_RENAMED)
        await asyncio.sleep(pause)
        await students["bob"].leave(room)
        await asyncio.sleep(pause)
        second_tab = await person("alice")
        await second_tab.join(room, ALICE_RENAMED)
        await asyncio.sleep(pause)
        await second_tab.leave(room)
        await asyncio.sleep(pause)
        await teacher.kick(room, students["carol"].occupant)
        await asyncio.sleep(pause)
        await focus.destroy(room)
        await asyncio.sleep(pause)
    finally:
        for client in clients:
            try:
                await asyncio.wait_for(client.close(), 3)
            except Exception:
                pass


def classroom_events(events: list[dict]) -> list[dict]:
    """The events of the classroom room, in the order the receiver stored them."""
    return [e for e in events if e.get("room", {}).get("name") == ROOM]


def comparable(event: dict) -> dict:
    """What a teacher sees of an event: no ids, times, server, MUC service or session JIDs."""
    event = copy.deepcopy(event)
    for key in ("id", "time", "source"):
        event.pop(key, None)
    event["room"] = {"name": event["room"]["name"]}
    for key in ("occupant_jid", "user_jid"):
        event.get("occupant", {}).pop(key, None)
    return event


# The teacher and Alice are inside when focus destroys the room: their leaves share one moment and
# come in no fixed order (tests/vectors/README.md, "Matching").
AT_DESTROY = 3


def comparable_stream(events: list[dict]) -> list[dict]:
    """The comparable events in order, the destroy's leaves (and the destroy) as a sorted group."""
    import json

    events = [comparable(e) for e in events]
    head, tail = events[:-AT_DESTROY], events[-AT_DESTROY:]
    return head + sorted(tail, key=lambda e: json.dumps(e, sort_keys=True, ensure_ascii=False))


def comparable_attendance(participant: dict) -> dict:
    """A participant's attendance without what depends on the run's exact timing."""
    return {key: participant[key] for key in ("key", "name", "names", "moderator", "status", "late", "left_early",
                                              "still_present")} | {"intervals": len(participant["intervals"])}
