"""Many token users joining and leaving rooms at once, through WebSocket like the web client.

Used by the delivery tests (outage, restart) and bench/prosody_join.py.
"""
from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field

from jitsictl.xmpp import WebSocketXmppClient
from tests.support.prosody_server import ProsodyServer


@dataclass
class CrowdResult:
    join_seconds: list[float] = field(default_factory=list)   # presence sent -> own presence reflected
    occupants: list[str] = field(default_factory=list)


def person(n: int) -> dict:
    return {"context": {"user": {"id": f"crowd-{n}", "name": f"Student {n}", "email": f"s{n}@school.example"},
                        "group": "crowd"}, "courseid": "LOAD101"}


async def crowd(prosody: ProsodyServer, rooms: int, per_room: int, concurrency: int = 25,
                room_prefix: str = "crowd") -> CrowdResult:
    """`rooms` rooms of `per_room` participants: all join (so each room is created once), then
    all leave (so each is destroyed once). Returns join latencies and occupant JIDs."""
    result = CrowdResult()
    gate = asyncio.Semaphore(concurrency)
    clients: list[tuple[WebSocketXmppClient, str]] = []

    async def enter(n: int):
        room = f"{room_prefix}-{n % rooms}@muc.{prosody.domain}"
        async with gate:
            client = WebSocketXmppClient(prosody.websocket_url(room=room.split("@")[0], token=prosody.token(person(n))),
                                         prosody.domain, timeout=30)
            await client.connect()
            started = time.perf_counter()
            occupant = await client.join(room, f"Student {n}")
            result.join_seconds.append(time.perf_counter() - started)
            result.occupants.append(occupant)
            clients.append((client, room))

    async def leave(client: WebSocketXmppClient, room: str):
        async with gate:
            await client.leave(room)
            await client.close()

    await asyncio.gather(*(enter(n) for n in range(rooms * per_room)))
    await asyncio.gather(*(leave(c, r) for c, r in clients))
    return result


def expected_crowd_events(rooms: int, per_room: int) -> Counter:
    return Counter({"room.created": rooms, "room.destroyed": rooms,
                    "occupant.joined": rooms * per_room, "occupant.left": rooms * per_room})


def wait_for_events(sink, count: int, timeout: float) -> list[dict]:
    deadline = time.monotonic() + timeout
    while True:
        events = sink.events()
        if len(events) >= count or time.monotonic() > deadline:
            return events
        time.sleep(0.1)
