"""Group commit: concurrent deliveries of one process share a transaction and its disk flush.

A durable commit costs a disk flush (on a small VM ~0.25 ms of CPU and more of waiting), and
SQLite lets one writer in at a time; committing each request on its own caps ingest at the
disk's flush rate. Here one writer thread per process commits whatever deliveries are waiting,
together, in one transaction: the busier the receiver, the larger the groups and the cheaper
each delivery. Each request still gets its own answer (accepted, duplicates, or its replay
refusal), and only after the commit that holds its events.

Both kinds of caller wait for the same writer: request threads (Flask's development server,
the Flask route) block in `store`; an event loop awaits `store_async` and goes on reading other
requests while the writer flushes. Under gunicorn deliveries go to the writer process instead
(writer_process.py); a worker that cannot reach it falls back to its own GroupCommitter.
"""
from __future__ import annotations

import asyncio
import os
import threading


IDLE_SECONDS = 60.0


class _Pending:
    __slots__ = ("delivery", "loop", "waiter", "outcome")

    def __init__(self, delivery, loop, waiter):
        self.delivery = delivery  # Storage.prepare's, made by the delivering thread
        self.loop = loop  # None for a blocked thread, whose waiter is a threading.Event
        self.waiter = waiter  # else an asyncio future of that loop
        self.outcome = None


class GroupCommitter:
    def __init__(self, storage, max_group: int = 64):
        self.storage = storage
        self.max_group = max_group
        self._wake = threading.Condition()
        self._queue: list[_Pending] = []
        self._writer_pid: int | None = None
        self._closed = False

    def store(self, batch: list[dict], webhook_id: str) -> tuple[int, int]:
        """Like Storage.store, sharing the commit with concurrent callers (blocks until it is done)."""
        pending = _Pending(self.storage.prepare(batch, webhook_id), None, threading.Event())
        self._enqueue(pending)
        pending.waiter.wait()
        return _result(pending.outcome)

    async def store_async(self, batch: list[dict], webhook_id: str) -> tuple[int, int]:
        """`store` for the event loop: awaits the commit without blocking the loop."""
        return await self.store_prepared(self.storage.prepare(batch, webhook_id))

    async def store_prepared(self, delivery) -> tuple[int, int]:
        """`store_async` of a delivery already prepared (Storage.prepare)."""
        loop = asyncio.get_running_loop()
        pending = _Pending(delivery, loop, loop.create_future())
        self._enqueue(pending)
        await pending.waiter
        return _result(pending.outcome)

    def close(self) -> None:
        """Stop the writer thread once it has committed what waits (an app that is thrown away,
        as in tests)."""
        with self._wake:
            self._closed = True
            self._wake.notify()

    def _enqueue(self, pending: _Pending) -> None:
        with self._wake:
            if self._closed:
                raise RuntimeError("this GroupCommitter is closed")
            # gunicorn forks workers from a master that may have built this object: each process
            # needs its own writer thread.
            if self._writer_pid != os.getpid():
                self._queue = []
                threading.Thread(target=self._write_while_busy, name="attendance-writer", daemon=True).start()
                self._writer_pid = os.getpid()
            self._queue.append(pending)
            self._wake.notify()

    def _write_while_busy(self) -> None:
        while True:
            with self._wake:
                if not self._queue and not self._closed:
                    self._wake.wait(IDLE_SECONDS)
                if not self._queue:
                    # Closed, or idle for long: end, so that a thrown-away app (and its database
                    # connections) can be collected. The next delivery starts a writer again.
                    self._writer_pid = None
                    return
                group, self._queue = self._queue[:self.max_group], self._queue[self.max_group:]
            try:
                outcomes = self.storage.store_many([p.delivery for p in group])
            except BaseException as exc:  # the whole group failed: every request hears why
                outcomes = [exc] * len(group)
            waiting_loops: dict = {}
            for pending, outcome in zip(group, outcomes):
                pending.outcome = outcome
                if pending.loop is None:
                    pending.waiter.set()
                else:
                    waiting_loops.setdefault(pending.loop, []).append(pending.waiter)
            for loop, futures in waiting_loops.items():  # one wake-up per loop, not per request
                try:
                    loop.call_soon_threadsafe(_wake_all, futures)
                except RuntimeError:  # that loop was closed (worker shutting down): nobody waits
                    pass


def _wake_all(futures: list) -> None:
    for future in futures:
        if not future.done():  # the request may have been cancelled (client gone)
            future.set_result(None)


def _result(outcome) -> tuple[int, int]:
    if isinstance(outcome, BaseException):
        raise outcome
    return outcome
