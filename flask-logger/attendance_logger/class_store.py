"""Class lists and lessons in the database: imports, and what a meeting is measured against.

Two sources per course: files (`roster import`, `schedule import`, the import API) and Moodle (the
sync reads a course's enrolments and Attendance sessions). Where a course has both, Moodle's
rows are used (for lessons: among those near the meeting).

An import replaces, in one transaction, what the same source held for the same courses, so
importing a file twice leaves what importing it once did (the second changes nothing at all):

- a class list replaces the whole class list of each course it names (from that source);
- a timetable replaces the lessons of each course it names (from that source) that start within
  its window: for a CSV file, from its first lesson's start to its last lesson's end; for an
  iCalendar file, the window it was expanded in. Lessons of other terms stay.

Every change gets a new data version (`receiver_state`); kept attendance computed under another
version is computed again from the meeting's kept presence when it is next read, and the
meetings' room courses are resolved again, since a course a list names can be the one a room
name means (course_names.py).
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import threading
import uuid
from typing import Iterable, Sequence

from sqlalchemy import and_, delete, select, union
from sqlalchemy.engine import Connection

from .course_names import CourseNames
from .lessons import Enrolled, Lesson, MeetingContext
from .storage import insert_for
from .tables import lessons, meeting_courses, meetings, receiver_state, roster
from .times import to_ms

ICS_WINDOW = dt.timedelta(days=365)  # an iCalendar file is expanded this far either side of today by default
DATA_VERSION = "class_data_version"
ROOM_RULES = "room_course_rules"
SOURCES = ("file", "moodle")


@dataclasses.dataclass(frozen=True)
class ImportSummary:
    source: str
    courses: tuple[str, ...]
    imported: int  # rows written
    replaced: int  # rows of the same courses and source removed first
    window: tuple[dt.datetime, dt.datetime] | None = None  # lessons: the span replaced
    skipped: tuple[str, ...] = ()  # iCalendar events that are no lessons, with why
    changed: bool = True  # False: the database already held exactly these rows

    def as_json(self) -> dict:
        body = {"source": self.source, "courses": list(self.courses), "imported": self.imported,
                "replaced": self.replaced, "changed": self.changed}
        if self.window:
            body["window"] = [moment.isoformat().replace("+00:00", "Z") for moment in self.window]
        if self.skipped:
            body["skipped"] = list(self.skipped)
        return body


def read_roster_file(data: bytes, name: str, *, course: str | None = None) -> list[Enrolled]:
    """A class list file's students; table_import.ImportFailed (line, column) when it has problems."""
    from .roster import parse_roster

    return [Enrolled(course=e.course, name=e.name, user_id=e.user_id, username=e.username, email=e.email,
                     group=e.group) for e in parse_roster(data, name, course=course)]


def is_icalendar(data: bytes, name: str) -> bool:
    return name.lower().endswith((".ics", ".ical", ".ifb", ".icalendar")) or \
        data.lstrip(b"\xef\xbb\xbf \t\r\n")[:15].upper() == b"BEGIN:VCALENDAR"


def read_timetable_file(data: bytes, name: str, *, course: str | None = None, timezone: str | None = None,
                        window: tuple[dt.datetime, dt.datetime] | None = None, course_from: str = "SUMMARY",
                        course_pattern: str | None = None, today: dt.date | None = None
                        ) -> tuple[list[Lesson], tuple[dt.datetime, dt.datetime] | None, list[str]]:
    """A timetable file's lessons (CSV or iCalendar, told by its name or first line), the window
    an import of it replaces (module docstring) and the iCalendar events skipped, with why.
    table_import.ImportFailed when it has problems; ValueError for a bad course rule."""
    # Imported here: the iCalendar libraries take ~6 MB that a receiver only needs for an import.
    from .timetable import EventCourseRule, parse_timetable_csv, parse_timetable_ics

    if is_icalendar(data, name):
        if window is None:
            today = today or dt.datetime.now(dt.timezone.utc).date()
            start = dt.datetime.combine(today, dt.time(), dt.timezone.utc)
            window = (start - ICS_WINDOW, start + ICS_WINDOW)
        rule = EventCourseRule.compile(course_from, course_pattern, course=course,
                                       setting="the course pattern (--course-pattern)")
        found = parse_timetable_ics(data, name, window_start=window[0], window_end=window[1], rule=rule,
                                    default_timezone=timezone)
        lessons, skipped = found.lessons, found.skipped
    else:
        if course_pattern or course_from.upper() != "SUMMARY":
            raise ValueError("--course-from and --course-pattern read iCalendar events; a CSV timetable has a "
                             "course column")
        lessons, skipped = parse_timetable_csv(data, name, default_timezone=timezone, course=course), []
    return [Lesson(course=l.course, group=l.group, start_ms=to_ms(l.start), end_ms=to_ms(l.end), source="file",
                   origin=f"{name} {l.origin}") for l in lessons], window, skipped


def read_state(conn: Connection, key: str) -> str | None:
    return conn.execute(select(receiver_state.c.value).where(receiver_state.c.key == key)).scalar()


def write_state(conn: Connection, key: str, value: str) -> None:
    statement = insert_for(conn, receiver_state).values(key=key, value=value)
    conn.execute(statement.on_conflict_do_update(index_elements=["key"], set_={"value": value}))


class ClassStore:
    def __init__(self, storage, course_names: CourseNames | None = None,
                 claims: Sequence[str] = ("courseid", "groupid")):
        self.storage = storage
        self.course_names = course_names or CourseNames()
        self.claims = tuple(claims)  # the receiver's claim allow-list: courseid, groupid are read if on it
        self._known: tuple[str | None, frozenset[str]] = (None, frozenset())
        self._lock = threading.Lock()

    # -- reading ----------------------------------------------------------------------------

    @staticmethod
    def version(conn: Connection) -> str:
        return read_state(conn, DATA_VERSION) or "0"

    def known_courses(self, conn: Connection, version: str | None = None) -> frozenset[str]:
        """Every course a class list or a timetable names (cached per data version)."""
        version = version or self.version(conn)
        with self._lock:
            if self._known[0] == version:
                return self._known[1]
        found = frozenset(conn.execute(union(select(roster.c.course), select(lessons.c.course))).scalars())
        with self._lock:
            self._known = (version, found)
        return found

    def context(self, conn: Connection, presence, now_ms: int, version: str | None = None) -> MeetingContext:
        """A meeting's courses, group, nearby lessons and class list (rules.Presence `presence`)."""
        known = self.known_courses(conn, version)
        courses, group = self.course_names.of_meeting(presence.room_name, presence.people, known, self.claims)
        names = tuple(course for course, _ in courses)
        from_room = any(source == "room" for _, source in courses)
        if not names or not known.intersection(names):
            return MeetingContext(courses=names, group=group, from_room=from_room)
        return MeetingContext(courses=names, group=group, from_room=from_room,
                              lessons=tuple(self.lessons_near(conn, names, presence.start, presence.end or now_ms)),
                              roster=tuple(self.roster_of(conn, names)))

    @staticmethod
    def lessons_near(conn: Connection, courses: Sequence[str], start_ms: int, end_ms: int) -> list[Lesson]:
        """Lessons of `courses` overlapping [start_ms, end_ms], Moodle's only where a course has both."""
        rows = conn.execute(select(lessons).where(lessons.c.course.in_(list(courses)), lessons.c.end_ms > start_ms,
                                                  lessons.c.start_ms < max(end_ms, start_ms + 1))
                            .order_by(lessons.c.start_ms, lessons.c.id)).all()
        from_moodle = {row.course for row in rows if row.source == "moodle"}
        return [Lesson(course=row.course, group=row.group_name, start_ms=row.start_ms, end_ms=row.end_ms,
                       source=row.source, origin=row.origin, external_id=row.moodle_session,
                       external_group=row.moodle_group)
                for row in rows if row.source == "moodle" or row.course not in from_moodle]

    @staticmethod
    def roster_of(conn: Connection, courses: Sequence[str]) -> list[Enrolled]:
        """The class lists of `courses`, Moodle's where a course has both, by name."""
        rows = conn.execute(select(roster).where(roster.c.course.in_(list(courses)))
                            .order_by(roster.c.name, roster.c.id)).all()
        from_moodle = {row.course for row in rows if row.source == "moodle"}
        return [Enrolled(course=row.course, name=row.name, user_id=row.user_id, username=row.username,
                         email=row.email, group=row.group_name, source=row.source)
                for row in rows if row.source == "moodle" or row.course not in from_moodle]

    def class_list(self, course: str) -> list[Enrolled]:
        with self.storage.read() as conn:
            return self.roster_of(conn, [course])

    def lessons_of(self, course: str, start: dt.datetime, end: dt.datetime) -> list[Lesson]:
        with self.storage.read() as conn:
            return self.lessons_near(conn, [course], to_ms(start), to_ms(end))

    # -- writing ----------------------------------------------------------------------------

    def replace_roster(self, entries: Iterable[Enrolled], *, source: str, courses: Iterable[str]) -> ImportSummary:
        """The class lists of `courses` from `source` replaced by `entries` (module docstring)."""
        entries, courses = list(entries), sorted(set(courses) | {e.course for e in entries})
        _check_source(source)
        rows = [{"course": e.course, "source": source, "name": e.name, "user_id": e.user_id, "username": e.username,
                 "email": e.email, "group_name": e.group} for e in entries]
        mine = and_(roster.c.course.in_(courses), roster.c.source == source)
        with self.storage.write() as conn:
            if _same(conn, roster, mine, rows):
                return ImportSummary(source, tuple(courses), len(rows), len(rows), changed=False)
            replaced = conn.execute(delete(roster).where(mine)).rowcount
            if rows:
                conn.execute(roster.insert(), rows)
            self._changed(conn)
        return ImportSummary(source, tuple(courses), len(rows), replaced)

    def replace_lessons(self, found: Iterable[Lesson], *, source: str, courses: Iterable[str],
                        window: tuple[dt.datetime, dt.datetime] | None = None,
                        skipped: Sequence[str] = ()) -> ImportSummary:
        """The lessons of `courses` from `source` starting within `window` (default: from the first
        lesson's start to the last one's end) replaced by `found`."""
        found, courses = list(found), sorted(set(courses) | {lesson.course for lesson in found})
        _check_source(source)
        if window is None and found:
            window = (_moment(min(lesson.start_ms for lesson in found)),
                      _moment(max(lesson.end_ms for lesson in found)))
        outside = [lesson for lesson in found if window and not to_ms(window[0]) <= lesson.start_ms <= to_ms(window[1])]
        if outside:
            raise ValueError(f"{len(outside)} lessons start outside the window {window[0]} - {window[1]}")
        rows = [{"course": l.course, "group_name": l.group, "start_ms": l.start_ms, "end_ms": l.end_ms,
                 "source": source, "origin": l.origin, "moodle_session": l.external_id,
                 "moodle_group": l.external_group} for l in found]
        mine = and_(lessons.c.course.in_(courses), lessons.c.source == source)
        if window is not None:
            mine = and_(mine, lessons.c.start_ms >= to_ms(window[0]), lessons.c.start_ms <= to_ms(window[1]))
        with self.storage.write() as conn:
            if window is None or _same(conn, lessons, mine, rows):
                return ImportSummary(source, tuple(courses), len(rows), len(rows), window, tuple(skipped), False)
            replaced = conn.execute(delete(lessons).where(mine)).rowcount
            if rows:
                conn.execute(lessons.insert(), rows)
            self._changed(conn)
        return ImportSummary(source, tuple(courses), len(rows), replaced, window, tuple(skipped))

    def _changed(self, conn: Connection) -> None:
        """A new data version, and the room courses resolved against the courses now known."""
        version = uuid.uuid4().hex
        write_state(conn, DATA_VERSION, version)
        self.reindex_rooms(conn, version)

    def reindex_rooms(self, conn: Connection, version: str | None = None) -> None:
        """The room courses of every meeting whose participants carried no course claim, again."""
        known = self.known_courses(conn, version)
        claimed = select(meeting_courses.c.meeting).where(meeting_courses.c.source == "claim")
        rows = conn.execute(select(meetings.c.id, meetings.c.room_name).where(meetings.c.id.not_in(claimed))).all()
        conn.execute(delete(meeting_courses).where(meeting_courses.c.source == "room"))
        found = []
        for row in rows:
            course = self.course_names.of_room(row.room_name, known)
            if course is not None:
                found.append({"meeting": row.id, "course": course[0], "source": "room"})
        if found:
            conn.execute(meeting_courses.insert(), found)

    def ensure_room_rules(self) -> bool:
        """Re-index the room courses when the room rules (pattern, map) changed since the last
        start; True if it did."""
        fingerprint = self.course_names.fingerprint
        with self.storage.read() as conn:
            if read_state(conn, ROOM_RULES) == fingerprint:
                return False
        with self.storage.write() as conn:
            self.reindex_rooms(conn)
            write_state(conn, ROOM_RULES, fingerprint)
        return True


def _same(conn: Connection, table, where, rows: list[dict]) -> bool:
    """Whether the rows of `table` matching `where` are exactly `rows` (ids aside)."""
    columns = [table.c[name] for name in (rows[0] if rows else {})] or [c for c in table.c if c.name != "id"]
    held = conn.execute(select(*columns).where(where)).all()
    if len(held) != len(rows):
        return False
    key = [c.name for c in columns]
    return sorted(map(tuple, held), key=repr) == sorted((tuple(r[k] for k in key) for r in rows), key=repr)


def _check_source(source: str) -> None:
    if source not in SOURCES:
        raise ValueError(f"source must be one of {', '.join(SOURCES)}, got {source!r}")


def _moment(ms: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(ms / 1000, dt.timezone.utc)
