"""Server process lives (`source.instance`), for the rule that closes what a crash left open.

A meeting whose server process died without a room.destroyed is closed at the last event of that
process once a newer process of the same server shows up (rules.py). Ingest records here each
instance when its first events arrive, with the time of its earliest event, and marks the older
instances of the same server superseded. The times are kept in `instances`, not looked up in the
events, so events deleted by hand or by the retention purge never leave an instance without them.

When a delivery changes what is known about an instance whose meetings are already in the index
(it was just superseded, or it is superseded and its late events arrive), the rooms of those
meetings are marked for recomputation.
"""
from __future__ import annotations

from typing import Iterable

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.engine import Connection

from .rules import InstanceInfo
from .storage import insert_for, mark_rooms_dirty, statement
from .tables import events, instances, meetings
from .times import from_ms


def domain_of(host: str) -> str:
    """`muc.meet.jitsi` and `breakout.meet.jitsi` belong to the same server: `meet.jitsi`."""
    return host.split(".", 1)[1] if host.count(".") >= 2 else host


def track(conn: Connection, rows: list[dict]) -> None:
    """Record the instances of newly stored event rows (ingest's transaction).

    The common case, every instance known and alive, costs one indexed lookup.
    """
    seen: dict[str, dict] = {}
    for row in rows:
        name = row["source_instance"]
        if name not in seen:
            seen[name] = {"instance": name, "server": row["source_server"], "host": row["source_host"],
                          "domain": domain_of(row["source_host"]), "first_seen_ms": row["time_ms"],
                          "superseded": False}
        elif row["time_ms"] < seen[name]["first_seen_ms"]:
            seen[name]["first_seen_ms"] = row["time_ms"]
    known = {}
    for name in sorted(seen):  # nearly always one
        row = conn.execute(statement(conn, _known), {"name": name}).first()
        if row is not None:
            known[name] = row
    new = [seen[name] for name in sorted(seen) if name not in known]
    earlier = [seen[name] for name in sorted(seen) if name in known and seen[name]["first_seen_ms"] < known[name].first_seen_ms]
    reclose = {name for name, row in known.items() if row.superseded}
    if new:
        conn.execute(insert_for(conn, instances).on_conflict_do_nothing(index_elements=["instance"]), new)
    for row in earlier:  # a retry of an older batch arriving late: rare
        conn.execute(update(instances).where(instances.c.instance == row["instance"])
                     .values(first_seen_ms=row["first_seen_ms"]))
    for server, domain in sorted({(i["server"], i["domain"]) for i in new + earlier}):
        reclose |= _supersede(conn, server, domain)
    for name in sorted(reclose):
        mark_rooms_dirty(conn, dict(conn.execute(
            select(meetings.c.room_jid, func.min(func.coalesce(meetings.c.ended_ms, meetings.c.started_ms)))
            .where(meetings.c.instance == name,
                   meetings.c.ended_ms.is_(None) | (meetings.c.closed_by == "source.started"))
            .group_by(meetings.c.room_jid)).all()))


def _known(_conn):
    return (select(instances.c.instance, instances.c.superseded, instances.c.first_seen_ms)
            .where(instances.c.instance == bindparam("name")))


def _supersede(conn: Connection, server: str, domain: str) -> set[str]:
    """A newer process of the same server means the older ones are gone; returns those newly
    found gone. Rooms not yet refreshed need nothing: their refresh reads the new state."""
    family = conn.execute(select(instances.c.instance, instances.c.superseded, instances.c.first_seen_ms)
                          .where(instances.c.server == server, instances.c.domain == domain)).all()
    newest = max(row.first_seen_ms for row in family)
    gone = {row.instance for row in family if not row.superseded and row.first_seen_ms < newest}
    if gone:
        conn.execute(update(instances).where(instances.c.instance.in_(sorted(gone))).values(superseded=True))
    return gone


def of_events(conn: Connection, room_events: Iterable[dict]) -> dict[str, InstanceInfo]:
    return named(conn, {e["source"]["instance"] for e in room_events})


def named(conn: Connection, names: set[str]) -> dict[str, InstanceInfo]:
    """What the store knows of the named instances: when their last event happened (their first,
    if their events are gone) and whether a newer process replaced them."""
    if not names:
        return {}
    info = {}
    for row in conn.execute(select(instances).where(instances.c.instance.in_(sorted(names)))):
        last = conn.execute(select(func.max(events.c.time_ms)).where(events.c.source_instance == row.instance)).scalar()
        info[row.instance] = InstanceInfo(last_seen=from_ms(row.first_seen_ms if last is None else max(last, row.first_seen_ms)),
                                          superseded=bool(row.superseded))
    return info
