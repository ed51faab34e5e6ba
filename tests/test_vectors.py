"""The scenario vectors are well formed and consistent with themselves.

They are the shared truth for the receiver, the Prosody module and the Openfire plugin, so a typo
here would mislead three test suites at once.
"""
import datetime as dt
import re

import pytest

from tests.support import vectors

ALL = vectors.all_vectors()
STEP_FIELDS = {"join": {"client", "person", "room"}, "presence": {"client", "nick"}, "leave": {"client"},
               "disconnect": {"client"}, "kick": {"client", "by"}, "destroy": {"room", "by"}, "crash": set(),
               "role": {"client", "by", "role"}}
SCENARIOS_NAMED_BY_THE_ISSUE = ["rename", "reconnect-within-grace", "reconnect-beyond-grace", "two-tabs", "kick",
                                "room-destroyed-with-occupants", "server-crash", "system-occupants",
                                "healthcheck-room", "unicode-names", "breakout-room"]


def test_there_are_enough_vectors():
    assert len(ALL) >= 12


@pytest.mark.parametrize("name", SCENARIOS_NAMED_BY_THE_ISSUE)
def test_each_required_scenario_exists(name):
    assert any(v.name.endswith(name) for v in ALL)


@pytest.mark.parametrize("vector", ALL, ids=lambda v: v.name)
class TestVector:
    def test_name_matches_file(self, vector):
        assert (vectors.VECTORS_DIR / f"{vector.name}.json").exists()

    def test_steps_are_ordered_and_complete(self, vector):
        ats = [s["at"] for s in vector.steps]
        assert ats == sorted(ats)
        clients = set()
        for step in vector.steps:
            assert STEP_FIELDS[step["do"]] <= step.keys(), step
            if step["do"] == "join":
                assert step["person"] in vector.people
                assert step["client"] not in clients, "client ids are one connection each"
                clients.add(step["client"])
            elif "client" in step:
                assert step["client"] in clients, step

    def test_events_are_ordered_and_refer_to_known_clients(self, vector):
        ats = [e["at"] for e in vector.events]
        assert ats == sorted(ats)
        assert vector.events[0]["type"] == "source.started"
        for event in vector.events:
            if "client" in event:
                vector.client_person(event["client"])

    def test_every_join_step_of_a_person_is_an_event_unless_system(self, vector):
        joined = {(e["at"], e["client"]) for e in vector.events if e["type"] == "occupant.joined"}
        for step in vector.steps:
            if step["do"] != "join":
                continue
            person = vector.people[step["person"]]
            hidden = "system" in person or step["room"].startswith("__jicofo-health-check")
            assert ((step["at"], step["client"]) in joined) != hidden, step

    def test_no_system_occupant_is_reported(self, vector):
        for event in vector.expected_events():
            if event["_client"]:
                assert "system" not in vector.people[vector.client_person(event["_client"])]

    def test_attendance_refers_to_people_and_is_coherent(self, vector):
        for meeting in vector.attendance:
            assert meeting["ended_at"] - meeting["started_at"] > 0
            # Measured against the lesson when the meeting has one, else against itself.
            reference = meeting.get("reference", {"start": meeting["started_at"], "end": meeting["ended_at"]})
            start, end = reference["start"], reference["end"]
            for p in meeting["participants"]:
                assert p["person"] in vector.people
                assert meeting["started_at"] <= p["first_join"] <= p["last_leave"] <= meeting["ended_at"]
                assert 0 < p["present_seconds"] <= p["last_leave"] - p["first_join"]
                assert p["percent"] == round(100 * p["present_seconds"] / (end - start), 1)
                settings = vector.settings
                expected_status = ("present" if p["percent"] >= settings["present_min_percent"] else
                                   "partial" if p["percent"] >= settings["partial_min_percent"] else "absent")
                assert p["status"] == expected_status
                assert p["late"] == (p["first_join"] - start > settings["late_after_seconds"])
                assert p["left_early"] == (end - p["last_leave"] > settings["left_early_seconds"])
                if "intervals" in p:
                    assert sum(max(0, min(b, end) - max(a, start)) for a, b in p["intervals"]) == p["present_seconds"]

    def test_lessons_and_absentees_come_from_the_class(self, vector):
        students = vector.classroom.get("students", [])
        lessons = vector.classroom.get("lessons", [])
        assert all(s["name"] and s["course"] for s in students)
        assert all(lesson["duration"] > 0 for lesson in lessons)
        if vector.room_pattern:
            assert "(?P<course>" in vector.room_pattern
            for meeting in vector.attendance:
                assert re.fullmatch(vector.room_pattern, meeting["room"]), meeting["room"]
        for meeting in vector.attendance:
            if "reference" in meeting:
                assert any((lesson["start"], lesson["start"] + lesson["duration"]) ==
                           (meeting["reference"]["start"], meeting["reference"]["end"]) for lesson in lessons)
            assert set(meeting.get("absentees", [])) <= {s["name"] for s in students}

    def test_materialized_events_have_unique_ids(self, vector):
        events = vector.materialize(dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc))
        assert len({e["id"] for e in events}) == len(events)


def test_identity_keeps_only_allow_listed_claims():
    basic = vectors.load(vectors.VECTORS_DIR / "01-basic-lesson.json")
    assert "secret_note" in basic.people["alice"]["token"]
    assert basic.identity("alice")["claims"] == {"courseid": "MATH101", "groupid": "3B"}


def test_matches_reports_differences_and_accepts_placeholders():
    basic = vectors.load(vectors.VECTORS_DIR / "01-basic-lesson.json")
    expected = basic.expected_events()[2]
    actual = basic.materialize(__import__("datetime").datetime(2025, 1, 1))[2]
    assert vectors.matches(expected, actual) == []
    actual["occupant"]["nick"] = "Someone else"
    assert vectors.matches(expected, actual) == ["occupant.nick: expected 'Mme Dupont', got 'Someone else'"]
    actual["occupant"]["nick"] = "Mme Dupont"
    actual["identity"] = dict(actual["identity"], claims={"courseid": "MATH101", "groupid": "3B", "secret_note": "x"})
    assert vectors.matches(expected, actual)


def test_class_files_are_timed_from_the_base_the_events_use():
    early = vectors.load(vectors.VECTORS_DIR / "20-room-opened-early.json")
    base = dt.datetime(2026, 12, 4, 8, 0, tzinfo=dt.timezone.utc)
    assert early.timetable_csv(base) == b"course,start,end\r\nHIST-2C,2026-12-04T08:15:00Z,2026-12-04T09:00:00Z\r\n"
    assert early.roster_csv().splitlines()[1] == b"Ana Torres,u-2011,ana.torres@school.example,,HIST-2C"
    assert [path for path, _ in early.class_imports(base)] == ["/v1/roster?filename=roster.csv",
                                                               "/v1/schedule?filename=timetable.csv"]
    assert vectors.load(vectors.VECTORS_DIR / "01-basic-lesson.json").class_imports(base) == []
