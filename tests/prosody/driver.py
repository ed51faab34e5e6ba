"""Play a scenario vector (tests/vectors) against a real Prosody with real clients.

    delivered = run_vector(vector, prosody, sink)

`prosody` is a started tests.support.prosody_server.ProsodyServer whose MUC (and breakout)
component loads the attendance module posting to `sink` (tests/prosody/receivers.py: the real
receiver or the capture endpoint; anything with `events()` works). Steps run in order, as fast as
the server answers; after the steps of each `at` the driver waits until the module has delivered
that moment's expected events, and assigns them to it. The result is aligned with
`vector.expected_events()`: `delivered[i]` is the real event that matched expectation `i`.
Anything missing, extra or different raises VectorMismatch with a readable report.

Transports, as in a Jitsi deployment: token users and one guest in two connect like the web
client (WebSocket `/xmpp-websocket?room=…&token=…`, SASL ANONYMOUS, conference request to focus,
then the MUC join with a random endpoint id and a `<nick>`); system accounts (focus, jvb,
recorder, transcriber, admin) and the other guests use c2s with slixmpp. `crash` is SIGKILL then
a new Prosody process. Breakout rooms are linked to their main room through the test stand-in
mod_test_breakout_link.lua (Jitsi's breakout module cannot be installed here).
"""
from __future__ import annotations

import asyncio
import copy
import datetime as dt
import time

from jitsictl.xmpp import WebSocketXmppClient
from tests.prosody.c2s_client import C2sClient
from jitsictl.xmpp.stanzas import NS_MUC_ADMIN
from tests.support import vectors
from tests.support.prosody_server import ProsodyServer

BREAKOUT_NS = "urn:jitsictl:test:breakout"


class VectorMismatch(AssertionError):
    """The module's events differ from the vector's; the message lists what and where."""


def run_vector(vector: vectors.Vector, prosody: ProsodyServer, sink, *, since: int = 0,
               group_timeout: float = 10.0, settle: float = 0.6) -> list[dict]:
    """Drive `vector` against `prosody`; return the delivered events aligned with its expectations.

    `since`: how many events the sink held before `prosody` started (a shared receiver); those
    are not this run's.
    """
    return asyncio.run(VectorRun(vector, prosody, sink, group_timeout, settle, since).run())


def retimed(vector: vectors.Vector, delivered: list[dict], base: dt.datetime) -> list[dict]:
    """The delivered events with the scenario's times (`base + at`) instead of the real ones.

    Ids, sources, occupants and identities stay as the module sent them.
    """
    out = []
    for expected, event in zip(vector.expected_events(), delivered, strict=True):
        event = copy.deepcopy(event)
        event["time"] = vectors.format_time(base + dt.timedelta(seconds=expected["_at"]))
        out.append(event)
    return out


class VectorRun:
    def __init__(self, vector, prosody, sink, group_timeout, settle, since=0):
        self.since = since
        self.vector = vector
        self.prosody = prosody
        self.sink = sink
        self.group_timeout = group_timeout
        self.settle = settle
        self.clients: dict[str, object] = {}       # vector client name -> connection
        self.occupants: dict[str, str] = {}        # vector client name -> occupant JID
        self.rooms: dict[str, str] = {}            # vector client name -> room JID
        self.guests = 0

    async def run(self) -> list[dict]:
        expected_groups = vectors.group_by_at(self.vector.expected_events())
        expected_by_at = {group[0]["_at"]: group for group in expected_groups}
        step_ats = []
        for step in self.vector.steps:
            if not step_ats or step_ats[-1] != step["at"]:
                step_ats.append(step["at"])
        ats = sorted(set(step_ats) | set(expected_by_at))
        seen = self.since
        aligned: list[tuple[dict, dict]] = []
        try:
            for at in ats:
                for step in (s for s in self.vector.steps if s["at"] == at):
                    await self.perform(step)
                want = expected_by_at.get(at, [])
                got = await self.wait_for_events(seen + len(want), at)
                group = got[seen:seen + len(want)]
                seen += len(want)
                aligned += self.match_group(at, want, group)
            await asyncio.sleep(self.settle)
            extra = self.sink.events()[seen:]
            if extra:
                raise VectorMismatch(self.report("events nobody expected arrived after the last step", extra))
        finally:
            await self.close_all()
        return [actual for _, actual in aligned]

    # -- steps ------------------------------------------------------------------------------------
    async def perform(self, step: dict) -> None:
        action = step["do"]
        if action == "join":
            await self.join(step)
        elif action == "presence":
            await self.clients[step["client"]].send_presence(self.rooms[step["client"]], step["nick"])
        elif action == "leave":
            client = self.clients[step["client"]]
            await client.leave(self.rooms[step["client"]])
            await client.close()
        elif action == "disconnect":
            await self.clients[step["client"]].drop()
        elif action == "kick":
            target = step["client"]
            await self.clients[step["by"]].kick(self.rooms[target], self.occupants[target])
        elif action == "role":
            target = step["client"]
            resource = self.occupants[target].split("/", 1)[1]
            await self.clients[step["by"]].iq_set(
                self.rooms[target], f"<query xmlns='{NS_MUC_ADMIN}'><item nick='{resource}' role='{step['role']}'/></query>",
                f"giving {target} the role {step['role']}")
        elif action == "destroy":
            room = self.room_jid(step["room"], self.vector.client_join(step["by"]).get("component", "muc"))
            await self.clients[step["by"]].destroy(room)
        elif action == "crash":
            self.prosody.kill()          # first: dropping clients of a live server would make leaves
            for client in self.clients.values():
                await client.drop()
            self.prosody.start()
        else:
            raise ValueError(f"unknown step {action!r} in {self.vector.name}")

    @staticmethod
    def room_jid(room: str, component: str) -> str:
        return f"{room}@{vectors.COMPONENTS[component]}"

    async def join(self, step: dict) -> None:
        name, person = step["client"], self.vector.people[step["person"]]
        component = step.get("component", "muc")
        room = self.room_jid(step["room"], component)
        resource = None
        if person.get("system"):
            account = self.prosody.account(person["jid"])
            client = C2sClient(account.jid, account.password, self.prosody.c2s_port)
            await client.connect()
            resource = "focus" if person["system"] == "focus" else None
        elif person.get("anonymous"):
            self.guests += 1
            if self.guests % 2:
                client = WebSocketXmppClient(self.prosody.websocket_url(room=step["room"]),
                                             f"guest.{vectors.DOMAIN}")
                await client.connect()
            else:
                client = C2sClient(f"guest.{vectors.DOMAIN}", "", self.prosody.c2s_port, anonymous=True)
                await client.connect()
        else:
            token = self.prosody.token(person["token"])
            client = WebSocketXmppClient(self.prosody.websocket_url(room=step["room"], token=token), vectors.DOMAIN)
            await client.connect()
            if component == "muc":
                await client.conference_request(room)
        if step.get("parent"):
            main = self.room_jid(step["parent"], "muc")
            await client.iq_set(vectors.COMPONENTS[component],
                                f"<breakout-room xmlns='{BREAKOUT_NS}' room='{room}' main-room='{main}'/>",
                                "linking the breakout room to its main room")
        self.clients[name] = client
        self.occupants[name] = await client.join(room, step.get("nick"), resource=resource)
        self.rooms[name] = room

    async def close_all(self) -> None:
        for client in self.clients.values():
            try:
                await asyncio.wait_for(client.close(), 3)
            except Exception:
                pass

    # -- events -----------------------------------------------------------------------------------
    async def wait_for_events(self, count: int, at) -> list[dict]:
        deadline = time.monotonic() + self.group_timeout
        while True:
            events = self.sink.events()
            if len(events) >= count:
                return events
            if time.monotonic() > deadline:
                raise VectorMismatch(self.report(
                    f"at {at}: {count - self.since} events expected so far, {len(events) - self.since} delivered within "
                    f"{self.group_timeout:g} s", events[self.since:]))
            await asyncio.sleep(0.02)

    def match_group(self, at, want: list[dict], got: list[dict]) -> list[tuple[dict, dict]]:
        """Pair expected and delivered events of one moment (any order among them)."""
        by_expected, problems = vectors.pair_group(want, got, self.problems)
        unmatched = [i for i in range(len(want)) if i not in by_expected]
        if unmatched:
            lines = [f"at {at}: no delivered event matches these expectations:"]
            for i in unmatched:
                lines.append(f"  expected {self.describe(want[i])}")
                # Compare with the delivered events of the same type (all of them if none is).
                same = [j for j, event in enumerate(got) if event.get("type") == want[i]["type"]]
                for j in same or range(len(got)):
                    lines.append(f"    vs delivered {self.describe(got[j])}: "
                                 f"{'; '.join(problems[(i, j)]) or 'matches, but paired with another expectation'}")
            raise VectorMismatch(self.report("\n".join(lines), got))
        return [(want[i], got[by_expected[i]]) for i in range(len(want))]

    def problems(self, expected: dict, actual: dict) -> list[str]:
        found = vectors.matches(expected, actual)
        client = expected.get("_client")
        if client and client in self.occupants and not found:
            occupant = actual.get("occupant", {})
            real = self.clients[client].jid
            if occupant.get("occupant_jid") != self.occupants[client]:
                found.append(f"occupant.occupant_jid: expected {self.occupants[client]!r}, "
                             f"got {occupant.get('occupant_jid')!r}")
            if occupant.get("user_jid") != real:
                found.append(f"occupant.user_jid: expected {real!r}, got {occupant.get('user_jid')!r}")
            if occupant.get("bare_jid") != real.split("/")[0]:
                found.append(f"occupant.bare_jid: expected {real.split('/')[0]!r}, got {occupant.get('bare_jid')!r}")
        return found

    @staticmethod
    def describe(event: dict) -> str:
        room = event.get("room", {}).get("jid", "")
        nick = event.get("occupant", {}).get("nick")
        who = event.get("_client") or event.get("occupant", {}).get("occupant_jid", "")
        return f"{event.get('type')} {room} {who} {nick!r}".replace("  ", " ").strip()

    def report(self, headline: str, events: list[dict]) -> str:
        lines = [f"{self.vector.name}: {headline}", "delivered events:"]
        lines += [f"  {self.describe(e)}" for e in events]
        return "\n".join(lines)
