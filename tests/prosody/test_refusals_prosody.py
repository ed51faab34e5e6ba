"""Permanent refusals with a real Prosody and the real module: a batch the receiver refuses with
400 goes to the dead-letter store and does not block the events after it; turning
`presence_logger_requeue_dead_letters` on and reloading the config (SIGHUP, what `prosodyctl
reload` sends) sends it again.

The receiver is `CaptureReceiver` (it verifies every signature with the reference library): the
real receiver cannot be made to refuse a valid batch on demand.
"""
from __future__ import annotations

import asyncio
import os
import signal

import pytest

from tests.prosody.crowd import crowd, expected_crowd_events, wait_for_events
from tests.prosody.environment import logger_prosody
from tests.prosody.receivers import CaptureReceiver


@pytest.mark.slow
def test_a_batch_refused_with_400_is_dead_lettered_and_later_events_get_through(tmp_path, prosody_version):
    receiver = CaptureReceiver(status=400).start()
    prosody = logger_prosody(tmp_path / "prosody", receiver.url, receiver.secret, version=prosody_version)
    prosody.start()
    try:
        # The first batch (source.started) is refused for good: it must leave the spool.
        line = prosody.wait_for_log("moved them to the dead-letter store", timeout=15)
        assert "HTTP 400" in line and "1 event(s) of batch" in line, line
        assert receiver.events() == []

        receiver.status = 200
        asyncio.run(crowd(prosody, rooms=1, per_room=3))
        wanted = expected_crowd_events(1, 3)
        events = wait_for_events(receiver, sum(wanted.values()), timeout=30)
        types = [e["type"] for e in events]
        assert sorted(types) == sorted(wanted.elements()), types
        assert "source.started" not in types, "the dead letter stays out until an admin re-queues it"
        assert receiver.rejected == 0

        mark = prosody.log_size()
        prosody.muc_options["presence_logger_requeue_dead_letters"] = True
        prosody.write_config()
        os.kill(prosody.pid, signal.SIGHUP)  # prosodyctl reload
        prosody.wait_for_log("Re-queued 1 dead-lettered event(s) in 1 batch(es)", since=mark, timeout=15)
        events = wait_for_events(receiver, sum(wanted.values()) + 1, timeout=15)
        assert [e["type"] for e in events].count("source.started") == 1
        assert receiver.rejected == 0
    finally:
        prosody.stop()
        receiver.stop()
