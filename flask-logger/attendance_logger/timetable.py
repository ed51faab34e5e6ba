"""Lessons from a timetable: a CSV file, or an iCalendar (.ics) export of timetable software.

A lesson is a course (and optional group) taught from a start to an end; times are kept as
time-zone-aware datetimes in UTC. Imports are all or nothing: any problem raises
table_import.ImportFailed naming its line and column (CSV) or its VEVENT and property (.ics).

CSV columns (header names matched without regard to case, `_`/`-` read as spaces):

| column | required | also accepted as | meaning |
|---|---|---|---|
| `course` | yes, unless the import names the course | `course shortname`, `shortname` | the course's shortname |
| `group` | no | `group name` | the group |
| `start` | yes | `start time`, `begin` | `2026-09-14 08:30` (or with `T`, seconds, or an offset such as `+02:00`/`Z`) |
| `duration` | one of these two | `minutes` | minutes (`55`) or hours and minutes (`1:30`) |
| `end` | | `end time`, `finish` | `09:25` (same day) or a full date and time |
| `timezone` | no | `time zone`, `tz` | an IANA zone such as `Europe/Madrid`; else the import's default zone |

iCalendar: every VEVENT with a date-time DTSTART and DTEND or DURATION is a lesson; RRULE, RDATE
and EXDATE recurrences and moved occurrences (RECURRENCE-ID) are expanded within the window the
import is given. The course comes from one property of the event (SUMMARY by default; or
CATEGORIES, LOCATION, DESCRIPTION): the whole value, or the named groups `course` and `group` of
a pattern matched against it. Events that are not lessons (all-day events, cancelled events, and
events the rule finds no course in) are skipped and listed, never silently dropped.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import re
import zoneinfo

import icalendar
import recurring_ical_events

from .named_pattern import NamedPattern
from .table_import import Column, ImportFailed, Problem, Table, read_table

COLUMNS = [
    Column("course", ("course shortname", "shortname"), required=True),
    Column("group", ("group name",)),
    Column("start", ("start time", "begin"), required=True),
    Column("duration", ("minutes",)),
    Column("end", ("end time", "finish")),
    Column("timezone", ("time zone", "tz")),
]
MAX_LESSON = dt.timedelta(hours=12)
MAX_OCCURRENCES = 20_000  # lessons from one file; more means an RRULE far finer than a timetable's
EVENT_PROPERTIES = ("SUMMARY", "CATEGORIES", "LOCATION", "DESCRIPTION")
_DATETIME = re.compile(r"(\d{4})-(\d{2})-(\d{2})[T ](\d{1,2}):(\d{2})(?::(\d{2}))?\s*(Z|[+-]\d{2}:?\d{2})?")
_TIME = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?")
_DURATION = re.compile(r"(?:(\d+):(\d{2})|(\d+))")


@dataclasses.dataclass(frozen=True)
class Lesson:
    course: str
    group: str | None
    start: dt.datetime  # aware, UTC
    end: dt.datetime  # aware, UTC
    origin: str  # where it came from: "line 4", or the event's UID and local start


@dataclasses.dataclass(frozen=True)
class TimetableImport:
    lessons: list[Lesson]
    skipped: list[str]  # events that are not lessons, each with the reason


class _Bad(ValueError):
    """A value that cannot be read; the message says what was expected."""


def zone_named(name: str) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise _Bad(f"unknown time zone {name!r}; use an IANA name such as Europe/Madrid") from None


def localize(naive: dt.datetime, zone: zoneinfo.ZoneInfo) -> dt.datetime:
    """`naive` as a wall-clock time in `zone`, refusing times that the zone skips or repeats when
    its clocks change, since either would silently move a lesson by an hour."""
    earlier, later = naive.replace(tzinfo=zone, fold=0), naive.replace(tzinfo=zone, fold=1)

    def exists(moment):
        return moment.astimezone(dt.timezone.utc).astimezone(zone).replace(tzinfo=None) == naive

    if not exists(earlier) and not exists(later):
        raise _Bad(f"{naive:%Y-%m-%d %H:%M} does not exist in {zone.key} (clocks go forward)")
    if earlier.utcoffset() != later.utcoffset():
        raise _Bad(f"{naive:%Y-%m-%d %H:%M} happens twice in {zone.key} (clocks go back); add the offset, "
                   f"e.g. {naive:%Y-%m-%dT%H:%M}{_offset(earlier)}")
    return earlier


def _offset(moment: dt.datetime) -> str:
    text = moment.strftime("%z")
    return f"{text[:3]}:{text[3:]}"


def _default_zone(name: str | None, source: str) -> zoneinfo.ZoneInfo | None:
    try:
        return zone_named(name) if name else None
    except _Bad as exc:
        raise ImportFailed(source, [Problem(None, None, None, f"default time zone: {exc}")]) from None


def _in_zone(naive: dt.datetime, zone: dt.tzinfo) -> dt.datetime:
    return localize(naive, zone) if isinstance(zone, zoneinfo.ZoneInfo) else naive.replace(tzinfo=zone)


def _parse_start(text: str, zone: dt.tzinfo | None) -> dt.datetime:
    found = _DATETIME.fullmatch(text)
    if not found:
        raise _Bad(f"{text!r} is not a date and time; write it as YYYY-MM-DD HH:MM, e.g. 2026-09-14 08:30")
    year, month, day, hour, minute, second, offset = found.groups()
    try:
        naive = dt.datetime(int(year), int(month), int(day), int(hour), int(minute), int(second or 0))
    except ValueError as exc:
        raise _Bad(f"{text!r} is not a valid date and time ({exc})") from None
    if offset:
        return naive.replace(tzinfo=dt.timezone.utc if offset == "Z" else
                             dt.datetime.strptime(offset.replace(":", ""), "%z").tzinfo)
    if zone is None:
        raise _Bad(f"{text!r} has no time zone; add a timezone column, an offset (+02:00), or give the "
                   "import a default time zone")
    return _in_zone(naive, zone)


def _parse_duration(text: str) -> dt.timedelta:
    found = _DURATION.fullmatch(text)
    if not found:
        raise _Bad(f"{text!r} is not a duration; give minutes (55) or hours:minutes (1:30)")
    hours, minutes, only_minutes = found.groups()
    return dt.timedelta(minutes=int(only_minutes)) if only_minutes else dt.timedelta(hours=int(hours),
                                                                                     minutes=int(minutes))


def _parse_end(text: str, start: dt.datetime) -> dt.datetime:
    """An end given as a time of day (on the start's day) or as a full date and time, read in the
    start's zone unless it has its own offset."""
    time = _TIME.fullmatch(text)
    if not time:
        return _parse_start(text, start.tzinfo)
    hour, minute, second = (int(part or 0) for part in time.groups())
    try:
        naive = dt.datetime.combine(start.replace(tzinfo=None).date(), dt.time(hour, minute, second))
    except ValueError:
        raise _Bad(f"{text!r} is not a time of day") from None
    return _in_zone(naive, start.tzinfo)


def parse_timetable_csv(data: bytes, source: str = "timetable.csv", *, default_timezone: str | None = None,
                        course: str | None = None) -> list[Lesson]:
    """The lessons of a timetable CSV (columns in the module's docstring). Times without an offset
    or a timezone column are read in `default_timezone`. With `course`, the file is that course's
    timetable: its course column may be missing or empty, and must not name another course."""
    columns = COLUMNS if course is None else \
        [dataclasses.replace(c, required=False) if c.name == "course" else c for c in COLUMNS]
    table = read_table(data, source, columns)
    if "duration" not in table.headers and "end" not in table.headers:
        raise ImportFailed(source, [Problem(1, None, None, "no duration or end column; add one of them")])
    default_zone = _default_zone(default_timezone, source)
    problems: list[Problem] = []
    lessons = []
    for row in table.rows:
        if course is not None:
            given = row.values.get("course", "")
            if given and given != course:
                problems.append(table.problem(row.line, "course", f"{given!r} is not {course!r}, the course this "
                                              "timetable is imported for"))
                continue
            row = dataclasses.replace(row, values={**row.values, "course": course})
        lesson = _lesson_from_row(table, row, default_zone, problems)
        if lesson is not None:
            lessons.append(lesson)
    if problems:
        raise ImportFailed(source, problems)
    return lessons


def _lesson_from_row(table: Table, row, default_zone, problems: list[Problem]) -> Lesson | None:
    values = row.values
    column = "course"
    try:
        if not values["course"]:
            raise _Bad("the course is empty")
        column = "timezone"
        zone = zone_named(values["timezone"]) if values.get("timezone") else default_zone
        column = "start"
        start = _parse_start(values["start"], zone)
        duration_text, end_text = values.get("duration", ""), values.get("end", "")
        if not duration_text and not end_text:
            raise _Bad("neither a duration nor an end is given")
        end = None
        if end_text:
            column = "end"
            end = _parse_end(end_text, start)
        if duration_text:
            column = "duration"
            by_duration = start + _parse_duration(duration_text)
            if end is not None and by_duration != end:
                raise _Bad(f"the duration ends the lesson at {by_duration:%H:%M} but the end column says "
                           f"{end:%H:%M}; keep one of them")
            end = by_duration
        if end <= start:
            raise _Bad("the lesson ends before it starts (an end after midnight needs its date)")
        if end - start > MAX_LESSON:
            raise _Bad(f"a lesson of {end - start} is longer than {MAX_LESSON}; is the duration in minutes?")
    except _Bad as exc:
        problems.append(table.problem(row.line, column, str(exc)))
        return None
    return Lesson(course=values["course"], group=values.get("group") or None,
                  start=start.astimezone(dt.timezone.utc), end=end.astimezone(dt.timezone.utc),
                  origin=f"line {row.line}")


@dataclasses.dataclass(frozen=True)
class EventCourseRule:
    """Where an event's course (and group) is written: one property, read whole or through a
    pattern with the named groups `course` and optionally `group`; or, for a calendar of one
    course, that course (`course`) for every event."""
    property: str = "SUMMARY"
    pattern: NamedPattern | None = None
    course: str | None = None

    @classmethod
    def compile(cls, property: str = "SUMMARY", pattern: str | None = None, *,
                setting: str = "timetable course pattern", course: str | None = None) -> EventCourseRule:
        name = property.upper()
        if name not in EVENT_PROPERTIES:
            raise ValueError(f"the course can be read from {', '.join(EVENT_PROPERTIES)}, not {property!r}")
        compiled = None if pattern is None else NamedPattern.compile(
            pattern, fields=("course", "group"), required=("course",), what=setting)
        return cls(property=name, pattern=compiled, course=course)

    def course_of(self, event) -> tuple[str, str | None] | None:
        """(course, group) for `event`, or None when its property holds no course. For CATEGORIES,
        the first category that yields a course wins."""
        if self.course is not None:
            return self.course, None
        value = event.get(self.property)
        values = [] if value is None else value if isinstance(value, list) else [value]
        texts = [str(c) for v in values for c in v.cats] if self.property == "CATEGORIES" else map(str, values)
        for text in (t.strip() for t in texts):
            if not text:
                continue
            if self.pattern is None:
                return text, None
            fields = self.pattern.match(text)
            if fields and "course" in fields:
                return fields["course"], fields.get("group")
        return None


def _describe(event) -> str:
    summary, uid = event.get("SUMMARY"), event.get("UID")
    return (repr(str(summary)) if summary else "an event") + (f" (UID {uid})" if uid else "")


def parse_timetable_ics(data: bytes, source: str = "timetable.ics", *, window_start: dt.datetime,
                        window_end: dt.datetime, rule: EventCourseRule = EventCourseRule(),
                        default_timezone: str | None = None, max_events: int = MAX_OCCURRENCES) -> TimetableImport:
    """The lessons of an iCalendar file that start in [window_start, window_end) (aware datetimes),
    recurrences expanded. Floating times (no TZID, no Z) are read in `default_timezone`. More than
    `max_events` occurrences in the window is refused as a mistake."""
    if window_start.tzinfo is None or window_end.tzinfo is None or window_end <= window_start:
        raise ValueError("the import window needs aware datetimes, its end after its start")
    default_zone = _default_zone(default_timezone, source)
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        calendar = icalendar.Calendar.from_ical(data)
    except ValueError as exc:
        raise ImportFailed(source, [Problem(None, None, None, f"not a readable iCalendar file: {exc}")]) from None
    if calendar.name != "VCALENDAR":
        raise ImportFailed(source, [Problem(None, None, None, f"the file holds a {calendar.name}, not a VCALENDAR")])

    problems: list[Problem] = []
    skipped: list[str] = []
    for number, event in enumerate(calendar.walk("VEVENT"), start=1):
        _check_event(event, f"VEVENT #{number} {_describe(event)}", default_zone, problems)
    if problems:
        raise ImportFailed(source, problems)

    lessons: list[Lesson] = []
    for start, occurrence in _occurrences(recurring_ical_events.of(calendar), window_start, window_end, default_zone):
        label = f"{_describe(occurrence)} at {start:%Y-%m-%d %H:%M} UTC"
        course = rule.course_of(occurrence)
        if not isinstance(occurrence.decoded("DTSTART"), dt.datetime):
            skipped.append(f"{label}: an all-day event, not a lesson")
        elif str(occurrence.get("STATUS", "")).upper() == "CANCELLED":
            skipped.append(f"{label}: cancelled")
        elif course is None:
            skipped.append(f"{label}: its {rule.property} names no course")
        else:
            end = _as_utc(occurrence.decoded("DTEND"), default_zone) if "DTEND" in occurrence else \
                start + occurrence.decoded("DURATION")
            lessons.append(Lesson(course=course[0], group=course[1], start=start, end=end,
                                  origin=f"{occurrence.get('UID', 'event')} {start:%Y-%m-%dT%H:%MZ}"))
        if len(lessons) + len(skipped) > max_events:
            raise ImportFailed(source, [Problem(None, None, None, f"more than {max_events} events in the "
                                                "window; narrow the window or check the RRULEs")])
    return TimetableImport(lessons=lessons, skipped=skipped)


def _occurrences(query, window_start: dt.datetime, window_end: dt.datetime, default_zone):
    """(UTC start, occurrence) of every event occurrence starting in the window, in order of start.
    Read a day at a time: the library's own iterator slows down with every occurrence, and a day
    bounds the work an absurd RRULE can cause before MAX_OCCURRENCES stops it."""
    cursor = window_start
    while cursor < window_end:
        stop = min(cursor + dt.timedelta(days=1), window_end)
        found = []
        for occurrence in query.between(cursor, stop):
            start = occurrence.decoded("DTSTART")
            if not isinstance(start, dt.datetime):
                start = dt.datetime.combine(start, dt.time())
            start = _as_utc(start, default_zone or dt.timezone.utc)
            if cursor <= start < stop:  # events begun earlier are counted where they begin
                found.append((start, occurrence))
        yield from sorted(found, key=lambda pair: pair[0])
        cursor = stop


def _as_utc(moment: dt.datetime, default_zone: dt.tzinfo) -> dt.datetime:
    if moment.tzinfo is None:
        moment = _in_zone(moment, default_zone)
    return moment.astimezone(dt.timezone.utc)


def _check_event(event, described: str, default_zone, problems: list[Problem]) -> None:
    """Problems that make an event unreadable: broken properties, missing or contradictory times,
    floating times without a default zone."""
    def problem(prop, message):
        problems.append(Problem(None, None, None, f"{described}, {prop}: {message}"))

    for prop, message in getattr(event, "errors", []):
        problem(prop, message)
    if getattr(event, "errors", None):
        return
    if "DTSTART" not in event:
        problem("DTSTART", "missing; every lesson needs a start")
        return
    start = event.decoded("DTSTART")
    if "DTEND" in event and "DURATION" in event:
        problem("DURATION", "an event may have DTEND or DURATION, not both (RFC 5545)")
    if not isinstance(start, dt.datetime):
        return  # an all-day event: skipped, not a lesson
    for prop in ("DTSTART", "DTEND", "RECURRENCE-ID", "EXDATE", "RDATE"):
        for value in _values(event.get(prop)):
            tzid = value.params.get("TZID") if hasattr(value, "params") else None
            moment = getattr(value, "dt", None)
            if tzid and isinstance(moment, dt.datetime) and moment.tzinfo is None:
                problem(prop, f"time zone {tzid!r} is unknown and the file has no VTIMEZONE for it")
                return
    if start.tzinfo is None and default_zone is None:
        problem("DTSTART", f"{start:%Y-%m-%d %H:%M} has no time zone (no TZID, no Z); give the import a "
                "default time zone")
        return
    try:
        start_utc = _as_utc(start, default_zone)
        if "DTEND" in event:
            end = event.decoded("DTEND")
            if not isinstance(end, dt.datetime):
                problem("DTEND", "a date without a time, but DTSTART has a time")
            elif _as_utc(end, default_zone) <= start_utc:
                problem("DTEND", "not after DTSTART")
        elif "DURATION" in event:
            if event.decoded("DURATION") <= dt.timedelta(0):
                problem("DURATION", "not positive")
        else:
            problem("DTEND", "missing, and no DURATION either; a lesson needs an end")
    except _Bad as exc:
        problem("DTSTART", str(exc))


def _values(value) -> list:
    if value is None:
        return []
    if isinstance(value, list):
        return [item for v in value for item in getattr(v, "dts", [v])]
    return list(getattr(value, "dts", [value]))
