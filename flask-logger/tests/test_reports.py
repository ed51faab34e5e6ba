"""Attendance reports: JSON shape and CSV files that open safely and correctly in spreadsheets.

The CSV checks read the files back with Python's csv module (RFC 4180, the dialect Excel and
LibreOffice use) and look at the raw text for the BOM, CRLF and quoting.
"""
import csv
import datetime as dt
import io
import json
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from attendance_logger import reports
from attendance_logger.rules import Settings, compute
from tests.support import vectors

BASE = dt.datetime(2025, 11, 22, 8, 0, tzinfo=dt.timezone.utc)
LATER = BASE + dt.timedelta(days=1)
COLUMNS = ["meeting_id", "room", "date", "start_time", "name", "email", "user_id", "role", "course", "group",
           "first_join_time", "last_leave_time", "minutes", "percent", "status", "late", "left_early",
           "meeting_start", "first_join", "last_leave", "present_seconds", "time_zone"]
NAME, USER_ID, COURSE = COLUMNS.index("name"), COLUMNS.index("user_id"), COLUMNS.index("course")


def vector_events(name):
    return vectors.load(vectors.VECTORS_DIR / f"{name}.json").materialize(BASE)


def vector_events_at(base, name="01-basic-lesson"):
    return vectors.load(vectors.VECTORS_DIR / f"{name}.json").materialize(base)


def meetings_of(name, events=None, settings=reports.DEFAULT_SETTINGS):
    return compute(vector_events(name) if events is None else events, settings, now=LATER)


def csv_text(chunks):
    chunks = list(chunks)
    assert all(isinstance(c, str) for c in chunks)
    return "".join(chunks)


def read_rows(text, separator=","):
    assert text.startswith(reports.BOM)
    return list(csv.reader(io.StringIO(text[len(reports.BOM):], newline=""), delimiter=separator))


# -- JSON ---------------------------------------------------------------------------------------------
def test_meeting_json_has_every_field_and_survives_json():
    meeting, = meetings_of("04-reconnect-beyond-grace")
    body = json.loads(json.dumps(reports.meeting_json(meeting)))
    assert body["room"] == "maths-3b" and body["running"] is False and body["closed_by"] == "room.destroyed"
    assert (body["started_at"], body["ended_at"]) == ("2025-11-22T08:00:00.000Z", "2025-11-22T08:40:00.000Z")
    assert body["duration_seconds"] == 2400
    alice = next(p for p in body["participants"] if p["user_id"] == "u-1001")
    assert alice == {
        "key": "user:u-1001", "name": "Alice Martin", "names": ["Alice"], "email": "alice.martin@school.example",
        "user_id": "u-1001", "claims": {"courseid": "MATH101", "groupid": "3B"}, "moderator": False,
        "intervals": [["2025-11-22T08:00:00.000Z", "2025-11-22T08:16:40.000Z"],
                      ["2025-11-22T08:21:40.000Z", "2025-11-22T08:40:00.000Z"]],
        "first_join": "2025-11-22T08:00:00.000Z", "last_leave": "2025-11-22T08:40:00.000Z",
        "present_seconds": 2100, "percent": 87.5, "status": "present", "late": False, "left_early": False,
        "still_present": False, "key_kind": "user_id", "ambiguous": None, "enrolled": None,
    }
    assert (body["courses"], body["group"], body["absentees"], body["sync"]) == (["MATH101"], "3B", [], None)
    assert body["reference"] == {"kind": "meeting", "start": body["started_at"], "end": body["ended_at"],
                                 "course": None, "group": None, "source": None, "origin": None,
                                 "moodle_session": None, "note": None}


def test_running_meeting_json_has_no_end_and_open_presence():
    events = [e for e in vector_events("01-basic-lesson") if e["type"] != "room.destroyed"
              and not (e["type"] == "occupant.left" and e["identity"]["user_id"] == "t-100")]
    meeting, = compute(events, now=BASE + dt.timedelta(seconds=4000))
    body = reports.meeting_json(meeting)
    assert body["ended_at"] is None and body["running"] is True and body["closed_by"] is None
    teacher = next(p for p in body["participants"] if p["user_id"] == "t-100")
    assert teacher["still_present"] is True and teacher["last_leave"] is None
    rows = read_rows(csv_text(reports.meeting_csv(meeting)))
    teacher_row = next(r for r in rows if r[USER_ID] == "t-100")
    assert teacher_row[COLUMNS.index("last_leave")] == ""


def test_unicode_names_travel_unchanged_through_json():
    meeting, = meetings_of("11-unicode-names")
    body = json.loads(json.dumps(reports.meeting_json(meeting), ensure_ascii=False))
    names = {p["user_id"]: (p["name"], p["names"]) for p in body["participants"]}
    assert names["u-2001"] == ("Danny \"Dan\" O'Brien", ["O'Brien \"Danny\" <b>&amp;</b> \\o/"])
    assert names["u-2002"] == ("Zoë 🎓 Øster", ["Zoë 🎓"])
    assert names["u-2003"] == ("مريم أحمد", ["مريم", "مريم أحمد \u200f(3B)"])


# -- CSV format -------------------------------------------------------------------------------------------
def test_meeting_csv_is_utf8_bom_crlf_with_the_documented_columns():
    meeting, = meetings_of("01-basic-lesson")
    text = csv_text(reports.meeting_csv(meeting))
    assert text.startswith("\ufeff" + ",".join(COLUMNS) + "\r\n")
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    rows = read_rows(text)
    assert rows[0] == COLUMNS
    lesson = [meeting.key, "maths-3b", "2025-11-22", "08:00:00"]
    assert rows[1:] == [
        [*lesson, "Claire Dupont", "c.dupont@school.example", "t-100", "teacher", "MATH101", "3B", "08:00:00",
         "09:00:00", "60.0", "100.0", "present", "false", "false", "2025-11-22T08:00:00.000Z",
         "2025-11-22T08:00:00.000Z", "2025-11-22T09:00:00.000Z", "3600", "UTC"],
        [*lesson, "Alice Martin", "alice.martin@school.example", "u-1001", "student", "MATH101", "3B", "08:01:00",
         "08:50:00", "49.0", "81.7", "present", "false", "true", "2025-11-22T08:00:00.000Z",
         "2025-11-22T08:01:00.000Z", "2025-11-22T08:50:00.000Z", "2940", "UTC"],
        [*lesson, "Bob Leroy", "bob.leroy@school.example", "u-1002", "student", "MATH101", "3B", "08:07:00",
         "09:00:00", "53.0", "88.3", "present", "true", "false", "2025-11-22T08:00:00.000Z",
         "2025-11-22T08:07:00.000Z", "2025-11-22T09:00:00.000Z", "3180", "UTC"],
    ]
    # the encoded file starts with the UTF-8 byte-order mark Excel looks for
    assert text.encode("utf-8").startswith(b"\xef\xbb\xbf")


def test_local_dates_and_times_follow_the_zone_and_semicolons_bring_decimal_commas():
    """Paris in November is UTC+1; a lesson at 23:30 UTC is on the next day there."""
    meeting, = meetings_of("01-basic-lesson")
    paris = reports.Layout(zone=ZoneInfo("Europe/Paris"), separator=";")
    text = csv_text(reports.meeting_csv(meeting, layout=paris))
    rows = read_rows(text, separator=";")
    alice = dict(zip(rows[0], rows[2], strict=True))
    assert (alice["date"], alice["start_time"], alice["first_join_time"], alice["last_leave_time"]) == (
        "2025-11-22", "09:00:00", "09:01:00", "09:50:00")
    assert (alice["first_join"], alice["time_zone"]) == ("2025-11-22T08:01:00.000Z", "Europe/Paris")
    assert (alice["minutes"], alice["percent"]) == ("49,0", "81,7")
    late, = meetings_of("01-basic-lesson", vector_events_at(BASE.replace(hour=23, minute=30)))
    row = dict(zip(COLUMNS, read_rows(csv_text(reports.meeting_csv(late, layout=paris)), separator=";")[1], strict=True))
    assert (row["date"], row["start_time"]) == ("2025-11-23", "00:30:00")


def test_claim_headings_are_configurable():
    meeting, = meetings_of("01-basic-lesson")
    labels = reports.Layout(claim_labels={"courseid": "Course", "groupid": "Class group"})
    header = read_rows(csv_text(reports.meeting_csv(meeting, layout=labels)))[0]
    assert header[COURSE:COURSE + 2] == ["Course", "Class group"]


def test_claim_columns_follow_the_allow_list_in_order():
    settings = Settings(claims=("groupid", "schoolid", "courseid"))
    meeting, = meetings_of("01-basic-lesson", settings=settings)
    rows = read_rows(csv_text(reports.meeting_csv(meeting, settings)))
    assert rows[0][COURSE:COURSE + 4] == ["group", "schoolid", "course", "first_join_time"]
    assert rows[1][COURSE:COURSE + 3] == ["3B", "", "MATH101"]
    no_claims = Settings(claims=())
    meeting, = meetings_of("01-basic-lesson", settings=no_claims)
    assert read_rows(csv_text(reports.meeting_csv(meeting, no_claims)))[0] == [
        c for c in COLUMNS if c not in ("course", "group")]


def test_quotes_newlines_emoji_and_rtl_are_quoted_per_rfc4180_and_read_back_exactly():
    events = vector_events("11-unicode-names")
    for event in events:  # a display name with a line break and a comma, as a guest could type it
        if event.get("identity", {}).get("user_id") == "u-2002":
            event["identity"] = {**event["identity"], "name": "Zoë 🎓\r\nØster, \"Z\""}
    meeting, = meetings_of("11-unicode-names", events)
    text = csv_text(reports.meeting_csv(meeting))
    assert '"Danny ""Dan"" O\'Brien"' in text
    assert '"Zoë 🎓\r\nØster, ""Z"""' in text
    rows = read_rows(text)
    names = [row[NAME] for row in rows[1:]]
    assert names == ["Claire Dupont", "Danny \"Dan\" O'Brien", "Zoë 🎓\r\nØster, \"Z\"", "مريم أحمد"]
    assert all(len(row) == len(COLUMNS) for row in rows)


@pytest.mark.parametrize("dangerous", ["=HYPERLINK(\"http://evil.example\",\"x\")", "+1+2", "-2+3", "@SUM(A1)",
                                       "\t=1", "\r=1"])
def test_formula_injection_is_neutralised_in_every_person_supplied_cell(dangerous):
    events = vector_events("01-basic-lesson")
    for event in events:
        identity = event.get("identity")
        if identity and identity["user_id"] == "u-1001":
            event["identity"] = {**identity, "name": dangerous, "user_id": dangerous,
                                 "email": dangerous + "@school.example",
                                 "claims": {"courseid": dangerous, "groupid": dangerous}}
    meeting, = meetings_of("01-basic-lesson", events)
    rows = read_rows(csv_text(reports.meeting_csv(meeting)))
    alice = next(row for row in rows if row[NAME].startswith("'"))
    assert [alice[NAME], alice[NAME + 1], alice[USER_ID], alice[COURSE], alice[COURSE + 1]] == [
        "'" + dangerous, "'" + dangerous + "@school.example", "'" + dangerous, "'" + dangerous, "'" + dangerous]
    # cells that merely contain the characters later on are left alone
    assert reports.safe_cell("Anne-Marie = @home") == "Anne-Marie = @home"


@pytest.mark.parametrize("space", [" ", "  ", "\t", "\u00a0", "\u2003", "\u3000", "\u202f", " \u00a0\t"],
                         ids=["space", "spaces", "tab", "nbsp", "em-space", "ideographic", "narrow-nbsp", "mixed"])
@pytest.mark.parametrize("trigger", ["=", "+", "-", "@"])
def test_formula_injection_is_neutralised_after_leading_spaces(space, trigger):
    """Spreadsheets skip leading spaces (LibreOffice also non-breaking ones) before a formula."""
    cell = space + trigger + "HYPERLINK(\"http://evil.example\")"
    assert reports.safe_cell(cell) == "'" + cell
    if not space.startswith("\t"):  # a leading tab is guarded on its own
        assert reports.safe_cell(space + "Anne") == space + "Anne"


def test_safe_cell_writes_claim_values_of_every_json_type():
    assert [reports.safe_cell(v) for v in (None, True, False, 3, 2.5, "x")] == ["", "true", "false", "3", "2.5", "x"]
    assert reports.safe_cell(-3) == "'-3"  # a negative number typed as a claim is text, not a formula


def test_large_meeting_csv_streams_in_several_chunks():
    events = vector_events("01-basic-lesson")
    room, source = events[1]["room"], events[1]["source"]
    for n in range(450):
        occupant = {"occupant_jid": f"{room['jid']}/s{n}", "user_jid": f"s{n}@meet.jitsi/x", "bare_jid": f"s{n}@meet.jitsi",
                    "nick": f"Student {n}"}
        for type_, at in (("occupant.joined", 100), ("occupant.left", 200)):
            events.append({"id": f"{n:08d}-{at:04d}-4000-8000-000000000000", "type": type_,
                           "time": vectors.format_time(BASE + dt.timedelta(seconds=at)), "source": source,
                           "room": room, "occupant": occupant})
    meeting, = compute(events)
    chunks = list(reports.meeting_csv(meeting))
    assert len(chunks) >= 3
    assert len(read_rows("".join(chunks))) == 1 + 3 + 450


# -- course CSV -------------------------------------------------------------------------------------------
def test_course_csv_has_one_row_per_student_per_meeting():
    meetings = meetings_of("08-server-crash") + meetings_of("15-two-rooms")
    rows = read_rows(csv_text(reports.course_csv(iter(meetings), course="MATH101")))
    assert rows[0] == COLUMNS
    start = COLUMNS.index("meeting_start")
    got = [(r[1], r[start], r[USER_ID]) for r in rows[1:]]
    assert got == [
        ("maths-3b", "2025-11-22T08:00:00.000Z", "u-1001"),  # before the crash
        ("maths-3b", "2025-11-22T08:16:00.000Z", "u-1001"),  # after it
        ("maths-3b", "2025-11-22T08:00:00.000Z", "u-1001"),  # vector 15's two rooms
        ("physics-3b", "2025-11-22T08:01:40.000Z", "u-1002"),
        ("physics-3b", "2025-11-22T08:01:40.000Z", "u-1001"),
    ]
    assert [r[0] for r in rows[1:]] == [m.key for m in meetings for p in m.participants if not p.moderator]
    assert all(len(r) == len(COLUMNS) and r[COLUMNS.index("role")] == "student" for r in rows[1:])


def test_course_csv_leaves_out_participants_of_another_course_and_guests():
    events = vector_events("13-anonymous-guest") + vector_events("06-kick")
    for event in events:
        identity = event.get("identity")
        if identity and identity["user_id"] == "u-1002":
            event["identity"] = {**identity, "claims": {"courseid": "PHYS201"}}
    meetings = compute(events)
    rows = read_rows(csv_text(reports.course_csv(meetings, course="MATH101")))
    assert sorted(r[NAME] for r in rows[1:]) == ["Alice Martin"]  # the guest "Visitor" is no student
    everyone = read_rows(csv_text(reports.course_csv(meetings)))
    assert sorted(r[NAME] for r in everyone[1:]) == ["Alice Martin", "Bob Leroy"]
    # The meeting's own export lists everyone, the role telling them apart.
    guest_meeting = next(m for m in meetings if any(p.key.startswith("jid:") for p in m.participants))
    roles = {r[NAME]: r[COLUMNS.index("role")] for r in read_rows(csv_text(reports.meeting_csv(guest_meeting)))[1:]}
    assert roles["Visitor"] == "guest"


def test_course_csv_consumes_meetings_lazily():
    produced = []

    def meetings():
        for name in ("01-basic-lesson", "14-statuses"):
            produced.append(name)
            yield from meetings_of(name)

    chunks = reports.course_csv(meetings())
    header = next(chunks)
    assert header.startswith(reports.BOM + "meeting_id,") and produced == []
    next(chunks)
    assert produced == ["01-basic-lesson"]


@settings(max_examples=200, deadline=None)
@given(st.text(min_size=1), st.text())
def test_any_name_and_claim_survive_the_csv_round_trip(name, claim):
    """Whatever people type (quotes, separators, line breaks, emoji, RTL, control characters)
    reads back as itself, with only the formula guard added."""
    events = vector_events("01-basic-lesson")
    for event in events:
        identity = event.get("identity")
        if identity and identity["user_id"] == "u-1001":
            event["identity"] = {**identity, "name": name, "claims": {"courseid": claim}}
    meeting, = meetings_of("01-basic-lesson", events)
    rows = read_rows(csv_text(reports.meeting_csv(meeting)))
    alice = next(row for row in rows[1:] if row[USER_ID] == "u-1001")
    assert len(rows) == 4 and all(len(row) == len(COLUMNS) for row in rows)
    assert alice[NAME] == reports.safe_cell(name) and alice[COURSE] == reports.safe_cell(claim)
    assert alice[NAME] in (name, "'" + name)
