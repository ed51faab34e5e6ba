"""Contract-v1 events for the receiver benchmarks: lessons of a given size, single events.

A lesson is one meeting of `participants` people with LMS tokens (course claims) who join and
leave `events` times in total over an hour, the way flaky school Wi-Fi makes them reconnect.
Deterministic for a given seed, so runs compare.
"""
from __future__ import annotations

import datetime as dt
import random
import uuid

UTC = dt.timezone.utc
MUC = "muc.meet.jitsi"


def format_time(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def source(instance: str) -> dict:
    return {"server": "prosody", "host": MUC, "instance": instance}


def person_identity(n: int, course: str) -> dict:
    return {"user_id": f"student-{n:04d}", "name": f"Student {n:04d}", "email": f"student{n:04d}@school.example",
            "moderator": False, "group": "class", "claims": {"courseid": course, "groupid": "G1"}}


def lesson_events(*, room: str = "maths-3b", start: dt.datetime, participants: int = 300, events: int = 20_000,
                  course: str = "MATH101", instance: str = "bench-instance-1", seed: int = 1,
                  length_seconds: int = 3600) -> list[dict]:
    """One meeting: room.created, `events - 2` joins and leaves, room.destroyed (time order)."""
    rng = random.Random(seed)
    room_obj = {"jid": f"{room}@{MUC}", "name": room}
    src = source(instance)
    rng_uuid = lambda: str(uuid.UUID(int=rng.getrandbits(128), version=4))  # noqa: E731
    out = [{"id": rng_uuid(), "type": "room.created", "time": format_time(start), "source": src, "room": room_obj}]
    connections = (events - 2) // 2
    for c in range(connections):
        person = c % participants if c < participants else rng.randrange(participants)
        join = rng.uniform(0, length_seconds - 1)
        leave = min(length_seconds, join + rng.expovariate(1 / 600))
        resource = f"{c:08x}"
        occupant = {"occupant_jid": f"{room_obj['jid']}/{resource}", "user_jid": f"u{c}@meet.jitsi/{resource}",
                    "bare_jid": f"u{c}@meet.jitsi", "nick": f"Student {person:04d}", "role": "participant"}
        identity = person_identity(person, course)
        for type_, at in (("occupant.joined", join), ("occupant.left", leave)):
            out.append({"id": rng_uuid(), "type": type_, "time": format_time(start + dt.timedelta(seconds=at)),
                        "source": src, "room": room_obj, "occupant": occupant, "identity": identity})
    out.append({"id": rng_uuid(), "type": "room.destroyed", "time": format_time(start + dt.timedelta(seconds=length_seconds)),
                "source": src, "room": room_obj})
    out.sort(key=lambda e: e["time"])
    return out


def single_event(sender: int, n: int, now: dt.datetime) -> dict:
    """An occupant.joined as a plugin sends it, unique per (sender, n)."""
    room_obj = {"jid": f"bench-room-{sender}@{MUC}", "name": f"bench-room-{sender}"}
    return {"id": str(uuid.uuid4()), "type": "occupant.joined", "time": format_time(now),
            "source": source("bench-instance-1"), "room": room_obj,
            "occupant": {"occupant_jid": f"{room_obj['jid']}/{n:08x}", "user_jid": f"u{n}@meet.jitsi/web",
                         "bare_jid": f"u{n}@meet.jitsi", "nick": f"Student {n % 300}", "role": "participant"},
            "identity": person_identity(n % 300, "MATH101")}
