"""Courses read from room names (ATTENDANCE_ROOM_PATTERN) when tokens carry none: indexed for access
and the course filter, resolved to the courses class lists name, and re-indexed when the pattern
changes."""
from __future__ import annotations

import datetime as dt

import pytest

from attendance_logger import create_app
from attendance_logger.course_names import CourseNames
from attendance_logger.room_pattern import MOD_JITSI_HYPHEN_PATTERN, MOD_JITSI_UNDERSCORE_PATTERN
from classroom import Classroom, stock_identity
from logger_helpers import ADMIN_PASSWORD, WEBHOOK_SECRET, Sender, basic_auth

NINE = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.timezone.utc)
DUPONT = ("ms.dupont", "dupont's long password")


def app_with(database_url, **environ):
    return create_app({"DATABASE_URL": database_url, "WEBHOOK_SECRET": WEBHOOK_SECRET,
                       "ADMIN_PASSWORD": ADMIN_PASSWORD, "REFRESH_INTERVAL_SECONDS": 0,
                       "COURSE_NAMES": CourseNames.from_environment(environ)})


def lesson(room: str, day: int, claims: dict | None = None) -> list[dict]:
    identity = stock_identity("agarcia")
    if claims:
        identity["claims"] = claims
    classroom = Classroom(room, NINE + dt.timedelta(days=day)).created(0)
    classroom.join("ana", 1, identity=identity)
    return classroom.destroyed(50).events


def courses(client, course: str) -> list[str]:
    return sorted(m["room"] for m in client.get(f"/v1/meetings?course={course}", headers=basic_auth())
                  .get_json()["meetings"])


def test_rooms_give_courses_that_a_teacher_s_access_follows(database_url):
    app = app_with(database_url, ATTENDANCE_ROOM_PATTERN=MOD_JITSI_UNDERSCORE_PATTERN)
    client = app.test_client()
    sender = Sender(client)
    sender.post_all(lesson("mat-1a_7_algebra", 0))
    sender.post_all(lesson("fis-2b_9_optics", 1))
    sender.post_all(lesson("assembly", 2))  # fits no pattern: for admins only
    sender.post_all(lesson("mat-1a_7_algebra", 3, claims={"courseid": "4021"}))  # the token's claim wins
    assert courses(client, "mat-1a") == ["mat-1a_7_algebra"]
    assert courses(client, "4021") == ["mat-1a_7_algebra"]
    app.extensions["accounts"].add(*DUPONT, role="teacher", courses=["mat-1a"])
    as_dupont = basic_auth(DUPONT[1], user=DUPONT[0])
    mine = client.get("/v1/meetings", headers=as_dupont).get_json()["meetings"]
    assert [m["room"] for m in mine] == ["mat-1a_7_algebra"]
    assert client.get(f"/v1/meetings/{mine[0]['id']}/attendance", headers=as_dupont).get_json()["courses"] == ["mat-1a"]

    # a class list naming MAT-1A resolves the room's mat-1a to it, for access too
    assert client.post("/v1/roster?course=MAT-1A", data=b"name\nAna\n", headers=basic_auth()).status_code == 200
    assert courses(client, "MAT-1A") == ["mat-1a_7_algebra"]  # (course filters ignore case)
    assert client.get(f"/v1/meetings/{mine[0]['id']}/attendance", headers=basic_auth()).get_json()["courses"] \
        == ["MAT-1A"]
    app.extensions["accounts"].grant(DUPONT[0], ["MAT-1A"])
    assert len(client.get("/v1/meetings", headers=as_dupont).get_json()["meetings"]) == 1


def test_a_changed_pattern_reindexes_stored_meetings_at_start(database_url):
    first = app_with(database_url, ATTENDANCE_ROOM_PATTERN=MOD_JITSI_UNDERSCORE_PATTERN)
    Sender(first.test_client()).post_all(lesson("mat-1a_7_algebra", 0))
    Sender(first.test_client()).post_all(lesson("fis2b-9-optics", 1))
    assert courses(first.test_client(), "mat-1a") == ["mat-1a_7_algebra"]
    assert courses(first.test_client(), "fis2b") == []

    second = app_with(database_url, ATTENDANCE_ROOM_PATTERN=MOD_JITSI_HYPHEN_PATTERN)
    assert courses(second.test_client(), "fis2b") == ["fis2b-9-optics"]
    assert courses(second.test_client(), "mat-1a") == []
    # an explicit map, also re-indexed at start
    third = app_with(database_url, ATTENDANCE_ROOM_PATTERN=MOD_JITSI_HYPHEN_PATTERN,
                     ATTENDANCE_ROOM_COURSES="fis2b=FIS-2B")
    assert courses(third.test_client(), "FIS-2B") == ["fis2b-9-optics"]
    none = app_with(database_url)
    assert courses(none.test_client(), "FIS-2B") == []


def test_the_room_s_group_is_the_meeting_s(database_url):
    app = app_with(database_url, ATTENDANCE_ROOM_PATTERN=r"(?P<course>[a-z0-9-]+)-(?P<group>[a-z])")
    client = app.test_client()
    Sender(client).post_all(lesson("mat-1a-b", 0))
    [meeting] = client.get("/v1/meetings", headers=basic_auth()).get_json()["meetings"]
    body = client.get(f"/v1/meetings/{meeting['id']}/attendance", headers=basic_auth()).get_json()
    assert (body["courses"], body["group"]) == (["mat-1a"], "b")


@pytest.mark.parametrize("environ,complaint", [
    ({"ATTENDANCE_ROOM_PATTERN": "(?P<course>[a-z"}, "ATTENDANCE_ROOM_PATTERN is not a valid regular expression"),
    ({"ATTENDANCE_ROOM_PATTERN": "(?P<teacher>.*)"}, "the named group(s) teacher, which mean nothing here"),
    ({"ATTENDANCE_ROOM_COURSES": "mat-1a"}, "'mat-1a' is not room-course=COURSE"),
    ({"ATTENDANCE_TIMEZONE": "Madrid"}, "ATTENDANCE_TIMEZONE: 'Madrid' is not an IANA time zone"),
])
def test_a_bad_room_or_time_zone_setting_stops_the_receiver_saying_why(environ, complaint):
    from attendance_logger.config import ConfigError, from_environment

    with pytest.raises(ConfigError) as refused:
        from_environment({"ATTENDANCE_WEBHOOK_SECRET": WEBHOOK_SECRET, **environ})
    assert complaint in str(refused.value)
