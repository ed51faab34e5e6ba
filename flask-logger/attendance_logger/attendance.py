"""Attendance of stored meetings: the store supplies events, the engine computes, reports render.

A finished meeting's attendance is computed once, when the meetings index is refreshed, and kept
as JSON; reports read it back. Running meetings (their numbers grow with the clock) and results
computed under other settings are computed from the meeting's events on every read.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import logging
import threading
import time
from typing import Iterator

from . import engine, reports
from .meetings_index import MeetingsIndex

log = logging.getLogger("attendance_logger.attendance")
READ_REFRESH_BUDGET_SECONDS = 15.0
# The background refresher leaves rooms alone until their events stop for this long.
QUIET_ROOM_SECONDS = 10.0


class MeetingNotFound(Exception):
    pass


def meeting_from_json(data: dict) -> engine.Meeting:
    """The inverse of reports.meeting_json."""
    parse = engine.parse_time

    def maybe(value):
        return None if value is None else parse(value)

    participants = [engine.Participant(
        key=p["key"], name=p["name"], names=list(p["names"]), email=p["email"], user_id=p["user_id"],
        claims=dict(p["claims"]), moderator=p["moderator"],
        intervals=[(parse(a), parse(b)) for a, b in p["intervals"]],
        first_join=parse(p["first_join"]), last_leave=maybe(p["last_leave"]),
        present_seconds=float(p["present_seconds"]), percent=p["percent"], status=p["status"], late=p["late"],
        left_early=p["left_early"], still_present=p["still_present"]) for p in data["participants"]]
    return engine.Meeting(
        key=data["id"], room_jid=data["room_jid"], room_name=data["room"], meeting_id=data["meeting_id"],
        started_at=parse(data["started_at"]), ended_at=maybe(data["ended_at"]), closed_by=data["closed_by"],
        participants=participants, duration_seconds=float(data["duration_seconds"]))


class Attendance:
    def __init__(self, storage, settings: dict):
        self.storage = storage
        self.index = MeetingsIndex(storage)
        self.settings = engine.Settings.from_mapping(settings or {})
        self.fingerprint = hashlib.sha256(json.dumps(dataclasses.asdict(self.settings), sort_keys=True)
                                          .encode()).hexdigest()[:16]
        self._refresher: threading.Thread | None = None

    def _compute(self, events, instances, now=None):
        return engine.compute(events, self.settings, instances=instances, now=now)

    def _summarize(self, meeting: engine.Meeting) -> dict:
        if meeting.ended_at is None:
            return {"result": None, "result_settings": None}
        return {"result": json.dumps(reports.meeting_json(meeting), ensure_ascii=False, separators=(",", ":")),
                "result_settings": self.fingerprint}

    def refresh(self, budget_seconds: float | None = READ_REFRESH_BUDGET_SECONDS,
                quiet_seconds: float | None = None) -> None:
        """Bring the meetings index up to date with everything ingested so far.

        A read spends at most `budget_seconds` on it (a bulk import can leave minutes of work),
        then answers from the index as it stands; the background refresher finishes the rest.
        """
        if not self.index.refresh(self._compute, self._summarize, budget_seconds=budget_seconds,
                                  quiet_seconds=quiet_seconds):
            log.warning("meetings index still being brought up to date; this answer may miss recent events")

    def meetings(self, **filters) -> list:
        self.refresh()
        return self.storage.list_meetings(**filters)

    def meeting(self, meeting_id: str, now: dt.datetime | None = None) -> engine.Meeting:
        """One meeting's attendance (its room and breakout rooms)."""
        self.refresh()
        row = self.storage.get_meeting(meeting_id)
        if row is None:
            raise MeetingNotFound(meeting_id)
        return self._meeting_of(row, now)

    def _meeting_of(self, row, now=None) -> engine.Meeting:
        if row.result is not None and row.result_settings == self.fingerprint:
            return meeting_from_json(json.loads(row.result))
        events, instances = self.storage.meeting_inputs(row)
        for computed in self._compute(events, instances, now):
            if computed.key == row.engine_key:
                if computed.ended_at is not None:
                    # Kept under other settings (they changed): keep it under the current ones.
                    self.storage.keep_result(row.id, **self._summarize(computed))
                return computed
        raise MeetingNotFound(row.id)  # its events were purged since the index was built

    def course(self, course: str, now: dt.datetime | None = None) -> Iterator[engine.Meeting]:
        """The course's meetings one at a time, oldest first, so exports stream in bounded memory."""
        self.refresh()
        for summary in self.storage.course_meetings(course):
            row = self.storage.get_meeting(summary.id)
            if row is None:
                continue  # purged meanwhile
            try:
                yield self._meeting_of(row, now)
            except MeetingNotFound:
                continue

    def start_background_refresh(self, interval_seconds: float) -> None:
        """Refresh the index of quiet rooms every few seconds in this process, so reads after a
        bulk import or a finished lesson find it ready. Started once per worker process
        (threads do not survive fork)."""
        if interval_seconds <= 0 or (self._refresher is not None and self._refresher.is_alive()):
            return

        def loop():
            while True:
                time.sleep(interval_seconds)
                try:
                    self.refresh(budget_seconds=None, quiet_seconds=QUIET_ROOM_SECONDS)
                except Exception:  # keep refreshing; the next read refreshes inline anyway
                    log.exception("background refresh of the meetings index failed")

        self._refresher = threading.Thread(target=loop, name="attendance-refresh", daemon=True)
        self._refresher.start()
