"""Lessons from timetable CSV files and iCalendar exports; a bad file imports nothing."""
from __future__ import annotations

import datetime as dt

import pytest

from attendance_logger.named_pattern import PatternError
from attendance_logger.table_import import ImportFailed
from attendance_logger.timetable import EventCourseRule, Lesson, parse_timetable_csv, parse_timetable_ics

UTC = dt.timezone.utc
TERM = {"window_start": dt.datetime(2026, 9, 1, tzinfo=UTC), "window_end": dt.datetime(2026, 12, 23, tzinfo=UTC)}


def at(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


def failures(parse, data: bytes, **options) -> list[str]:
    with pytest.raises(ImportFailed) as caught:
        parse(data, **options)
    return [str(p) for p in caught.value.problems]


# -- CSV -------------------------------------------------------------------------------------------

def test_csv_lessons_with_durations_ends_zones_and_offsets():
    lessons = parse_timetable_csv(
        b"course;group;start;duration;end;timezone\n"
        b"MAT-1A;A;2026-09-14 08:30;55;;Europe/Madrid\n"
        b"MAT-1A;;2026-09-14T10:00:00+02:00;1:30;;\n"
        b"FIS-2B;B;2026-12-14 08:30;;09:25;Europe/Madrid\n"
        b"FIS-2B;;2026-09-15 23:30;;2026-09-16 00:20;\n",
        default_timezone="Europe/Lisbon")
    assert lessons == [
        Lesson("MAT-1A", "A", at(2026, 9, 14, 6, 30), at(2026, 9, 14, 7, 25), "line 2"),
        Lesson("MAT-1A", None, at(2026, 9, 14, 8, 0), at(2026, 9, 14, 9, 30), "line 3"),
        Lesson("FIS-2B", "B", at(2026, 12, 14, 7, 30), at(2026, 12, 14, 8, 25), "line 4"),  # winter time
        Lesson("FIS-2B", None, at(2026, 9, 15, 22, 30), at(2026, 9, 15, 23, 20), "line 5")]


def test_csv_times_that_clocks_skip_or_repeat_are_refused():
    assert failures(parse_timetable_csv, b"course,start,duration\nMAT,2026-03-29 02:30,60\nMAT,2026-10-25 02:30,60\n"
                    b"MAT,2026-10-25T02:30+01:00,60\n", default_timezone="Europe/Madrid") == [
        "line 2, column 2 (start): 2026-03-29 02:30 does not exist in Europe/Madrid (clocks go forward)",
        "line 3, column 2 (start): 2026-10-25 02:30 happens twice in Europe/Madrid (clocks go back); add the "
        "offset, e.g. 2026-10-25T02:30+02:00"]


def test_csv_problems_name_line_and_column():
    assert failures(parse_timetable_csv, b"course,start,duration,end,timezone\n"
                    b"MAT,14/09/2026 08:30,55,,Europe/Madrid\n"
                    b"MAT,2026-09-14 08:30,,,\n"
                    b"MAT,2026-09-14 08:30,,,Mars/Olympus\n"
                    b",2026-09-14 08:30,55,,UTC\n"
                    b"MAT,2026-09-14 08:30,55,09:30,UTC\n"
                    b"MAT,2026-09-14 08:30,,08:00,UTC\n"
                    b"MAT,2026-09-14 08:30,900,,UTC\n"
                    b"MAT,2026-09-14 08:30,an hour,,UTC\n") == [
        "line 2, column 2 (start): '14/09/2026 08:30' is not a date and time; write it as YYYY-MM-DD HH:MM, "
        "e.g. 2026-09-14 08:30",
        "line 3, column 2 (start): '2026-09-14 08:30' has no time zone; add a timezone column, an offset "
        "(+02:00), or give the import a default time zone",
        "line 4, column 5 (timezone): unknown time zone 'Mars/Olympus'; use an IANA name such as Europe/Madrid",
        "line 5, column 1 (course): the course is empty",
        "line 6, column 3 (duration): the duration ends the lesson at 09:25 but the end column says 09:30; keep "
        "one of them",
        "line 7, column 4 (end): the lesson ends before it starts (an end after midnight needs its date)",
        "line 8, column 3 (duration): a lesson of 15:00:00 is longer than 12:00:00; is the duration in minutes?",
        "line 9, column 3 (duration): 'an hour' is not a duration; give minutes (55) or hours:minutes (1:30)"]


def test_csv_needs_a_duration_or_an_end_column():
    assert failures(parse_timetable_csv, b"course,start\nMAT,2026-09-14 08:30\n", default_timezone="UTC") == [
        "line 1: no duration or end column; add one of them"]


# -- iCalendar -------------------------------------------------------------------------------------

MADRID = b"""BEGIN:VTIMEZONE
TZID:Europe/Madrid
BEGIN:STANDARD
DTSTART:19701025T030000
TZOFFSETFROM:+0200
TZOFFSETTO:+0100
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU
END:STANDARD
BEGIN:DAYLIGHT
DTSTART:19700329T020000
TZOFFSETFROM:+0100
TZOFFSETTO:+0200
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU
END:DAYLIGHT
END:VTIMEZONE
"""


def calendar(*events: bytes, timezone: bytes = MADRID) -> bytes:
    body = b"BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//School//Timetable 1.0//EN\n" + timezone
    for event in events:
        body += b"BEGIN:VEVENT\nDTSTAMP:20260801T000000Z\n" + event.strip() + b"\nEND:VEVENT\n"
    return (body + b"END:VCALENDAR\n").replace(b"\n", b"\r\n")


WEEKLY = b"""UID:mat-1a-monday@school.example
SUMMARY:MAT-1A
DTSTART;TZID=Europe/Madrid:20261019T083000
DTEND;TZID=Europe/Madrid:20261019T092500
RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=4
EXDATE;TZID=Europe/Madrid:20261102T083000
"""
MOVED = b"""UID:mat-1a-monday@school.example
RECURRENCE-ID;TZID=Europe/Madrid:20261026T083000
SUMMARY:MAT-1A
DTSTART;TZID=Europe/Madrid:20261027T100000
DURATION:PT55M
"""


def test_ics_recurrences_are_expanded_across_a_clock_change():
    result = parse_timetable_ics(calendar(WEEKLY, MOVED), **TERM)
    assert [(l.course, l.start, l.end) for l in result.lessons] == [
        ("MAT-1A", at(2026, 10, 19, 6, 30), at(2026, 10, 19, 7, 25)),  # summer time
        ("MAT-1A", at(2026, 10, 27, 9, 0), at(2026, 10, 27, 9, 55)),  # moved to Tuesday, winter time
        ("MAT-1A", at(2026, 11, 9, 7, 30), at(2026, 11, 9, 8, 25))]  # 2 Nov is excluded
    assert result.skipped == []


def test_ics_window_bounds_the_expansion():
    forever = WEEKLY.replace(b";COUNT=4", b"")
    result = parse_timetable_ics(calendar(forever), window_start=at(2026, 11, 1), window_end=at(2026, 11, 20))
    assert [l.start.day for l in result.lessons] == [9, 16]


def test_ics_courses_from_a_pattern_categories_and_windows_zone_names():
    events = (b"UID:1\nSUMMARY:Matem\xc3\xa1ticas (MAT-1A / Grupo A)\nDTSTART;TZID=W. Europe Standard Time:"
              b"20261019T083000\nDTEND;TZID=W. Europe Standard Time:20261019T092500",
              b"UID:2\nSUMMARY:Recreo\nDTSTART;TZID=Europe/Madrid:20261019T110000\nDTEND;TZID=Europe/Madrid:"
              b"20261019T113000")
    rule = EventCourseRule.compile("SUMMARY", r".*\((?P<course>[A-Z0-9-]+) / Grupo (?P<group>\w+)\)")
    result = parse_timetable_ics(calendar(*events), rule=rule, **TERM)
    assert [(l.course, l.group, l.start) for l in result.lessons] == [("MAT-1A", "A", at(2026, 10, 19, 6, 30))]
    assert result.skipped == ["'Recreo' (UID 2) at 2026-10-19 09:00 UTC: its SUMMARY names no course"]
    tagged = b"UID:3\nSUMMARY:Maths\nCATEGORIES:Lesson,FIS-2B\nDTSTART:20261020T080000Z\nDURATION:PT50M"
    rule = EventCourseRule.compile("categories", r"(?P<course>[A-Z]{3}-\d[A-Z])")
    [lesson] = parse_timetable_ics(calendar(tagged), rule=rule, **TERM).lessons
    assert (lesson.course, lesson.end) == ("FIS-2B", at(2026, 10, 20, 8, 50))


def test_ics_events_that_are_not_lessons_are_listed():
    events = (b"UID:h\nSUMMARY:Holiday\nDTSTART;VALUE=DATE:20261012\nDTEND;VALUE=DATE:20261013",
              b"UID:c\nSUMMARY:MAT-1A\nSTATUS:CANCELLED\nDTSTART:20261013T080000Z\nDTEND:20261013T085500Z")
    result = parse_timetable_ics(calendar(*events), **TERM)
    assert result.lessons == []
    assert result.skipped == ["'Holiday' (UID h) at 2026-10-12 00:00 UTC: an all-day event, not a lesson",
                              "'MAT-1A' (UID c) at 2026-10-13 08:00 UTC: cancelled"]


def test_ics_floating_times_use_the_default_zone_or_are_refused():
    floating = b"UID:f\nSUMMARY:MAT-1A\nDTSTART:20261019T083000\nDTEND:20261019T092500"
    [lesson] = parse_timetable_ics(calendar(floating), default_timezone="Europe/Madrid", **TERM).lessons
    assert lesson.start == at(2026, 10, 19, 6, 30)
    assert failures(parse_timetable_ics, calendar(floating), **TERM) == [
        "VEVENT #1 'MAT-1A' (UID f), DTSTART: 2026-10-19 08:30 has no time zone (no TZID, no Z); give the import "
        "a default time zone"]


def test_ics_problems_name_the_event_and_property():
    events = (b"UID:a\nSUMMARY:Broken\nDTSTART;TZID=Europe/Madrid:2026101X",
              b"UID:b\nSUMMARY:Backwards\nDTSTART:20261019T090000Z\nDTEND:20261019T080000Z",
              b"UID:c\nSUMMARY:Both\nDTSTART:20261019T090000Z\nDTEND:20261019T100000Z\nDURATION:PT1H",
              b"UID:d\nSUMMARY:Nowhere\nDTSTART;TZID=Mars/Olympus:20261019T090000\nDURATION:PT1H",
              b"UID:e\nSUMMARY:Endless\nDTSTART:20261019T090000Z",
              b"UID:f\nSUMMARY:Startless\nDTEND:20261019T090000Z")
    assert failures(parse_timetable_ics, calendar(*events), **TERM) == [
        "VEVENT #1 'Broken' (UID a), DTSTART: Wrong date format 2026101X",
        "VEVENT #2 'Backwards' (UID b), DTEND: not after DTSTART",
        "VEVENT #3 'Both' (UID c), DURATION: an event may have DTEND or DURATION, not both (RFC 5545)",
        "VEVENT #4 'Nowhere' (UID d), DTSTART: time zone 'Mars/Olympus' is unknown and the file has no VTIMEZONE "
        "for it",
        "VEVENT #5 'Endless' (UID e), DTEND: missing, and no DURATION either; a lesson needs an end",
        "VEVENT #6 'Startless' (UID f), DTSTART: missing; every lesson needs a start"]


@pytest.mark.parametrize("data, complaint", [
    (b"not a calendar at all", "not a readable iCalendar file"),
    (b"BEGIN:VEVENT\r\nUID:x\r\nEND:VEVENT\r\n", "holds a VEVENT, not a VCALENDAR"),
])
def test_ics_that_is_not_a_calendar(data, complaint):
    assert complaint in failures(parse_timetable_ics, data, **TERM)[0]


def test_ics_refuses_runaway_recurrences():
    minutely = b"UID:m\nSUMMARY:MAT\nDTSTART:20260901T000000Z\nDURATION:PT1M\nRRULE:FREQ=MINUTELY"
    assert "more than 300 events in the window" in failures(parse_timetable_ics, calendar(minutely), max_events=300,
                                                            **TERM)[0]


def test_a_bad_course_rule_is_refused():
    with pytest.raises(PatternError, match="has no named group course"):
        EventCourseRule.compile("SUMMARY", r"[A-Z]+")
    with pytest.raises(ValueError, match="not 'ATTENDEES'"):
        EventCourseRule.compile("ATTENDEES")
