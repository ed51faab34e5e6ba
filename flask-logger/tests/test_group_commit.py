"""Concurrent deliveries sharing one commit still get their own, exact answers."""
from __future__ import annotations

import asyncio
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
        prepare = storage.prepare

        def store_many(self, deliveries):
            group_sizes.append(len(deliveries))
            return storage.store_many(deliveries)

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
def test_a_failed_group_commit_fails_every_request_in_it_and_the_writer_goes_on(app):
    storage = app.extensions["storage"]

    class OnceBrokenStorage:
        prepare = storage.prepare
        broken = True

        def store_many(self, deliveries):
            if OnceBrokenStorage.broken:
                OnceBrokenStorage.broken = False
                raise RuntimeError("disk full")
            return storage.store_many(deliveries)

    committer = GroupCommitter(OnceBrokenStorage())
    with pytest.raises(RuntimeError, match="disk full"):
        committer.store([event(str(uuid.uuid4()))], "hook")
    assert committer.store([event(str(uuid.uuid4()))], "hook") == (1, 0)  # same webhook-id: nothing was kept


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


class GatedStorage:
    """Stores nothing; each commit waits until the test opens its gate."""

    def __init__(self):
        self.groups: list[list[str]] = []
        self.gates: list[threading.Event] = []
        self.started = threading.Semaphore(0)

    def prepare(self, batch, webhook_id):
        return (batch, webhook_id)

    def store_many(self, deliveries):
        gate = threading.Event()
        self.groups.append([webhook_id for _, webhook_id in deliveries])
        self.gates.append(gate)
        self.started.release()
        assert gate.wait(30)
        return [(len(batch), 0) for batch, _ in deliveries]


def test_requests_arriving_during_a_commit_share_the_next_one_and_wait_for_it():
    storage = GatedStorage()
    committer = GroupCommitter(storage)
    answers = {}

    def deliver(name):
        answers[name] = committer.store([event(name)], name)

    first = threading.Thread(target=deliver, args=("a",))
    first.start()
    assert storage.started.acquire(timeout=10)  # "a" is being committed
    later = [threading.Thread(target=deliver, args=(name,)) for name in ("b", "c")]
    for t in later:
        t.start()
    while len(committer._queue) < 2:  # both wait for the writer
        threading.Event().wait(0.005)
    storage.gates[0].set()
    first.join(timeout=10)
    assert answers == {"a": (1, 0)}  # answered after its own commit, not after later ones
    assert storage.started.acquire(timeout=10)
    assert sorted(storage.groups[1]) == ["b", "c"]  # one commit for both
    assert "b" not in answers and "c" not in answers  # nobody is answered before the commit holding it
    storage.gates[1].set()
    for t in later:
        t.join(timeout=10)
    assert answers == {"a": (1, 0), "b": (1, 0), "c": (1, 0)}


def test_the_event_loop_keeps_serving_while_the_writer_commits():
    storage = GatedStorage()
    committer = GroupCommitter(storage)

    async def scenario():
        delivery = asyncio.ensure_future(committer.store_async([event("a")], "a"))
        await asyncio.get_running_loop().run_in_executor(None, storage.started.acquire)
        ticks = 0
        for _ in range(5):  # the loop runs other work while the commit is held open
            await asyncio.sleep(0)
            ticks += 1
        assert not delivery.done() and ticks == 5
        storage.gates[0].set()
        return await asyncio.wait_for(delivery, 10)

    assert asyncio.run(scenario()) == (1, 0)


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_async_deliveries_get_exact_counts(app):
    storage = app.extensions["storage"]
    committer = GroupCommitter(storage)
    shared = str(uuid.uuid4())

    async def scenario():
        return await asyncio.gather(*[committer.store_async([event(str(uuid.uuid4())), event(shared)], f"hook-{n}")
                                      for n in range(20)])

    answers = asyncio.run(scenario())
    assert sorted(answers) == [(1, 1)] * 19 + [(2, 0)]
    assert storage.counts()["events"] == 21


def test_a_closed_event_loop_does_not_stop_the_writer():
    """A worker shutting down may close its loop while a commit is under way; the writer goes on."""
    storage = GatedStorage()
    committer = GroupCommitter(storage)

    async def give_up_waiting():
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(committer.store_async([event("a")], "a"), 0.2)

    asyncio.run(give_up_waiting())  # the loop is closed now; its delivery is still being committed
    storage.gates[0].set()
    answer = {}
    later = threading.Thread(target=lambda: answer.setdefault("b", committer.store([event("b")], "b")), daemon=True)
    later.start()
    assert storage.started.acquire(timeout=10) and storage.started.acquire(timeout=10)
    storage.gates[1].set()
    later.join(timeout=10)
    assert answer == {"b": (1, 0)}


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_an_idle_writer_ends_and_the_next_delivery_starts_one(app, monkeypatch):
    """So that an app thrown away (tests, tools) does not keep a thread and a database connection."""
    import attendance_logger.group_commit as group_commit

    monkeypatch.setattr(group_commit, "IDLE_SECONDS", 0.1)
    committer = GroupCommitter(app.extensions["storage"])
    writers = lambda: {t for t in threading.enumerate() if t.name == "attendance-writer"}  # noqa: E731
    before = writers()
    assert committer.store([event(str(uuid.uuid4()))], "hook-1") == (1, 0)
    mine, = writers() - before
    mine.join(timeout=10)
    assert not mine.is_alive()
    assert committer.store([event(str(uuid.uuid4()))], "hook-2") == (1, 0)
