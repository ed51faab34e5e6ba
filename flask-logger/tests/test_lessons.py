"""Meetings measured against their scheduled lesson, and the class list's absentees."""
from __future__ import annotations

import csv
import datetime as dt
import io

import pytest

from attendance_logger import rules
from attendance_logger.lessons import Enrolled, Lesson, choose_lesson, match_roster
from classroom import Classroom, stock_identity
from logger_helpers import basic_auth

NINE = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.timezone.utc)
MIN = 60_000


def ms(minutes: float) -> int:
    return rules.to_ms(NINE) + int(minutes * MIN)


def lesson(start: float, end: float, course="MAT-1A", group=None) -> Lesson:
    return Lesson(course=course, group=group, start_ms=ms(start), end_ms=ms(end), source="file", origin="test")


# -- the overlap rule ---------------------------------------------------------------------------------

def test_the_lesson_overlapping_the_meeting_longest_is_chosen():
    before, during = lesson(-60, 0), lesson(0, 55)
    assert choose_lesson([before, during], ms(-15), ms(55), ms(120)).lesson == during


def test_a_lesson_overlapping_less_than_half_of_the_shorter_is_not_the_meetings():
    # a help session from 09:50 to 10:50 is not measured against the lesson that ends at 09:55
    assert choose_lesson([lesson(0, 55)], ms(50), ms(110), ms(200)).lesson is None
    # but a short meeting inside a lesson is (a restart in the middle of it)
    assert choose_lesson([lesson(0, 55)], ms(20), ms(30), ms(200)).lesson is not None


def test_two_lessons_fitting_equally_give_none_and_say_why():
    choice = choose_lesson([lesson(0, 55, group="A"), lesson(0, 55, group="B")], ms(0), ms(55), ms(100))
    assert choice.lesson is None and "2 lessons fit this meeting equally (MAT-1A (A), MAT-1A (B))" in choice.note
    # the meeting's group decides
    assert choose_lesson([lesson(0, 55, group="A"), lesson(0, 55, group="B")], ms(0), ms(55), ms(100),
                         group="b").lesson.group == "B"


def test_a_running_meeting_matches_a_lesson_once_it_has_begun():
    assert choose_lesson([lesson(0, 55)], ms(-15), None, now_ms=ms(-5)).lesson is None
    assert choose_lesson([lesson(0, 55)], ms(-15), None, now_ms=ms(1)).lesson is not None


def test_only_signed_identifiers_match_the_class_list():
    roster = [Enrolled("MAT-1A", "Ana García", username="agarcia"), Enrolled("MAT-1A", "Bea Ruiz", email="b@s.example"),
              Enrolled("MAT-1A", "Carlos Sanz", user_id="103")]

    class Person:
        def __init__(self, key, key_kind, name=None, email=None, user_id=None):
            self.key, self.key_kind, self.name, self.email, self.user_id = key, key_kind, name, email, user_id

    found = match_roster([Person("n1", "signed_name", "AGARCIA"), Person("g1", "guest", "Bea Ruiz"),
                          Person("e1", "email", "whoever", email="B@S.EXAMPLE")], roster)
    assert found.enrolled == {"n1": True, "g1": False, "e1": True}
    assert [e.name for e in found.absent] == ["Carlos Sanz"]


# -- through the receiver -----------------------------------------------------------------------------

TIMETABLE = b"course,group,start,duration\nMAT-1A,,2026-03-02 10:00,55\n"  # 09:00 UTC in Madrid
ROSTER = (b"name,username,email,course\n"
          b"Ana Garcia,agarcia,ana@school.example,MAT-1A\n"
          b"Beatriz O'Neil,boneil,bea@school.example,MAT-1A\n"
          b"Carlos Ruiz,cruiz,carlos@school.example,MAT-1A\n")


def early_room() -> Classroom:
    """The teacher opens the room at 08:45, a quarter of an hour before the lesson; Ana joins at
    08:50 and reloads twice; Beatriz joins at 09:10 and leaves at 09:30; Carlos never comes."""
    ana, bea = stock_identity("agarcia"), stock_identity("boneil")
    room = Classroom("mat-1a_7_algebra", NINE - dt.timedelta(minutes=15)).created(0)
    room.join("teacher", 0, identity=stock_identity("tteacher", moderator=True), role="moderator")
    room.join("ana-1", 5, identity=ana).leave("ana-1", 25)
    room.join("ana-2", 25.5, identity=ana).leave("ana-2", 50)
    room.join("ana-3", 50.3, identity=ana)
    room.join("bea", 25, identity=bea).leave("bea", 45)
    return room.destroyed(70)


def import_class_data(client, timetable=TIMETABLE, roster=ROSTER):
    response = client.post("/v1/schedule?timezone=Europe/Madrid", data=timetable, headers=basic_auth())
    assert response.status_code == 200, response.get_json()
    response = client.post("/v1/roster?course=MAT-1A", data=roster, headers=basic_auth())
    assert response.status_code == 200, response.get_json()


@pytest.fixture
def room_app(database_url):
    from attendance_logger import create_app
    from attendance_logger.course_names import CourseNames
    from logger_helpers import ADMIN_PASSWORD, WEBHOOK_SECRET

    names = CourseNames.from_environment({"ATTENDANCE_ROOM_PATTERN": r"(?P<course>[a-z0-9-]+)_(?P<activity>\d+)_.*"})
    app = create_app({"DATABASE_URL": database_url, "WEBHOOK_SECRET": WEBHOOK_SECRET, "ADMIN_PASSWORD": ADMIN_PASSWORD,
                      "REFRESH_INTERVAL_SECONDS": 0, "COURSE_NAMES": names})
    yield app
    app.extensions["storage"].engine.dispose()


def attendance_of(client) -> dict:
    [meeting] = client.get("/v1/meetings", headers=basic_auth()).get_json()["meetings"]
    return client.get(f"/v1/meetings/{meeting['id']}/attendance", headers=basic_auth()).get_json()


def test_a_room_opened_early_is_measured_against_the_lesson(room_app):
    from logger_helpers import Sender

    client = room_app.test_client()
    Sender(client).post_all(early_room().events)
    without = attendance_of(client)  # no timetable yet: the meeting itself, 08:45 to 09:55
    assert without["reference"]["kind"] == "meeting"
    assert {p["name"]: p["late"] for p in without["participants"]}["boneil"] is True

    import_class_data(client)
    body = attendance_of(client)
    assert body["courses"] == ["MAT-1A"]  # the room's course, resolved to the class list's name
    assert (body["reference"]["kind"], body["reference"]["start"], body["reference"]["end"]) == (
        "lesson", "2026-03-02T09:00:00.000Z", "2026-03-02T09:55:00.000Z")
    people = {p["name"]: p for p in body["participants"]}
    ana, bea = people["agarcia"], people["boneil"]
    # Ana: there from 08:50 on, reloads within the grace: the whole lesson, not late
    assert (ana["percent"], ana["present_seconds"], ana["status"], ana["late"]) == (100.0, 3300, "present", False)
    # Beatriz: 09:10-09:30 of the 55-minute lesson
    assert (bea["percent"], bea["status"], bea["late"], bea["left_early"]) == (36.4, "partial", True, True)
    assert (ana["enrolled"], people["tteacher"]["enrolled"]) == (True, False)
    assert body["absentees"] == [{"name": "Carlos Ruiz", "email": "carlos@school.example", "user_id": None,
                                  "username": "cruiz", "group": None, "course": "MAT-1A", "source": "file",
                                  "status": "absent", "never_joined": True}]

    rows = list(csv.DictReader(io.StringIO(client.get(f"/v1/meetings/{body['id']}/attendance.csv",
                                                      headers=basic_auth()).get_data(as_text=True).lstrip("\ufeff"))))
    assert [(r["name"], r["status"], r["first_join"]) for r in rows][-1] == ("Carlos Ruiz", "absent", "")
    course = client.get("/v1/courses/MAT-1A/attendance.csv", headers=basic_auth()).get_data(as_text=True)
    assert "Carlos Ruiz" in course and "tteacher" not in course


def test_a_changed_timetable_reclassifies_kept_meetings(room_app):
    from logger_helpers import Sender

    client = room_app.test_client()
    Sender(client).post_all(early_room().events)
    import_class_data(client)
    assert attendance_of(client)["reference"]["start"] == "2026-03-02T09:00:00.000Z"
    moved = b"course,start,duration\nMAT-1A,2026-03-02 09:50,55\n"  # 08:50 UTC
    response = client.post("/v1/schedule?timezone=Europe/Madrid&from=2026-03-02&to=2026-03-02", data=moved,
                           headers=basic_auth())
    assert (response.get_json()["replaced"], response.get_json()["imported"]) == (1, 1)
    body = attendance_of(client)
    assert (body["reference"]["start"], body["reference"]["end"]) == ("2026-03-02T08:50:00.000Z",
                                                                      "2026-03-02T09:45:00.000Z")
