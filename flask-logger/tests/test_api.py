"""The read API: authentication, meeting filters, course export, errors, running meetings."""
from __future__ import annotations

import copy
import csv
import datetime as dt
import io

import pytest

from logger_helpers import basic_auth
from tests.support import vectors

# Noon (UTC) yesterday: every lesson below lasts an hour and starts at noon some days before, so
# none crosses midnight and the date filters mean the same at any time of day. (With the time
# of the run instead, a lesson started after 23:00 ended on the next day, inside `from=`.)
NOW = dt.datetime.now(dt.timezone.utc).replace(hour=12, minute=0, second=0, microsecond=0) - dt.timedelta(days=1)
LESSON = vectors.load(vectors.VECTORS_DIR / "01-basic-lesson.json")


def lesson(days_ago: int, *, room: str = "maths-3b", course: str | None = "MATH101", tag: str = "a",
           hours_ago: int = 0) -> list[dict]:
    """The basic lesson held `days_ago` days ago in `room` for `course` (None: no course claim)."""
    events = copy.deepcopy(LESSON.materialize(NOW - dt.timedelta(days=days_ago, hours=hours_ago)))
    for index, event in enumerate(events):
        event["id"] = f"{days_ago:08d}-{index:04d}-4000-8000-{tag * 12}"
        if "room" in event:
            event["room"] = {"jid": f"{room}@muc.meet.jitsi", "name": room}
        if "occupant" in event:
            event["occupant"]["occupant_jid"] = f"{room}@muc.meet.jitsi/" + event["occupant"]["occupant_jid"].split("/")[1]
        claims = event.get("identity", {}).get("claims")
        if claims is not None:
            if course is None:
                claims.pop("courseid", None)
            else:
                claims["courseid"] = course
    return events


@pytest.fixture
def school(sender):
    """Three lessons: maths for MATH101 five and three days ago, physics for PHYS202 yesterday."""
    sender.post_all(lesson(5))
    sender.post_all(lesson(3, tag="b"))
    sender.post_all(lesson(1, room="physics-3b", course="PHYS202", tag="c"))


def listed(client, query: str = "") -> list[dict]:
    response = client.get("/v1/meetings" + query, headers=basic_auth())
    assert response.status_code == 200, response.get_json()
    return response.get_json()["meetings"]


@pytest.mark.parametrize("path", ["/v1/meetings", "/v1/meetings/x/attendance", "/v1/meetings/x/attendance.csv",
                                  "/v1/courses/MATH101/attendance.csv"])
@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_reads_need_the_admin_password(client, path):
    for headers in ({}, basic_auth("wrong"), basic_auth(user="teacher")):
        response = client.get(path, headers=headers)
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"].startswith("Basic")
        assert "ATTENDANCE_ADMIN_PASSWORD" in response.get_json()["message"]
    assert client.get(path, headers=basic_auth()).status_code in (200, 404)


def test_meetings_are_listed_newest_first_with_their_summary(client, school):
    meetings = listed(client)
    assert [m["room"] for m in meetings] == ["physics-3b", "maths-3b", "maths-3b"]
    assert all(set(m) >= {"id", "room", "started_at", "ended_at", "participants"} for m in meetings)
    assert [m["participants"] for m in meetings] == [3, 3, 3]


def test_meetings_filter_by_room_course_and_dates(client, school):
    assert [m["room"] for m in listed(client, "?room=physics-3b")] == ["physics-3b"]
    assert len(listed(client, "?room=maths-3b@muc.meet.jitsi")) == 2
    assert [m["room"] for m in listed(client, "?course=PHYS202")] == ["physics-3b"]
    assert len(listed(client, "?course=MATH101")) == 2
    assert listed(client, "?course=NOPE") == []
    four_days_ago = (NOW - dt.timedelta(days=4)).strftime("%Y-%m-%d")
    two_days_ago = (NOW - dt.timedelta(days=2)).isoformat().replace("+00:00", "Z")
    assert len(listed(client, f"?from={four_days_ago}")) == 2
    assert [m["room"] for m in listed(client, f"?from={four_days_ago}&to={two_days_ago}")] == ["maths-3b"]
    assert len(listed(client, f"?room=maths-3b&to={four_days_ago}")) == 1
    three_days_ago = (NOW - dt.timedelta(days=3)).strftime("%Y-%m-%d")
    assert len(listed(client, f"?room=maths-3b&to={three_days_ago}")) == 2  # a date as `to` includes that day


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
@pytest.mark.parametrize("query", ["?from=yesterday", "?to=2025-13-01", "?from=2025-11-22T08:00:00"])
def test_bad_dates_are_explained(client, query):
    response = client.get("/v1/meetings" + query, headers=basic_auth())
    assert response.status_code == 400
    assert "RFC 3339" in response.get_json()["message"]


def test_course_csv_has_one_row_per_student_per_meeting(client, school):
    response = client.get("/v1/courses/MATH101/attendance.csv", headers=basic_auth())
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == 'attachment; filename="MATH101-attendance.csv"'
    text = response.get_data().decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text[1:], newline="")))
    math_ids = [m["id"] for m in reversed(listed(client, "?course=MATH101"))]
    # Students only (the teacher's token makes her a moderator), oldest meeting first.
    assert [(r["meeting_id"], r["name"]) for r in rows] == [
        (meeting, name) for meeting in math_ids for name in ("Alice Martin", "Bob Leroy")]
    assert {r["course"] for r in rows} == {"MATH101"}  # the claim, under its readable heading


def test_unknown_meeting_is_a_404_with_a_message(client, school):
    for suffix in ("attendance", "attendance.csv"):
        response = client.get(f"/v1/meetings/not-a-meeting/{suffix}", headers=basic_auth())
        assert response.status_code == 404
        assert "not-a-meeting" in response.get_json()["message"]


def test_a_running_meeting_is_listed_and_computed_up_to_now(client, sender):
    events = [e for e in lesson(0, hours_ago=2) if e["type"] in ("source.started", "room.created", "occupant.joined")]
    sender.post_all(events)
    meeting, = listed(client)
    assert meeting["ended_at"] is None
    attendance = client.get(f"/v1/meetings/{meeting['id']}/attendance", headers=basic_auth()).get_json()
    assert attendance["running"] is True
    assert all(p["still_present"] and p["last_leave"] is None for p in attendance["participants"])


def test_healthz_reports_an_unreachable_database():
    from attendance_logger import create_app
    from logger_helpers import ADMIN_PASSWORD, WEBHOOK_SECRET, free_port

    app = create_app({"DATABASE_URL": f"postgresql+psycopg://nobody@127.0.0.1:{free_port()}/none",
                      "WEBHOOK_SECRET": WEBHOOK_SECRET, "ADMIN_PASSWORD": ADMIN_PASSWORD, "AUTO_MIGRATE": False,
                      "REFRESH_INTERVAL_SECONDS": 0})
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "unhealthy", "database": "unreachable"}
