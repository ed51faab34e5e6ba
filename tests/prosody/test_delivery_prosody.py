"""Delivery under failure, with a real Prosody, the real module and the real receiver (SQLite).

Outage: the receiver is stopped while 200 participants join and leave, then started again; every
event must then be stored exactly once. Restart: Prosody is restarted, gracefully or by SIGKILL,
while its spool holds undelivered events; nothing may be lost once both are back.
"""
from __future__ import annotations

import asyncio
import re
import time
from collections import Counter

import pytest

from tests.prosody.environment import logger_prosody
from tests.prosody.crowd import crowd, expected_crowd_events, wait_for_events
from tests.prosody.receivers import RealReceiver


def scrape(receiver: RealReceiver, metric: str) -> float:
    import requests

    text = requests.get(receiver.base_url + "/metrics", timeout=5).text
    found = re.search(rf"^{metric} ([0-9.e+]+)$", text, re.M)
    return float(found.group(1)) if found else 0.0


def check_each_occupant_once(events: list[dict], occupants: list[str]) -> None:
    per_occupant = Counter((e["occupant"]["occupant_jid"], e["type"]) for e in events if "occupant" in e)
    for occupant in occupants:
        assert per_occupant[(occupant, "occupant.joined")] == 1, occupant
        assert per_occupant[(occupant, "occupant.left")] == 1, occupant
    assert len({e["id"] for e in events}) == len(events)


@pytest.mark.slow
def test_receiver_outage_while_200_participants_come_and_go(tmp_path, prosody_version):
    receiver = RealReceiver(tmp_path / "receiver").start()
    prosody = logger_prosody(tmp_path / "prosody", receiver.url, receiver.secret, batch_size=100,
                             version=prosody_version)
    prosody.start()
    try:
        started = wait_for_events(receiver, 1, timeout=10)
        assert [e["type"] for e in started] == ["source.started"]

        receiver.stop()
        result = asyncio.run(crowd(prosody, rooms=4, per_room=50))
        assert len(result.occupants) == 200
        prosody.wait_for_log("Receiver did not accept batch", timeout=10)   # it did try, and failed
        receiver.start()

        wanted = expected_crowd_events(4, 50)
        events = wait_for_events(receiver, 1 + sum(wanted.values()), timeout=60)
        by_type = Counter(e["type"] for e in events)
        assert by_type == wanted + Counter({"source.started": 1}), by_type
        check_each_occupant_once(events, result.occupants)
        # Exactly once also on the wire: the receiver never saw an event twice.
        assert scrape(receiver, "attendance_events_duplicate_total") == 0
    finally:
        prosody.stop()
        receiver.stop()


@pytest.mark.slow
@pytest.mark.parametrize("graceful", [True, False], ids=["graceful restart", "kill -9 and start"])
def test_prosody_restart_keeps_the_spool(tmp_path, graceful, prosody_version):
    receiver = RealReceiver(tmp_path / "receiver").start()
    prosody = logger_prosody(tmp_path / "prosody", receiver.url, receiver.secret, version=prosody_version)
    prosody.start()
    try:
        wait_for_events(receiver, 1, timeout=10)
        receiver.stop()
        result = asyncio.run(crowd(prosody, rooms=2, per_room=5))
        log_mark = prosody.log_size()
        prosody.restart(graceful=graceful)
        line = prosody.wait_for_log("waiting in the spool", since=log_mark, timeout=10)
        waiting = int(re.search(r"(\d+) event\(s\) from before", line).group(1))
        assert waiting >= 2 * (2 + 2 * 5), line                       # the crowd's events survived
        receiver.start()

        wanted = expected_crowd_events(2, 5) + Counter({"source.started": 2})
        events = wait_for_events(receiver, sum(wanted.values()), timeout=60)
        assert Counter(e["type"] for e in events) == wanted
        check_each_occupant_once(events, result.occupants)
        assert len({e["source"]["instance"] for e in events}) == 2    # two lives of the module
    finally:
        prosody.stop()
        receiver.stop()


@pytest.mark.slow
def test_a_hanging_receiver_never_blocks_joins_and_loses_nothing(tmp_path, prosody_version):
    """The receiver takes 30 s to answer and the module gives up after 1 s: participants still
    join and leave (the clients' own 30 s timeout would fail otherwise), and once the receiver
    answers promptly again every event is there (retries may repeat ids; that is harmless)."""
    from tests.prosody.receivers import CaptureReceiver

    receiver = CaptureReceiver(delay=30).start()
    prosody = logger_prosody(tmp_path / "prosody", receiver.url, receiver.secret, timeout=1, version=prosody_version)
    prosody.start()
    try:
        result = asyncio.run(crowd(prosody, rooms=2, per_room=10))
        assert len(result.occupants) == 20
        prosody.wait_for_log("did not accept batch", timeout=10)
        receiver.delay = 0
        wanted = expected_crowd_events(2, 10) + Counter({"source.started": 1})
        events = wait_for_events(receiver, sum(wanted.values()), timeout=60)
        assert Counter(e["type"] for e in events) == wanted
        check_each_occupant_once(events, result.occupants)
        assert receiver.rejected == 0                     # every attempt was correctly signed
    finally:
        prosody.stop()
        receiver.stop()


@pytest.mark.slow
def test_a_full_spool_says_so_loudly_and_keeps_what_it_holds(tmp_path, prosody_version):
    """With the receiver down and presence_logger_max_queue = 10, the 11th event onwards is
    refused with an error that gives the counts; the 10 spooled events arrive later, intact."""
    receiver = RealReceiver(tmp_path / "receiver").start()
    receiver.stop()                                   # down from the start (source.started spools)
    prosody = logger_prosody(tmp_path / "prosody", receiver.url, receiver.secret, max_queue=10,
                             version=prosody_version)
    prosody.start()
    try:
        asyncio.run(crowd(prosody, rooms=1, per_room=10))          # 22 events, 10 fit
        line = prosody.wait_for_log("Spool is full", timeout=10)
        assert "\terror\t" in line and "10 events waiting" in line and "presence_logger_max_queue" in line
        receiver.start()
        wait_for_events(receiver, 10, timeout=60)
        time.sleep(1.5)                                              # nothing more may follow
        events = receiver.events()
        assert len(events) == 10 and events[0]["type"] == "source.started"
    finally:
        prosody.stop()
        receiver.stop()


@pytest.mark.slow
def test_a_spool_an_earlier_version_left_in_prosody_storage_is_delivered_after_the_upgrade(tmp_path, prosody_version):
    """Before the spool had files of its own it lived in Prosody's archive stores (internal
    storage). `presence_logger_storage = "internal"` still writes exactly that; the next start
    without it must move those batches into the module's files and deliver each event once."""
    receiver = RealReceiver(tmp_path / "receiver").start()
    receiver.stop()
    prosody = logger_prosody(tmp_path / "prosody", receiver.url, receiver.secret, storage="internal",
                             version=prosody_version)
    prosody.start()
    try:
        result = asyncio.run(crowd(prosody, rooms=1, per_room=5))
        prosody.stop()
        old_spool = prosody.data_path / "muc%2emeet%2ejitsi" / "presence_logger_spool"
        assert list(old_spool.glob("*.list")), "nothing was spooled in Prosody storage"

        for options in (prosody.muc_options, prosody.breakout_options):
            options.pop("presence_logger_storage")
        log_mark = prosody.log_size()
        prosody.start()
        moved = prosody.wait_for_log("an earlier version left", since=log_mark)
        assert "Moved 13 event(s)" in moved, moved                  # source.started, room, 5 joins, 5 leaves, room
        assert not list(old_spool.glob("*.list")) and list(old_spool.glob("*.jsonl"))
        receiver.start()

        wanted = expected_crowd_events(1, 5) + Counter({"source.started": 2})
        events = wait_for_events(receiver, sum(wanted.values()), timeout=60)
        assert Counter(e["type"] for e in events) == wanted
        check_each_occupant_once(events, result.occupants)
        assert scrape(receiver, "attendance_events_duplicate_total") == 0
    finally:
        prosody.stop()
        receiver.stop()
