"""Attendance reports: JSON-ready dicts and CSV files computed meetings are rendered to (Excel
workbooks: workbooks.py).

Pure (no Flask, no database), so the API, the dashboard and the CLI render the same report.

CSV files are made to open correctly in Excel and LibreOffice and to be safe there:

- UTF-8 with a byte-order mark, so Excel does not read names as Windows-1252 (LibreOffice's
  Text Import dialog detects it too);
- RFC 4180: comma separated, CRLF line ends, a field quoted when it holds a comma, a quote, CR or
  LF, quotes doubled inside; with `Layout(separator=";")` semicolons and decimal commas, what
  spreadsheets in most of Europe expect;
- local dates and times in columns of their own (`2026-11-24`, `08:03:00`), which spreadsheets
  read as dates and times, beside the RFC 3339 UTC instants;
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
import dataclasses
import datetime as dt
import io
from typing import Any, Iterable, Iterator, Mapping

from .lessons import Enrolled
from .rules import Meeting, Participant, Reference, Settings
from .times import UTC, format_time

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
@dataclasses.dataclass(frozen=True)
class Layout:
    """How an export is laid out for its reader: the time zone of its local dates and times,
    readable headers of the claim columns (ATTENDANCE_CLAIM_LABELS), and the separator. With `;`
    (`?sep=;`, what spreadsheets in most of Europe expect) decimals take a comma as well."""

    zone: dt.tzinfo = UTC
    claim_labels: Mapping[str, str] = dataclasses.field(default_factory=dict)
    separator: str = ","

    @property
    def decimal(self) -> str:
        return "," if self.separator == ";" else "."

    def claim_header(self, claim: str) -> str:
        return self.claim_labels.get(claim) or DEFAULT_CLAIM_HEADERS.get(claim, claim)

    def number(self, value: float, places: int = 1) -> str:
        return f"{value:.{places}f}".replace(".", self.decimal)

    def zone_name(self) -> str:
        return getattr(self.zone, "key", None) or str(self.zone)


DEFAULT_LAYOUT = Layout()
DEFAULT_CLAIM_HEADERS = {"courseid": "course", "groupid": "group"}
SEPARATORS = (",", ";")


def rows_columns(settings: Settings, layout: Layout = DEFAULT_LAYOUT) -> list[str]:
    """The columns of the meeting and course CSV: one row per person per lesson. `date`,
    `start_time`, `first_join_time` and `last_leave_time` are local (`time_zone`); `meeting_start`,
    `first_join` and `last_leave` are the same instants in RFC 3339 UTC."""
    return ["meeting_id", "room", "date", "start_time", "name", "email", "user_id", "role",
            *(layout.claim_header(claim) for claim in settings.claims),
            "first_join_time", "last_leave_time", "minutes", "percent", "status", "late", "left_early",
            "meeting_start", "first_join", "last_leave", "present_seconds", "time_zone"]


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


def _clock(moment: dt.datetime | None, layout: Layout) -> str:
    """"08:03:12" in the layout's zone (formatted by hand: strftime is most of an export's time)."""
    if moment is None:
        return ""
    local = moment.astimezone(layout.zone)
    return f"{local.hour:02d}:{local.minute:02d}:{local.second:02d}"


def _lesson_cells(lesson, layout: Layout) -> tuple[list[str], str]:
    """The cells a lesson's rows share: before the person's, and its start as an instant."""
    start = lesson.started_at.astimezone(layout.zone)
    return [safe_cell(lesson.id), safe_cell(lesson.room), f"{start:%Y-%m-%d}", _clock(start, layout)], \
        _time(lesson.started_at)


def _person_cells(lesson_cells: tuple[list[str], str], person, settings: Settings, layout: Layout) -> list[str]:
    first, meeting_start = lesson_cells
    return [
        *first,
        safe_cell(person.name), safe_cell(person.email), safe_cell(person.user_id), person.role,
        *(safe_cell(person.claims.get(claim)) for claim in settings.claims),
        _clock(person.first_join, layout), _clock(person.last_leave, layout),
        layout.number(person.minutes), layout.number(person.percent), person.status,
        safe_cell(person.late), safe_cell(person.left_early),
        meeting_start, _time(person.first_join) or "", _time(person.last_leave) or "",
        str(_number(person.present_seconds)).replace(".", layout.decimal), layout.zone_name(),
    ]


class _CsvChunks:
    """Rows in, RFC 4180 text chunks out."""

    def __init__(self, separator: str = ",") -> None:
        if separator not in SEPARATORS:
            raise ValueError(f"separator must be one of {SEPARATORS}, got {separator!r}")
        self.buffer = io.StringIO()
        self.writer = csv.writer(self.buffer, delimiter=separator, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
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


def _rows_csv(lessons: Iterable, keep, settings: Settings, layout: Layout) -> Iterator[str]:
    out = _CsvChunks(layout.separator)
    out.add(rows_columns(settings, layout))
    yield BOM + out.take()
    for lesson in lessons:
        shared = _lesson_cells(lesson, layout)
        for person in lesson.people:
            if keep(person):
                chunk = out.add(_person_cells(shared, person, settings, layout))
                if chunk:
                    yield chunk
        rest = out.take()
        if rest:
            yield rest


def meeting_csv(meeting: Meeting, settings: Settings = DEFAULT_SETTINGS,
                layout: Layout = DEFAULT_LAYOUT, *, public_id: str | None = None) -> Iterator[str]:
    """One meeting's attendance as CSV chunks (`rows_columns`): everyone, their `role` telling
    students from teachers and guests."""
    from .lesson import lesson_of

    return _rows_csv([lesson_of(meeting, public_id)], lambda person: True, settings, layout)


def course_csv(meetings: Iterable[Meeting], settings: Settings = DEFAULT_SETTINGS, layout: Layout = DEFAULT_LAYOUT,
               *, course: str | None = None) -> Iterator[str]:
    """A course's attendance as CSV chunks: one row per student per meeting, meetings as they
    come (consumed lazily, so a caller can compute them one at a time).

    Students only: teachers (moderators), guests, and with `course` given participants whose
    token names another course are left out (lesson.py); the class list's students who never
    joined a meeting are rows too, when the meeting carries them.
    """
    from .lesson import lesson_of

    lessons = (lesson_of(meeting, course=course) for meeting in meetings)
    return _rows_csv(lessons, lambda person: person.role == "student", settings, layout)


def summary_csv(report, t, layout: Layout = DEFAULT_LAYOUT, rows=None) -> Iterator[str]:
    """A course's grid (course_report.CourseReport) as the course page shows it: a row per student
    (`rows`: in the page's order), a column per lesson, the totals, and a last row with each
    lesson's attendance rate; headers and statuses in the reader's language (`t`)."""
    out = _CsvChunks(layout.separator)
    lesson_headers = [lesson_heading(c.lesson, layout.zone, t) for c in report.columns]
    out.add([t("grid.student"), t("grid.email"), t("grid.group"), *(safe_cell(h) for h in lesson_headers),
             t("grid.attended"), t("grid.expected"), t("grid.minutes"), t("grid.average_percent"),
             t("grid.times_late"), t("grid.times_left_early"), t("grid.missed")])
    yield BOM + out.take()
    for row in report.sorted() if rows is None else rows:
        chunk = out.add([safe_cell(row.name), safe_cell(row.email), safe_cell(row.group),
                         *(cell_text(cell, t) for cell in row.cells),
                         str(row.attended), str(row.expected), layout.number(row.minutes),
                         layout.number(row.average_percent), str(row.late), str(row.left_early), str(row.missed)])
        if chunk:
            yield chunk
    out.add([t("grid.rate"), "", "", *(layout.number(c.rate) for c in report.columns), "", "", "", "", "", "", ""])
    yield out.take()


def lesson_heading(lesson, zone: dt.tzinfo, t) -> str:
    """A lesson's column heading in the grid's exports: "24 Nov 2026 07:58 maths-3b"."""
    from . import localtime

    return f"{localtime.day(lesson.started_at, zone, t, 'short')} {localtime.clock(lesson.started_at, zone)} {lesson.room}"


def cell_text(cell, t) -> str:
    """A grid cell as words: "present, late", "absent (never joined)", "" when not expected."""
    if cell is None:
        return ""
    words = [t(f"status.{cell.status}") if cell.joined else t("status.never_joined")]
    if cell.late:
        words.append(t("marks.late"))
    if cell.left_early:
        words.append(t("marks.left_early"))
    return ", ".join(words)
