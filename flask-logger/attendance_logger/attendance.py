"""Attendance of stored meetings: the store supplies events, the engine computes, reports render."""
from __future__ import annotations

import datetime as dt
from typing import Iterator

from . import engine


class MeetingNotFound(Exception):
    pass


class Attendance:
    def __init__(self, storage, settings: dict):
        self.storage = storage
        self.settings = engine.Settings.from_mapping(settings or {})

    def _compute(self, events, instances, now=None):
        return engine.compute(events, self.settings, instances=instances, now=now)

    def refresh(self) -> None:
        """Bring the meetings index up to date with everything ingested so far."""
        self.storage.refresh(self._compute)

    def meetings(self, **filters) -> list:
        self.refresh()
        return self.storage.list_meetings(**filters)

    def meeting(self, meeting_id: str, now: dt.datetime | None = None) -> engine.Meeting:
        """One meeting's attendance, computed from its own events (room and breakout rooms)."""
        self.refresh()
        row = self.storage.get_meeting(meeting_id)
        if row is None:
            raise MeetingNotFound(meeting_id)
        return self._meeting_of(row, now)

    def _meeting_of(self, row, now=None) -> engine.Meeting:
        events, instances = self.storage.meeting_inputs(row)
        for computed in self._compute(events, instances, now):
            if computed.key == row.engine_key:
                return computed
        raise MeetingNotFound(row.id)  # its events were purged since the index was built

    def course(self, course: str, now: dt.datetime | None = None) -> Iterator[engine.Meeting]:
        """The course's meetings one at a time, oldest first, so exports stream in bounded memory."""
        self.refresh()
        for row in self.storage.course_meetings(course):
            try:
                yield self._meeting_of(row, now)
            except MeetingNotFound:
                continue
