"""Compare a receiver's attendance (its read API) with a vector's expected attendance.

The events are the ones a real XMPP server delivered, re-timed to the scenario (`base + at`, see
driver.retimed), so the receiver must arrive at exactly the vector's figures.
"""
from __future__ import annotations

import datetime as dt

from tests.support import vectors


def seconds(text: str | None, base: dt.datetime) -> float | None:
    return vectors.scenario_seconds(text, base)


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
            keys = vectors.person_keys(vector, expected["person"], events, participant_key)
            found = [p for p in got["participants"] if p["key"] in keys]
            who = f"{where}/{expected['person']}"
            assert len(found) == 1, (who, keys, [p["key"] for p in got["participants"]])
            assert found[0]["still_present"] is False, who
            assert vectors.participant_problems(expected, found[0], lambda text: seconds(text, base)) == [], who
