"""Every scenario vector, played with real clients against a real Prosody 0.12 running
prosody-plugin/mod_presence_logger.lua, delivering to the real receiver (flask-logger on SQLite).

For each vector: the events the receiver stored must be the vector's events (tests/prosody/
driver.py matches them moment by moment, including each occupant's real JIDs and the identity
from the verified token), each one valid against the contract schema; then the same events,
re-timed to the scenario's clock, sent to a second real receiver (holding the vector's class list
and lessons, imported through its API) must give exactly the vector's attendance through the
authenticated read API.

Jitsi pieces that cannot be installed here are test stand-ins, named after their source:
tests/prosody/modules/mod_auth_test_jwt.lua (mod_auth_token), mod_test_focus.lua (jicofo's
answer to the conference request), mod_test_breakout_link.lua (mod_muc_breakout_rooms' link from
a breakout room to its main room).
"""
from __future__ import annotations

import datetime as dt

import pytest

from tests.prosody.attendance_check import assert_attendance
from tests.prosody.environment import logger_prosody
from tests.prosody.driver import retimed, run_vector
from tests.support import contract, vectors

ALL = vectors.all_vectors()
BASE = dt.datetime(2025, 11, 22, 8, 0, tzinfo=dt.timezone.utc)


def uses_breakout(vector) -> bool:
    return any(step.get("component") == "breakout" for step in vector.steps)


@pytest.mark.slow
@pytest.mark.parametrize("vector", ALL, ids=lambda v: v.name)
def test_vector_on_real_prosody_and_receiver(vector, tmp_path, shared_receivers, prosody_version):
    index = ALL.index(vector)
    # A vector's room pattern is part of its receiver's settings, so it gets receivers of its own.
    settings = {**vector.settings, "room_pattern": vector.room_pattern} if vector.room_pattern else vector.settings
    live, replay = shared_receivers.get(settings, prosody_version)
    before = len(live.events())
    prosody = logger_prosody(tmp_path / "prosody", live.url, live.secret, claims=vector.settings["claims"],
                             breakout=uses_breakout(vector), version=prosody_version)
    prosody.start()
    try:
        delivered = run_vector(vector, prosody, live, since=before)
    finally:
        prosody.stop()
    assert "error" not in [line.split("\t")[1] for line in prosody.log_text().splitlines()
                           if line.count("\t") >= 2 and "presence_logger" in line.split("\t")[0]], \
        "the module logged errors:\n" + prosody.recent_log()

    for event in delivered:
        problems = [e.message for e in contract.validator().iter_errors(event)]
        assert not problems, (event, problems)

    # Each vector gets its own day on the shared replay receiver, and its class (a course of its
    # own) lessons on that day.
    base = BASE + dt.timedelta(days=index)
    vectors.import_class(vector, base, replay.upload)
    events = retimed(vector, delivered, base)
    response = replay.post(events)
    assert response.status_code == 200, response.text
    assert response.json()["accepted"] == len(events)
    assert_attendance(vector, replay, events, base)
