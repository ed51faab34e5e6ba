"""A meeting as pages and exports present it: who was there, in which role, and the statistics of
its students.

Read from `reports.meeting_json`, the meeting's published shape, so that what it gains (the
scheduled lesson it is measured against, class-list students who never joined, how each person
was identified, its Moodle sync state) reaches every page and export, and a meeting without them
is shown as before:

- `reference`: `{"kind", "start", "end", ...}`, what late / left early / percent were measured
  against; shown when its kind is a scheduled lesson, not the meeting itself;
- `absentees`: the class list's students who never joined (`name`, `email`, `user_id`, `group`,
  `course`): students with status absent and no times (a participant with `first_join` null is
  read the same way);
- `key_kind`: user_id, email, signed_name or guest; without it, a participant keyed by a bare JID
  or an occupant (no token identity) is a guest; `ambiguous`: why a row may be two people who
  share a signed name;
- `sync`: the meeting's Moodle sync, one state per course.

Roles: a teacher is a participant whose token (or room role) made them a moderator; a guest had
no identity; a visitor's token names another course than the one being looked at. Only students
count in a lesson's statistics and a course's grid.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any, Mapping

from . import reports
from .meetings_index import meeting_public_id
from .names import fold_course
from .times import parse_time

ATTENDED = ("present", "partial")
GUEST_KEY_PREFIXES = ("jid:", "occupant:")


def _time(value: str | None) -> dt.datetime | None:
    return None if value is None else parse_time(value)


@dataclasses.dataclass
class Person:
    key: str
    name: str
    names: list[str]
    email: str | None
    user_id: str | None
    claims: dict
    key_kind: str | None
    role: str  # "student" | "teacher" | "guest" | "visitor"
    intervals: list[tuple[dt.datetime, dt.datetime]]
    first_join: dt.datetime | None  # None: never joined (absent, from the class list)
    last_leave: dt.datetime | None  # None while still connected, or never joined
    present_seconds: float
    percent: float
    status: str
    late: bool
    left_early: bool
    still_present: bool
    ambiguous: str | None = None

    @property
    def joined(self) -> bool:
        return self.first_join is not None

    @property
    def attended(self) -> bool:
        return self.status in ATTENDED

    @property
    def minutes(self) -> float:
        return self.present_seconds / 60

    @property
    def group(self) -> str | None:
        value = self.claims.get("groupid")
        return None if value in (None, "") else str(value)


@dataclasses.dataclass
class Stats:
    """A lesson's statistics over its students (teachers, guests and visitors left out)."""

    students: int
    attended: int
    late: int
    left_early: int
    average_percent: float

    @property
    def rate(self) -> float:
        return 100.0 * self.attended / self.students if self.students else 0.0


@dataclasses.dataclass
class Lesson:
    id: str  # the id in URLs
    room: str
    room_jid: str
    started_at: dt.datetime
    ended_at: dt.datetime | None  # None while running
    closed_by: str | None
    duration_seconds: float
    reference: tuple[dt.datetime, dt.datetime] | None
    sync: Any
    people: list[Person]

    @property
    def running(self) -> bool:
        return self.ended_at is None

    @property
    def end(self) -> dt.datetime:
        """Where the meeting ends, or now while it runs."""
        return self.ended_at or self.started_at + dt.timedelta(seconds=self.duration_seconds)

    @property
    def window(self) -> tuple[dt.datetime, dt.datetime]:
        """The span a timeline shows: the meeting and its scheduled lesson, whichever is wider."""
        start, end = self.started_at, self.end
        if self.reference:
            start, end = min(start, self.reference[0]), max(end, self.reference[1])
        return start, end

    def with_role(self, role: str) -> list[Person]:
        return [p for p in self.people if p.role == role]

    @property
    def students(self) -> list[Person]:
        return self.with_role("student")

    @property
    def stats(self) -> Stats:
        students = self.students
        return Stats(students=len(students), attended=sum(p.attended for p in students),
                     late=sum(p.late for p in students), left_early=sum(p.left_early for p in students),
                     average_percent=sum(p.percent for p in students) / len(students) if students else 0.0)


def role_of(participant: Mapping, course: str | None) -> str:
    if participant.get("moderator"):
        return "teacher"
    kind = participant.get("key_kind")
    if kind == "guest" or (kind is None and str(participant.get("key", "")).startswith(GUEST_KEY_PREFIXES)):
        return "guest"
    claimed = (participant.get("claims") or {}).get("courseid")
    if course is not None and claimed not in (None, "") and fold_course(str(claimed)) != fold_course(course):
        return "visitor"
    return "student"


def _reference(value: Any) -> tuple[dt.datetime, dt.datetime] | None:
    if isinstance(value, Mapping) and value.get("kind") != "meeting" and value.get("start") and value.get("end"):
        try:
            return parse_time(value["start"]), parse_time(value["end"])
        except (TypeError, ValueError):
            return None
    return None


def _absentee(entry: Mapping, course: str | None) -> Person | None:
    """A class-list student who never joined, as a student row with status absent (None: a
    student of another course than the one looked at)."""
    their_course = entry.get("course")
    if course is not None and their_course and fold_course(str(their_course)) != fold_course(course):
        return None
    user_id, email, name = entry.get("user_id"), entry.get("email"), entry.get("name") or ""
    key = f"user:{user_id}" if user_id else f"email:{email}" if email else f"name:{name}"
    claims = {claim: entry[field] for claim, field in (("courseid", "course"), ("groupid", "group")) if entry.get(field)}
    return Person(key=key, name=name, names=[], email=email, user_id=user_id, claims=claims, key_kind=None,
                  role="student", intervals=[], first_join=None, last_leave=None, present_seconds=0.0, percent=0.0,
                  status="absent", late=False, left_early=False, still_present=False)


def lesson_from_json(data: Mapping, public_id: str | None = None, course: str | None = None) -> Lesson:
    """A Lesson from `reports.meeting_json`'s shape; `course`: the course it is looked at for."""
    people = []
    for p in data["participants"]:
        people.append(Person(
            key=p["key"], name=p.get("name") or "", names=list(p.get("names") or []), email=p.get("email"),
            user_id=p.get("user_id"), claims=dict(p.get("claims") or {}), key_kind=p.get("key_kind"),
            role=role_of(p, course), intervals=[(parse_time(a), parse_time(b)) for a, b in p.get("intervals") or []],
            first_join=_time(p.get("first_join")), last_leave=_time(p.get("last_leave")),
            present_seconds=float(p.get("present_seconds") or 0), percent=float(p.get("percent") or 0),
            status=p.get("status") or "absent", late=bool(p.get("late")), left_early=bool(p.get("left_early")),
            still_present=bool(p.get("still_present")), ambiguous=p.get("ambiguous") or None))
    people.extend(filter(None, (_absentee(entry, course) for entry in data.get("absentees") or [])))
    return Lesson(
        id=public_id or meeting_public_id(data["id"]), room=data["room"], room_jid=data["room_jid"],
        started_at=parse_time(data["started_at"]), ended_at=_time(data.get("ended_at")),
        closed_by=data.get("closed_by"), duration_seconds=float(data.get("duration_seconds") or 0),
        reference=_reference(data.get("reference")), sync=data.get("sync"), people=people)


def lesson_of(meeting, public_id: str | None = None, course: str | None = None, *,
              sync: list | None = None) -> Lesson:
    """A Lesson from a computed meeting (rules.Meeting); `sync`: its Moodle sync per course."""
    return lesson_from_json(reports.meeting_json(meeting, sync=sync), public_id, course)
