"""Every scenario of tests/vectors, end to end: signed POSTs in, attendance JSON and CSV out.

The events are materialized at a base time a day ago (signatures are made now, as a plugin
delivering late would), stored in real SQLite and PostgreSQL, and read back through the API. A
vector's class list and lessons are imported through the API first, timed from the same base.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import random

import pytest

from attendance_logger import create_app, rules
from attendance_logger.course_names import CourseNames
from logger_helpers import ADMIN_PASSWORD, WEBHOOK_SECRET, Sender, basic_auth
from tests.support import vectors

BASE = dt.datetime.now(dt.timezone.utc).replace(microsecond=0) - dt.timedelta(days=1)
ALL = vectors.all_vectors()


def seconds(text: str | None) -> float | None:
    return vectors.scenario_seconds(text, BASE)


def check_csv(response, attendance: dict, settings: dict, where: str) -> None:
    assert response.status_code == 200 and response.mimetype == "text/csv"
    raw = response.get_data()
    assert raw.startswith("\ufeff".encode()), "UTF-8 byte-order mark for Excel"
    text = raw.decode("utf-8")[1:]
    assert "\r\n" in text and "\n" not in text.replace("\r\n", "")
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    header = next(csv.reader(io.StringIO(text, newline="")))
    headings = {"courseid": "course", "groupid": "group"}
    claim_columns = [headings.get(claim, claim) for claim in settings["claims"]]
    assert header == ["meeting_id", "room", "date", "start_time", "name", "email", "user_id", "role", *claim_columns,
                      "first_join_time", "last_leave_time", "minutes", "percent", "status", "late", "left_early",
                      "meeting_start", "first_join", "last_leave", "present_seconds", "time_zone"]
    # Everyone who came, then the class list's students who never joined.
    participants, absentees = rows[:len(attendance["participants"])], rows[len(attendance["participants"]):]
    assert [(row["name"], row["role"], row["status"], row["first_join"]) for row in absentees] == [
        (absentee["name"], "student", "absent", "") for absentee in attendance["absentees"]], where
    for row, participant in zip(participants, attendance["participants"], strict=True):
        assert row["name"].lstrip("'") == participant["name"], where
        assert row["email"] == (participant["email"] or ""), where
        assert row["first_join"] == participant["first_join"], where
        assert row["last_leave"] == (participant["last_leave"] or ""), where
        assert row["first_join_time"] == participant["first_join"][11:19], where  # UTC: the default zone
        assert float(row["present_seconds"]) == participant["present_seconds"], where
        assert float(row["minutes"]) == round(participant["present_seconds"] / 60, 1), where
        assert row["percent"] == f"{participant['percent']:.1f}", where
        assert (row["status"], row["late"], row["left_early"]) == (
            participant["status"], str(participant["late"]).lower(), str(participant["left_early"]).lower()), where
        assert row["role"] == ("teacher" if participant["moderator"] else
                               "guest" if participant["key"].startswith(("jid:", "occupant:")) else "student"), where
        for claim, column in zip(settings["claims"], claim_columns, strict=True):
            assert row[column] == str(participant["claims"].get(claim, "")), where


def vector_app(vector, database_url):
    """The receiver under the vector's settings and room pattern, with its class imported."""
    app = create_app({"DATABASE_URL": database_url, "WEBHOOK_SECRET": WEBHOOK_SECRET,
                      "ADMIN_PASSWORD": ADMIN_PASSWORD, "SETTINGS": vector.settings,
                      "COURSE_NAMES": CourseNames.from_environment(
                          {"ATTENDANCE_ROOM_PATTERN": vector.room_pattern or ""}),
                      "REFRESH_INTERVAL_SECONDS": 0})
    client = app.test_client()
    vectors.import_class(vector, BASE, lambda path, body: client.post(
        path, data=body, headers={**basic_auth(), "Content-Type": "text/csv"}))
    return app


@pytest.mark.parametrize("vector", ALL, ids=lambda v: v.name)
def test_vector_attendance_through_the_api(vector, database_url):
    client = vector_app(vector, database_url).test_client()
    events = vector.materialize(BASE)
    Sender(client).post_all(events, batch_size=5)  # several requests, as a plugin's spool sends them
    check_vector(client, vector, events)


@pytest.mark.parametrize("vector", ALL, ids=lambda v: v.name)
def test_vector_attendance_with_shuffled_late_and_repeated_delivery(vector, database_url):
    """Spools deliver out of order and retry; reads in between make the store refresh meetings
    from partial data, which later events must correct. A tiny refresh window makes the store
    compute each room in many windows, as it does for rooms with years of history."""
    app = vector_app(vector, database_url)
    app.extensions["attendance"].index.window_events = 3
    client = app.test_client()
    events = vector.materialize(BASE)
    rng = random.Random(vector.name)
    delivered = events + rng.sample(events, k=len(events) // 3)
    rng.shuffle(delivered)
    sender, auth = Sender(client), basic_auth()
    while delivered:
        size = rng.randint(1, 4)
        batch, delivered = delivered[:size], delivered[size:]
        unique = list({e["id"]: e for e in batch}.values())
        assert sender.post({"events": unique}).status_code == 200
        assert client.get("/v1/meetings", headers=auth).status_code == 200
    check_vector(client, vector, events)


def check_vector(client, vector, events) -> None:
    auth = basic_auth()
    listed = client.get("/v1/meetings", headers=auth).get_json()["meetings"]
    listed.sort(key=lambda m: (m["started_at"], m["room"]))
    assert [(m["room"], seconds(m["started_at"]), seconds(m["ended_at"])) for m in listed] == [
        (m["room"], m["started_at"], m["ended_at"]) for m in vector.attendance]
    for summary, expected in zip(listed, vector.attendance, strict=True):
        where = f"{vector.name}/{expected['room']}@{expected['started_at']}"
        assert summary["participants"] == len(expected["participants"]), where
        attendance = client.get(f"/v1/meetings/{summary['id']}/attendance", headers=auth).get_json()
        assert attendance["id"] == summary["id"]
        assert attendance["closed_by"] == expected.get("closed_by", "room.destroyed"), where
        assert attendance["running"] is False
        assert vectors.class_problems(vector, expected, attendance, seconds) == []
        assert len(attendance["participants"]) == len(expected["participants"]), where
        by_key = {p["key"]: p for p in attendance["participants"]}
        for want in expected["participants"]:
            keys = vectors.person_keys(vector, want["person"], events, rules.participant_key)
            matches = [by_key[k] for k in keys if k in by_key]
            assert len(matches) == 1, f"{where}/{want['person']}: {sorted(by_key)}"
            assert vectors.participant_problems(want, matches[0], seconds) == [], f"{where}/{want['person']}"
        check_csv(client.get(f"/v1/meetings/{summary['id']}/attendance.csv", headers=auth),
                  attendance, vector.settings, where)
