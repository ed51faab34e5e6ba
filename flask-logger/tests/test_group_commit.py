"""Concurrent deliveries sharing one commit still get their own, exact answers."""
from __future__ import annotations

import threading
import uuid

import pytest

from attendance_logger.group_commit import GroupCommitter
from attendance_logger.storage import ReplayError
from tests.support import contract


def event(event_id: str) -> dict:
    return dict(contract.invalid_events()["valid_base"], id=event_id)


def test_concurrent_requests_get_exact_counts_and_replays_fail_alone(app):
    storage = app.extensions["storage"]
    group_sizes = []

    class CountingStorage:
        def store_many(self, requests):
            group_sizes.append(len(requests))
            return storage.store_many(requests)

    committer = GroupCommitter(CountingStorage())
    shared = [str(uuid.uuid4()) for _ in range(5)]  # every request also carries these
    requests = [([event(str(uuid.uuid4())) for _ in range(3)] + [event(i) for i in shared], f"hook-{n}")
                for n in range(16)]
    requests.append(([event(str(uuid.uuid4()))], "hook-3"))  # a replay of request 3's webhook-id
    answers: dict[int, object] = {}
    start = threading.Barrier(len(requests))

    def deliver(n, batch, webhook_id):
        start.wait()
        try:
            answers[n] = committer.store(batch, webhook_id)
        except ReplayError as refusal:
            answers[n] = refusal

    threads = [threading.Thread(target=deliver, args=(n, *r)) for n, r in enumerate(requests)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sum(group_sizes) == len(requests) and max(group_sizes) > 1  # commits were shared
    refused = [n for n, a in answers.items() if isinstance(a, ReplayError)]
    assert len(refused) == 1 and refused[0] in (3, 16)  # whichever of the two came second
    counted = [a for a in answers.values() if not isinstance(a, ReplayError)]
    assert len(counted) == 16
    assert sum(accepted for accepted, _ in counted) == storage.counts()["events"]
    # The refused request stored nothing; the shared ids were accepted once, by one request.
    carrying_shared = 16 if refused[0] == 16 else 15
    unique = 3 * carrying_shared + (1 if refused[0] == 3 else 0)
    assert storage.counts()["events"] == unique + 5
    assert sum(duplicates for _, duplicates in counted) == (carrying_shared - 1) * 5


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_failed_group_commit_fails_every_request_in_it(app):
    class BrokenStorage:
        def store_many(self, requests):
            raise RuntimeError("disk full")

    committer = GroupCommitter(BrokenStorage())
    with pytest.raises(RuntimeError, match="disk full"):
        committer.store([event(str(uuid.uuid4()))], "hook")
    assert committer._leading is False  # the next request leads again


def test_sqlite_writers_queue_on_a_lock_file_next_to_the_database(tmp_path):
    """Writers of every process wait in flock for the one writing (instead of SQLite's sleeping
    busy handler); the lock is a file beside the database, and only file databases have one."""
    import fcntl
    import os

    from attendance_logger.storage import Storage, _sqlite_writer_lock_path

    assert _sqlite_writer_lock_path("sqlite://") is None
    assert _sqlite_writer_lock_path("sqlite:///:memory:") is None
    assert _sqlite_writer_lock_path("postgresql+psycopg://u@h/db") is None
    storage = Storage(f"sqlite:///{tmp_path / 'a.db'}")
    storage.upgrade()
    lock_path = str(tmp_path / "a.db") + "-writer.lock"
    assert _sqlite_writer_lock_path(storage.url) == lock_path
    with storage.write():
        pass
    assert oct(os.stat(lock_path).st_mode & 0o777) == "0o600"
    holder = os.open(lock_path, os.O_RDWR)  # another process's writer, in effect
    fcntl.flock(holder, fcntl.LOCK_EX)
    entered = threading.Event()

    def write():
        with storage.write():
            entered.set()

    writer = threading.Thread(target=write)
    writer.start()
    try:
        assert not entered.wait(0.5)  # waits while the lock is held
    finally:
        os.close(holder)
    assert entered.wait(10)  # and writes once it is released
    writer.join()


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_leader_is_answered_after_its_own_group_not_after_later_ones(app):
    """The leader hands the lead on after one commit, so its answer does not wait for requests
    that arrived while it was committing."""
    release_second = threading.Event()
    committer = None

    class SlowStorage:
        calls = 0

        def store_many(self, requests):
            SlowStorage.calls += 1
            if SlowStorage.calls == 1:
                second.start()  # arrives while the first group commits
                while not committer._queue:
                    threading.Event().wait(0.01)
            else:
                release_second.wait(30)
            return [(len(batch), 0) for batch, _ in requests]

    committer = GroupCommitter(SlowStorage())
    answers = {}
    second = threading.Thread(target=lambda: answers.setdefault("second", committer.store([event("b")], "hook-b")))
    first = threading.Thread(target=lambda: answers.setdefault("first", committer.store([event("a")], "hook-a")))
    first.start()
    first.join(timeout=10)
    try:
        assert answers.get("first") == (1, 0) and "second" not in answers
    finally:
        release_second.set()
        second.join(timeout=10)
    assert answers["second"] == (1, 0) and committer._leading is False
