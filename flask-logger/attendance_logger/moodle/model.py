"""Moodle's records as the receiver uses them: what the web service client returns and the sync
planner reads. Times are aware UTC datetimes (Moodle sends Unix seconds); ids are Moodle's own."""
from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Mapping


@dataclasses.dataclass(frozen=True)
class SiteInfo:
    user_id: int  # the web-service user: what update_user_status records as the taker
    username: str
    fullname: str
    site_url: str
    release: str | None
    functions: frozenset[str]  # the functions of the token's service


@dataclasses.dataclass(frozen=True)
class Course:
    id: int
    shortname: str
    fullname: str


@dataclasses.dataclass(frozen=True)
class Activity:
    """An activity placed in a course: `cmid` is its course-module id, `instance` its own id (an
    Attendance activity's `attendanceid`)."""
    cmid: int
    instance: int
    name: str
    visible: bool


@dataclasses.dataclass(frozen=True)
class EnrolledUser:
    id: int
    fullname: str
    email: str | None  # None when Moodle withholds it (moodle/course:useremail)
    username: str | None  # None when Moodle withholds it (moodle/user:viewalldetails)
    roles: tuple[str, ...]  # role shortnames in the course: student, teacher, editingteacher, ...


@dataclasses.dataclass(frozen=True)
class Status:
    id: int
    acronym: str
    description: str
    grade: float


@dataclasses.dataclass(frozen=True)
class AttendanceSession:
    id: int
    attendance_id: int
    group_id: int  # 0: the whole course
    start: dt.datetime
    duration_seconds: int
    statusset: int
    description: str
    statuses: tuple[Status, ...]  # the session's status set: visible statuses, ids per activity
    taken: Mapping[int, int]  # student id -> status id already recorded
    listed: frozenset[int]  # the students the session expects (mod/attendance:canbelisted, its group)

    @property
    def end(self) -> dt.datetime:
        return self.start + dt.timedelta(seconds=self.duration_seconds)


def from_unix(seconds: int | str) -> dt.datetime:
    return dt.datetime.fromtimestamp(int(seconds), dt.timezone.utc)


def to_unix(moment: dt.datetime) -> int:
    if moment.tzinfo is None:
        raise ValueError("a naive datetime has no place on Moodle's clock; give it a time zone")
    return int(moment.timestamp())
