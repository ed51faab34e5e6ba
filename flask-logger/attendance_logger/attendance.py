"""Attendance of stored meetings: the store supplies events, the rules compute, reports render.

When the meetings index is refreshed, each meeting's presence (rules.Presence: what its events
say before any setting applies) is kept as JSON, and so is a finished meeting's attendance;
reports read the attendance back. A running meeting (its numbers grow with the clock), or one
whose attendance was kept under other settings, is classified from its kept presence under the
current settings: neither reads the meeting's events again.
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

from . import lessons, reports, rules
from .class_store import ClassStore
from .course_names import CourseNames
from .meetings_index import MeetingsIndex, read_meetings
from .storage import compact_json

log = logging.getLogger("attendance_logger.attendance")
READ_REFRESH_BUDGET_SECONDS = 15.0
# The background refresher leaves rooms alone until their events stop for this long.
QUIET_ROOM_SECONDS = 10.0


# Bumped when the JSON of a presence changes, or what it keys people by: kept presences of another
# format are recomputed (2: signed names scoped to their issuer key people without id or e-mail).
PRESENCE_FORMAT = 2
# Bumped when what a kept result holds changes: results of another format are computed again
# (2: reference, absentees, courses, key_kind).
RESULT_FORMAT = 2


def _now_ms() -> int:
    return rules.to_ms(dt.datetime.now(dt.timezone.utc))


class MeetingNotFound(Exception):
    pass


def presence_json(presence: rules.Presence) -> str:
    """A presence as compact JSON: people as arrays, session times in ms from the meeting's start
    (a leave of null: still connected), so a lesson of 10,000 connections takes ~200 kB."""
    start = presence.start
    people = [[p.key, p.name, p.names, p.email, p.user_id, p.moderator, p.claims,
               [ms for joined, left in p.sessions for ms in (joined - start, None if left is None else left - start)]]
              for p in presence.people]
    return compact_json({"format": PRESENCE_FORMAT, "key": presence.key, "room_jid": presence.room_jid,
                         "room": presence.room_name, "meeting_id": presence.meeting_id,
                         "instance": presence.instance, "start": start, "end": presence.end,
                         "closed_by": presence.closed_by, "people": people})


def presence_from_json(text: str) -> rules.Presence | None:
    """The inverse of presence_json; None for a presence kept in another format."""
    data = json.loads(text)
    if data.get("format") != PRESENCE_FORMAT:
        return None
    start = data["start"]

    def sessions(flat):
        return [(start + flat[i], None if flat[i + 1] is None else start + flat[i + 1]) for i in range(0, len(flat), 2)]

    people = [rules.PersonPresence(key=key, name=name, names=names, email=email, user_id=user_id,
                                    moderator=moderator, claims=claims, sessions=sessions(flat))
              for key, name, names, email, user_id, moderator, claims, flat in data["people"]]
    return rules.Presence(key=data["key"], room_jid=data["room_jid"], room_name=data["room"],
                           meeting_id=data["meeting_id"], instance=data["instance"], start=start,
                           end=data["end"], closed_by=data["closed_by"], people=people)


def meeting_from_json(data: dict) -> rules.Meeting:
    """The inverse of reports.meeting_json (its `sync` is not part of a meeting)."""
    parse = rules.parse_time

    def maybe(value):
        return None if value is None else parse(value)

    reference = None
    if data.get("reference"):
        ref = data["reference"]
        lesson = None
        if ref["kind"] == "lesson":
            lesson = lessons.Lesson(course=ref["course"], group=ref["group"], start_ms=rules.to_ms(parse(ref["start"])),
                                    end_ms=rules.to_ms(parse(ref["end"])), source=ref["source"],
                                    origin=ref["origin"] or "", external_id=ref.get("moodle_session"))
        reference = rules.Reference(start=parse(ref["start"]), end=parse(ref["end"]), lesson=lesson, note=ref["note"])

    participants = [rules.Participant(
        key=p["key"], name=p["name"], names=list(p["names"]), email=p["email"], user_id=p["user_id"],
        claims=dict(p["claims"]), moderator=p["moderator"],
        intervals=[(parse(a), parse(b)) for a, b in p["intervals"]],
        first_join=parse(p["first_join"]), last_leave=maybe(p["last_leave"]),
        present_seconds=float(p["present_seconds"]), percent=p["percent"], status=p["status"], late=p["late"],
        left_early=p["left_early"], still_present=p["still_present"], key_kind=p["key_kind"],
        ambiguous=p["ambiguous"], enrolled=p["enrolled"]) for p in data["participants"]]
    absentees = [lessons.Enrolled(course=a["course"], name=a["name"], user_id=a["user_id"], username=a["username"],
                                  email=a["email"], group=a["group"], source=a["source"]) for a in data["absentees"]]
    return rules.Meeting(
        key=data["id"], room_jid=data["room_jid"], room_name=data["room"], meeting_id=data["meeting_id"],
        started_at=parse(data["started_at"]), ended_at=maybe(data["ended_at"]), closed_by=data["closed_by"],
        participants=participants, duration_seconds=float(data["duration_seconds"]), reference=reference,
        absentees=absentees, courses=tuple(data["courses"]), group=data["group"])


class Attendance:
    """The receiver's attendance: the meetings index, and each meeting classified under the
    settings with its lesson and class list (class_store.py)."""

    def __init__(self, storage, settings: dict, course_names: CourseNames | None = None):
        self.storage = storage
        self.index = MeetingsIndex(storage)
        self.settings = settings if isinstance(settings, rules.Settings) else rules.Settings.from_mapping(settings or {})
        self.classes = ClassStore(storage, course_names, self.settings.claims)
        self.fingerprint = hashlib.sha256(json.dumps([dataclasses.asdict(self.settings), RESULT_FORMAT,
                                                      self.classes.course_names.fingerprint], sort_keys=True)
                                          .encode()).hexdigest()[:16]
        self._refresher: threading.Thread | None = None
        self.moodle = None  # moodle.jobs.MoodleSync when ATTENDANCE_MOODLE_URL is set

    def result_tag(self, version: str) -> str:
        """What a kept result is tagged with: the settings' fingerprint and the class data's
        version (none before any class list or timetable was imported)."""
        return self.fingerprint if version == "0" else f"{self.fingerprint}:{version}"

    @staticmethod
    def _compute(events, instances) -> tuple[rules.PresenceBuilder, list[rules.Presence]]:
        return read_meetings(events, instances)

    def _summarize(self, presence: rules.Presence, conn=None) -> tuple[rules.Meeting, dict]:
        """A meeting's attendance under the current settings, the columns kept of it (and its
        courses, `courses` of rules.Meeting, with `course_source`)."""
        if conn is None:
            with self.storage.read() as conn:
                return self._summarize(presence, conn)
        version = self.classes.version(conn)
        context = self.classes.context(conn, presence, _now_ms(), version)
        meeting = self._classify(presence, context=context)
        columns = self._columns(presence, meeting, version)
        columns["course_source"] = "room" if context.from_room else "claim"
        return meeting, columns

    def _classify(self, presence: rules.Presence, now: dt.datetime | None = None,
                  context: lessons.MeetingContext | None = None) -> rules.Meeting:
        now_ms = rules.to_ms(now) if now is not None else _now_ms()
        return rules.classify(presence, self.settings, now_ms, context)

    def _columns(self, presence: rules.Presence, meeting: rules.Meeting, version: str) -> dict:
        if meeting.ended_at is None:
            result = result_settings = None
        else:
            result = json.dumps(reports.meeting_json(meeting), ensure_ascii=False, separators=(",", ":"))
            result_settings = self.result_tag(version)
        return {"presence": presence_json(presence), "result": result, "result_settings": result_settings}

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

    def meeting(self, meeting_id: str, now: dt.datetime | None = None) -> rules.Meeting:
        """One meeting's attendance (its room and breakout rooms)."""
        self.refresh()
        row = self.storage.get_meeting(meeting_id)
        if row is None:
            raise MeetingNotFound(meeting_id)
        return self._meeting_of(row, now)

    def _meeting_of(self, row, now=None) -> rules.Meeting:
        with self.storage.read() as conn:
            version = self.classes.version(conn)
            if row.result is not None and row.result_settings == self.result_tag(version):
                return meeting_from_json(json.loads(row.result))
            presence = presence_from_json(row.presence) if row.presence is not None else None
            kept = presence is not None
            if not kept:  # indexed before presences were kept, or under another format
                presence = self._presence_from_events(row)
            context = self.classes.context(conn, presence, rules.to_ms(now) if now else _now_ms(), version)
        meeting = self._classify(presence, now, context)
        if meeting.ended_at is not None or not kept:
            # Keep it under the current settings (they changed), unless a refresh replaced the
            # row meanwhile: what it wrote is newer.
            self.storage.keep_result(row.id, based_on=row.presence, **self._columns(presence, meeting, version))
        return meeting

    def measured_with(self, meeting_id: str, context: lessons.MeetingContext) -> rules.Meeting:
        """A meeting's attendance against the lessons and class list of `context` instead of the
        stored ones (a dry run of the Moodle sync measures against Moodle's current sessions
        without storing them); nothing is kept."""
        self.refresh()
        row = self.storage.get_meeting(meeting_id)
        if row is None:
            raise MeetingNotFound(meeting_id)
        presence = presence_from_json(row.presence) if row.presence is not None else None
        return self._classify(presence or self._presence_from_events(row), context=context)

    def _presence_from_events(self, row) -> rules.Presence:
        events, instances = self.storage.meeting_inputs(row)
        for presence in read_meetings(events, instances)[1]:
            if presence.key == row.engine_key:
                return presence
        raise MeetingNotFound(row.id)  # its events were purged since the index was built

    def course(self, course: str, now: dt.datetime | None = None) -> Iterator[rules.Meeting]:
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
