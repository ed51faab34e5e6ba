"""The meetings index: which meetings each room had, and each finished meeting's attendance.

Ingest marks rooms dirty from the earliest event it added (storage.py). `refresh` recomputes a
dirty room from the start of its first affected meeting on, window by window so memory stays
bounded however long the room's history, and keeps each meeting's presence (rules.Presence) and
a finished meeting's attendance as JSON so a report reads one row. It computes from a read
snapshot without the write lock and writes only if no event reached the room meanwhile
(`rooms.version`).

A lesson in progress is refreshed after every read that follows new events. So that this does
not read all its events each time, the rules' PresenceBuilder of the room's last window is
kept in memory (`KeptBuilders`) and only the events it has not read are added to it.
"""
from __future__ import annotations

import re
import threading
import time
import uuid
from collections import OrderedDict
from typing import Callable

from sqlalchemy import delete, func, select, update
from sqlalchemy.engine import Connection

from . import instances as server_instances
from . import rules
from .tables import events, meeting_courses, meetings, rooms
from .times import to_ms

MEETING_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://jitsictl.invalid/attendance-logger/meeting")
_URL_SAFE_KEY = re.compile(r"[A-Za-z0-9._-]{1,128}")


def read_meetings(events_read, instances) -> tuple[rules.PresenceBuilder, list[rules.Presence]]:
    """The rules' builder fed some events, and the presence of each meeting in them."""
    builder = rules.PresenceBuilder()
    builder.add(events_read)
    return builder, builder.presences(instances)


class KeptBuilders:
    """Builders of rooms' last windows (a lesson in progress), one per room, by (room jid,
    window start).

    A builder is taken out while a refresh adds to it, so two threads never share one. At most
    `size` are kept (a 20,000-event lesson's takes ~5 MB), the least recently used dropped first.
    """

    def __init__(self, size: int = 16):
        self.size = size
        self._builders: OrderedDict[tuple[str, int], rules.PresenceBuilder] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, jid: str, start: int) -> rules.PresenceBuilder | None:
        with self._lock:
            return self._builders.pop((jid, start), None)

    def keep(self, jid: str, start: int, builder: rules.PresenceBuilder) -> None:
        with self._lock:
            for key in [key for key in self._builders if key[0] == jid]:
                del self._builders[key]  # from an earlier window start: never asked for again
            self._builders[(jid, start)] = builder
            while len(self._builders) > self.size:
                self._builders.popitem(last=False)


class MeetingsIndex:
    def __init__(self, storage, window_events: int = 10_000):
        self.storage = storage
        self.window_events = window_events
        self.live = KeptBuilders()
        # Called in the transaction that indexed them with the finished meetings' index rows and
        # courses (the Moodle sync queues them).
        self.on_finished: Callable[[Connection, list[tuple[dict, tuple[str, ...]]]], None] | None = None

    def refresh(self, compute, summarize, *, budget_seconds: float | None = None,
                quiet_seconds: float | None = None) -> bool:
        """Recompute the meetings of dirty rooms; False if the time budget ran out first.

        `compute(events, instances)` reads events (`read_meetings`); `summarize(presence, conn)`
        gives a meeting's attendance (rules.Meeting, whose `courses` are indexed) and the columns
        kept with it (`presence`, `result`, `result_settings`, and `course_source`: "claim" or
        "room"). Cheap when nothing is dirty.
        `quiet_seconds`: only rooms that received no event for that long (a lesson in progress
        would otherwise be recomputed over and over while nobody looks at it).
        """
        deadline = None if budget_seconds is None else time.monotonic() + budget_seconds
        query = select(rooms.c.jid).where(rooms.c.dirty_from_ms.is_not(None))
        if quiet_seconds is not None:
            query = query.where(rooms.c.touched_ms < int((time.time() - quiet_seconds) * 1000))
        with self.storage.read() as conn:
            dirty = conn.execute(query).scalars().all()
        for jid in dirty:
            if not self._refresh_room(jid, compute, summarize, deadline):
                return False
        return True

    def _refresh_room(self, jid: str, compute, summarize, deadline: float | None) -> bool:
        """Recompute a room's meetings from its dirty point on, one window at a time.

        Each window is computed from a read snapshot without the write lock, so ingest never
        waits for it, and written (moving the dirty point past it) only if no event reached the
        room meanwhile (`rooms.version`). After three lost races in a row the window is computed
        under the lock. Returns False when the deadline passed with the room still dirty.

        The builder of a last window with a meeting still running is kept for the next refresh
        once written (or when it was itself a kept one brought up to date).
        """
        lost = 0
        while True:
            locked = lost >= 3
            written = False
            with (self.storage.write() if locked else self.storage.read()) as conn:
                query = select(rooms.c.dirty_from_ms, rooms.c.version).where(rooms.c.jid == jid)
                state = conn.execute(query.with_for_update() if locked else query).first()
                if state is None or state.dirty_from_ms is None:
                    return True  # clean, or another worker refreshed it meanwhile
                start = self._first_affected(conn, jid, state.dirty_from_ms)
                finished, next_start, builder, resumed = self._compute_window(conn, jid, start, compute)
                if locked:
                    self._replace_meetings(conn, jid, start, next_start, finished, summarize)
                    lost, written = 0, True
            if not locked:
                with self.storage.write() as conn:
                    version = conn.execute(select(rooms.c.version).where(rooms.c.jid == jid).with_for_update()).scalar()
                    if version == state.version:
                        self._replace_meetings(conn, jid, start, next_start, finished, summarize)
                        lost, written = 0, True
                    else:
                        lost += 1
            if builder is not None and (written or resumed) and any(p.end is None for p in finished):
                self.live.keep(jid, start, builder)
            if deadline is not None and time.monotonic() > deadline:
                return False

    @staticmethod
    def _first_affected(conn: Connection, jid: str, dirty_from: int) -> int:
        """Recompute whole meetings: from the start of the first meeting still open or ending at
        or after the dirty point."""
        first = conn.execute(select(func.min(meetings.c.started_ms)).where(
            meetings.c.room_jid == jid,
            (meetings.c.ended_ms.is_(None)) | (meetings.c.ended_ms >= dirty_from))).scalar()
        return dirty_from if first is None else min(dirty_from, first)

    def _replace_meetings(self, conn: Connection, jid: str, start: int, next_start: int | None,
                          computed: list, summarize) -> None:
        """The room's meetings starting in [start, next_start) replaced by `computed`; the room
        stays dirty from `next_start` (clean when it is None)."""
        stale = select(meetings.c.id).where(meetings.c.room_jid == jid, meetings.c.started_ms >= start)
        if next_start is not None:
            stale = stale.where(meetings.c.started_ms < next_start)
        rows, courses, finished = [], [], []
        for presence in computed:
            meeting, columns = summarize(presence, conn)
            source = columns.pop("course_source", "claim")
            row = meeting_index_row(meeting)
            row.update(columns)
            rows.append(row)
            courses.extend({"meeting": row["id"], "course": c, "source": source} for c in sorted(set(meeting.courses)))
            if meeting.ended_at is not None:
                finished.append((row, tuple(meeting.courses)))
        doomed = set(conn.execute(stale).scalars()) | {r["id"] for r in rows}
        if doomed:
            conn.execute(delete(meeting_courses).where(meeting_courses.c.meeting.in_(doomed)))
            conn.execute(delete(meetings).where(meetings.c.id.in_(doomed)))
        if rows:
            conn.execute(meetings.insert(), rows)
        if courses:
            conn.execute(meeting_courses.insert(), courses)
        if finished and self.on_finished is not None:
            self.on_finished(conn, finished)
        conn.execute(update(rooms).where(rooms.c.jid == jid).values(dirty_from_ms=next_start))

    def _compute_window(self, conn: Connection, jid: str, start: int, compute):
        """The meetings (rules.Presence) of one window of the room from `start`, where the next
        window starts, and for the room's last window the rules' builder of it and whether that
        was a kept one brought up to date.

        A window holds about `window_events` events and ends where a meeting of the
        room begins. The meetings it finishes are final (nothing after a meeting's end changes
        it); the next window starts at the first meeting it could not finish (None: this window
        reached the room's last event, and every meeting in it is returned, running ones too).
        A meeting bigger than a window doubles the window.
        """
        size = self.window_events
        while True:
            window_end = self._window_end(conn, jid, start, size)
            if window_end is None:
                builder = self._resume(conn, jid, start)
                if builder is not None:
                    instances = server_instances.named(conn, builder.instance_names)
                    return builder.presences(instances), None, builder, True
            room_events = self.storage.events_between(conn, jid, start, None if window_end is None else window_end - 1)
            builder, computed = compute(room_events, server_instances.of_events(conn, room_events))
            del room_events
            if window_end is None:
                return computed, None, builder, False
            finished = [p for p in computed if p.end is not None and p.end < window_end]
            finished_ids = {id(p) for p in finished}
            unfinished = [p.start for p in computed if id(p) not in finished_ids]
            next_start = min(unfinished) if unfinished else window_end
            if next_start > start:
                return finished, next_start, None, False
            size *= 2

    def _resume(self, conn: Connection, jid: str, start: int) -> rules.PresenceBuilder | None:
        """The kept builder of the room's events from `start`, with the events it has not read
        added; None when none is kept, or it cannot be brought up to date (an event it read is
        gone, or a new one sorts before its last: only a builder of all of them is right)."""
        builder = self.live.take(jid, start)
        if builder is None:
            return None
        stored = self.storage.room_event_ids(conn, jid, start)
        new = stored - builder.ids
        if len(stored) - len(new) != len(builder.ids):
            return None
        if new and not builder.add(self.storage.events_with_ids(conn, new)):
            return None
        return builder

    @staticmethod
    def _window_end(conn: Connection, jid: str, start: int, size: int) -> int | None:
        """Where a window of about `size` events from `start` ends: at the next room.created of
        the room after that many events. None: the rest of the room fits in this window."""
        nth = conn.execute(select(events.c.time_ms).where(events.c.main_room_jid == jid, events.c.time_ms >= start)
                           .order_by(events.c.time_ms).offset(size).limit(1)).scalar()
        if nth is None:
            return None
        boundary = conn.execute(select(func.min(events.c.time_ms)).where(
            events.c.main_room_jid == jid, events.c.room_jid == jid, events.c.type == "room.created",
            events.c.time_ms >= nth)).scalar()
        return boundary if boundary is not None and boundary > start else None


def meeting_public_id(key: str) -> str:
    """The meeting's id in URLs: its key (Jitsi's meeting_id or a stable uuid5), which reports
    also print, unless a server sent a meeting_id unusable in a URL path."""
    if _URL_SAFE_KEY.fullmatch(key):
        return key
    return str(uuid.uuid5(MEETING_NAMESPACE, key))


def meeting_index_row(meeting) -> dict:
    return {
        "id": meeting_public_id(meeting.key),
        "engine_key": meeting.key,
        "room_jid": meeting.room_jid,
        "room_name": meeting.room_name,
        "meeting_id": meeting.meeting_id,
        "started_ms": to_ms(meeting.started_at),
        "ended_ms": None if meeting.ended_at is None else to_ms(meeting.ended_at),
        "closed_by": meeting.closed_by,
        "instance": meeting.instance,
        "participant_count": len(meeting.participants),
    }
