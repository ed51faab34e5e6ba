"""Attendance reports: JSON-ready dicts and CSV files computed meetings are rendered to.

Pure (no Flask, no database), so the API, the dashboard and the CLI render the same report.

CSV files are made to open correctly in Excel and LibreOffice and to be safe there:

- UTF-8 with a byte-order mark, so Excel does not read names as Windows-1252;
- RFC 4180: comma separated, CRLF line ends, a field quoted when it holds a comma, a quote, CR or
  LF, quotes doubled inside;
- protection against CSV formula injection (OWASP "CSV Injection"): a text cell that starts with
  `=`, `+`, `-`, `@`, a tab or a carriage return, also after leading spaces (spreadsheets skip
  them, LibreOffice non-breaking and other Unicode spaces too), would be run as a formula, so it
  is written with a leading `'` (`=HYPERLINK(…)` becomes `'=HYPERLINK(…)`). Only cells that come
  from people (names, e-mail, ids, claims, room names) are touched; times and numbers we write
  never start with those characters.

CSV is produced as a stream of `str` chunks (one per batch of rows), so a course export of many
meetings is never held in memory whole.
"""
from __future__ import annotations

import csv
import io
from typing import Any, Iterable, Iterator

from .lessons import Enrolled
from .rules import Meeting, Participant, Reference, Settings
from .times import format_time

BOM = "\ufeff"
DEFAULT_SETTINGS = Settings()
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
ROWS_PER_CHUNK = 200


# ------------------------------------------------------------------------------------------------
# JSON
# ------------------------------------------------------------------------------------------------
def _time(moment) -> str | None:
    return None if moment is None else format_time(moment)


def participant_json(participant: Participant) -> dict:
    return {
        "key": participant.key,
        "name": participant.name,
        "names": list(participant.names),
        "email": participant.email,
        "user_id": participant.user_id,
        "claims": dict(participant.claims),
        "moderator": participant.moderator,
        "intervals": [[_time(start), _time(end)] for start, end in participant.intervals],
        "first_join": _time(participant.first_join),
        "last_leave": _time(participant.last_leave),
        "present_seconds": _number(participant.present_seconds),
        "percent": participant.percent,
        "status": participant.status,
        "late": participant.late,
        "left_early": participant.left_early,
        "still_present": participant.still_present,
        "key_kind": participant.key_kind,
        "ambiguous": participant.ambiguous,
        "enrolled": participant.enrolled,
    }


def reference_json(reference: Reference | None) -> dict | None:
    """What late, left early and percent were measured against: `kind` "lesson" (with its course,
    group, source and origin) or "meeting"; `note` says why a nearby lesson was not taken."""
    if reference is None:
        return None
    lesson = reference.lesson
    return {"kind": reference.kind, "start": _time(reference.start), "end": _time(reference.end),
            "course": lesson and lesson.course, "group": lesson and lesson.group,
            "source": lesson and lesson.source, "origin": lesson and lesson.origin,
            "moodle_session": lesson and lesson.external_id, "note": reference.note}


def enrolled_json(entry: Enrolled) -> dict:
    """A student of a class list."""
    return {"name": entry.name, "email": entry.email, "user_id": entry.user_id, "username": entry.username,
            "group": entry.group, "course": entry.course, "source": entry.source}


def absentee_json(entry: Enrolled) -> dict:
    """A student on the class list who never joined: a row with status absent."""
    return {**enrolled_json(entry), "status": "absent", "never_joined": True}


def meeting_json(meeting: Meeting, *, sync: list | None = None) -> dict:
    """A meeting's attendance, ready for `json.dumps` (times RFC 3339 UTC with milliseconds).

    `sync`: the meeting's Moodle sync per course (moodle.jobs.MoodleSync.states), None when Moodle
    is not configured."""
    return {
        "id": meeting.key,
        "room": meeting.room_name,
        "room_jid": meeting.room_jid,
        "meeting_id": meeting.meeting_id,
        "started_at": _time(meeting.started_at),
        "ended_at": _time(meeting.ended_at),
        "running": meeting.ended_at is None,
        "closed_by": meeting.closed_by,
        "duration_seconds": _number(meeting.duration_seconds),
        "participants": [participant_json(p) for p in meeting.participants],
        "courses": list(meeting.courses),
        "group": meeting.group,
        "reference": reference_json(meeting.reference),
        "absentees": [absentee_json(entry) for entry in meeting.absentees],
        "sync": sync,
    }


def _number(value: float) -> int | float:
    """Whole seconds as integers (how people read them); otherwise milliseconds at most."""
    return int(value) if float(value).is_integer() else round(value, 3)


# ------------------------------------------------------------------------------------------------
# CSV
# ------------------------------------------------------------------------------------------------
def meeting_columns(settings: Settings) -> list[str]:
    return ["name", "email", "user_id", *settings.claims, "first_join", "last_leave", "present_seconds",
            "percent", "status"]


def course_columns(settings: Settings) -> list[str]:
    return ["meeting_id", "room", "meeting_start", *meeting_columns(settings)]


def safe_cell(value: Any) -> str:
    """A person-supplied value as a CSV cell that no spreadsheet will run as a formula."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    if text.startswith(FORMULA_TRIGGERS) or text.lstrip().startswith(FORMULA_TRIGGERS):
        return "'" + text
    return text


def _participant_cells(participant: Participant, settings: Settings) -> list[str]:
    return [
        safe_cell(participant.name),
        safe_cell(participant.email),
        safe_cell(participant.user_id),
        *(safe_cell(participant.claims.get(claim)) for claim in settings.claims),
        _time(participant.first_join) or "",
        _time(participant.last_leave) or "",
        str(_number(participant.present_seconds)),
        f"{participant.percent:.1f}",
        participant.status,
    ]


def _absentee_cells(entry: Enrolled, settings: Settings) -> list[str]:
    """A student on the class list who never joined, in the participants' columns."""
    return [safe_cell(entry.name), safe_cell(entry.email), safe_cell(entry.user_id),
            *("" for _ in settings.claims), "", "", "0", "0.0", "absent"]


def _rows(meeting: Meeting, settings: Settings, *, students_only: bool = False,
          course: str | None = None) -> Iterator[list[str]]:
    filter_course = course is not None and "courseid" in settings.claims
    for participant in meeting.participants:
        if students_only and participant.moderator:
            continue
        if filter_course and "courseid" in participant.claims and str(participant.claims["courseid"]) != course:
            continue
        yield _participant_cells(participant, settings)
    for entry in meeting.absentees:
        if course is None or entry.course == course:
            yield _absentee_cells(entry, settings)


class _CsvChunks:
    """Rows in, RFC 4180 text chunks out."""

    def __init__(self) -> None:
        self.buffer = io.StringIO()
        self.writer = csv.writer(self.buffer, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
        self.rows = 0

    def add(self, row: list[str]) -> str | None:
        self.writer.writerow(row)
        self.rows += 1
        return self.take() if self.rows % ROWS_PER_CHUNK == 0 else None

    def take(self) -> str:
        text = self.buffer.getvalue()
        self.buffer.seek(0)
        self.buffer.truncate()
        return text


def meeting_csv(meeting: Meeting, settings: Settings = DEFAULT_SETTINGS) -> Iterator[str]:
    """One meeting's attendance as CSV chunks: the columns of `meeting_columns`, one row per
    participant, then one per student of the class list who never joined (status absent)."""
    out = _CsvChunks()
    out.add(meeting_columns(settings))
    yield BOM + out.take()
    for row in _rows(meeting, settings):
        chunk = out.add(row)
        if chunk:
            yield chunk
    rest = out.take()
    if rest:
        yield rest


def course_csv(meetings: Iterable[Meeting], settings: Settings = DEFAULT_SETTINGS, *,
               course: str | None = None) -> Iterator[str]:
    """A course's attendance as CSV chunks: one row per student per meeting, meetings as they come.

    Students are the participants whose token does not make them moderators (teachers); with
    `course` given and `courseid` on the claim allow-list, participants whose token names another
    course (a visiting teacher, say) are left out too, while those without a course claim (guests)
    stay. Students of the course's class list who never joined follow as absent. `meetings` is
    consumed lazily, so a caller can compute them one at a time.
    """
    out = _CsvChunks()
    out.add(course_columns(settings))
    yield BOM + out.take()
    for meeting in meetings:
        meeting_cells = [safe_cell(meeting.key), safe_cell(meeting.room_name), _time(meeting.started_at)]
        for row in _rows(meeting, settings, students_only=True, course=course):
            chunk = out.add(meeting_cells + row)
            if chunk:
                yield chunk
        rest = out.take()
        if rest:
            yield rest
