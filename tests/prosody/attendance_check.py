"""Compare a receiver's attendance (its read API) with a vector's expected attendance.

The events are the ones a real XMPP server delivered, re-timed to the scenario (`base + at`, see
driver.retimed), so the receiver must arrive at exactly the vector's figures.
"""
from __future__ import annotations

import datetime as dt

from tests.support import vectors


def seconds(text: str | None, base: dt.datetime) -> float | None:
    if text is None:
        return None
    return (dt.datetime.fromisoformat(text.replace("Z", "+00:00")) - base).total_seconds()


def person_keys(vector: vectors.Vector, person: str, events: list[dict], key_of) -> set[str]:
    """The receiver's participant keys for a person: by identity, or by occupant for guests."""
    key = vector.participant_key(person)
    if key is not None:
        return {key}
    return {key_of(event) for expected, event in zip(vector.expected_events(), events, strict=True)
            if expected["_client"] and vector.client_person(expected["_client"]) == person}


def assert_attendance(vector: vectors.Vector, receiver, events: list[dict], base: dt.datetime) -> None:
    """`receiver` (RealReceiver) holds exactly `events`; its meetings must be the vector's."""
    from attendance_logger.rules import participant_key

    window = [m for m in receiver.meetings()
              if seconds(m["started_at"], base) is not None and 0 <= seconds(m["started_at"], base) < 86400]
    window.sort(key=lambda m: m["started_at"])
    assert [(m["room"], seconds(m["started_at"], base)) for m in window] == [
        (m["room"], m["started_at"]) for m in vector.attendance], f"{vector.name}: meetings differ"
    for summary, want in zip(window, vector.attendance, strict=True):
        got = receiver.attendance(summary["id"])
        where = f"{vector.name}/{want['room']}@{want['started_at']}"
        assert seconds(got["ended_at"], base) == want["ended_at"], where
        assert got["closed_by"] == want.get("closed_by", "room.destroyed"), where
        assert vectors.class_problems(vector, want, got, lambda text: seconds(text, base)) == []
        assert len(got["participants"]) == len(want["participants"]), (where, [p["key"] for p in got["participants"]])
        for expected in want["participants"]:
            keys = person_keys(vector, expected["person"], events, participant_key)
            found = [p for p in got["participants"] if p["key"] in keys]
            who = f"{where}/{expected['person']}"
            assert len(found) == 1, (who, keys, [p["key"] for p in got["participants"]])
            p = found[0]
            assert seconds(p["first_join"], base) == expected["first_join"], who
            assert seconds(p["last_leave"], base) == expected["last_leave"], who
            assert p["present_seconds"] == expected["present_seconds"], who
            assert p["percent"] == expected["percent"], who
            assert (p["status"], p["late"], p["left_early"]) == (
                expected["status"], expected["late"], expected["left_early"]), who
            assert p["still_present"] is False, who
            if "name" in expected:
                assert p["name"] == expected["name"], who
            if "names" in expected:
                assert p["names"] == expected["names"], who
            for field in ("moderator", "key_kind"):
                if field in expected:
                    assert p[field] == expected[field], (who, field, p[field])
            if "ambiguous" in expected:
                assert bool(p["ambiguous"]) == expected["ambiguous"], (who, p["ambiguous"])
            if "intervals" in expected:
                assert [[seconds(a, base), seconds(b, base)] for a, b in p["intervals"]] == expected["intervals"], who
