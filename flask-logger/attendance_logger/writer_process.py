"""One writer process for all of gunicorn's workers: they send it prepared deliveries, it
group-commits them (group_commit.py) and answers each.

Storing in each worker cost more than the delivery's HTTP, checks and parsing together: the
writer thread and the event loop of a worker share one GIL, and SQLite's lock passed between
workers empties their page caches. Here the workers' event loops only verify, validate and
prepare, on one core, while this process writes on another; it is SQLite's single writer
whatever the number of workers.

Frames on the Unix socket are a 4-byte big-endian length and a pickle: (request number,
Storage.Delivery) to the writer, (request number, outcome) back. Both ends are this program,
started by `serve`; the socket lives in a directory only its user can enter.

The writer lives as long as anyone holds the write end of `alive` (the master and every worker
inherit it): when the last of them exits, it commits what it was given and ends. A worker that
cannot reach it stores through its own writer thread (WriterClient's fallback): slower, as safe.
"""
from __future__ import annotations

import asyncio
import itertools
import logging
import os
import pickle
import signal
import struct
import time

from sqlalchemy.exc import DBAPIError

from .storage import ReplayError, database_error_name

log = logging.getLogger("attendance_logger.writer")
RETRY_SECONDS = 5
_LENGTH = struct.Struct(">I")


class StoreUnavailable(Exception):
    """The delivery could not be stored now (database error, or the writer process is gone)."""


def _frame(payload) -> bytes:
    data = pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL)
    return _LENGTH.pack(len(data)) + data


async def _read_frame(reader: asyncio.StreamReader):
    size, = _LENGTH.unpack(await reader.readexactly(_LENGTH.size))
    return pickle.loads(await reader.readexactly(size))


# -- the writer process ------------------------------------------------------------------------
def run(storage_factory, socket_path: str, alive_fd: int, others: tuple[int, ...] = ()) -> None:
    """Entry point of the writer process (forked by `serve` before gunicorn starts)."""
    for fd in others:  # the write end of `alive`: held here, the pipe would never report EOF
        os.close(fd)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # ends with the last worker, after its commits
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _name_process(PROCESS_NAME)
    asyncio.run(_serve(_Writer(storage_factory()), socket_path, alive_fd))


PROCESS_NAME = "receiver-writer"  # at most 15 characters (the kernel keeps no more)


def _name_process(name: str) -> None:
    """The name `ps -o comm`, top and /proc/<pid>/comm show (Linux; elsewhere nothing happens)."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(15, name.encode(), 0, 0, 0)  # PR_SET_NAME
    except (OSError, AttributeError):
        pass


class _Writer:
    """Group commit on one thread: the loop reads every delivery that arrived while the last
    commit was flushing, then commits them together (no second thread to share the GIL with)."""

    def __init__(self, storage, max_group: int = 64):
        self.storage = storage
        self.max_group = max_group
        self._pending: list[tuple[int, object, asyncio.StreamWriter]] = []

    def add(self, number: int, delivery, reply_to: asyncio.StreamWriter) -> None:
        if not self._pending:
            asyncio.get_running_loop().call_soon(self.commit)
        self._pending.append((number, delivery, reply_to))

    def commit(self) -> None:
        pending, self._pending = self._pending, []
        for start in range(0, len(pending), self.max_group):
            group = pending[start:start + self.max_group]
            try:
                outcomes = self.storage.store_many([delivery for _, delivery, _ in group])
            except DBAPIError as exc:
                outcomes = [("unavailable", database_error_name(exc))] * len(group)
            except Exception as exc:  # noqa: BLE001 - the worker answers 500 and logs the type
                log.error("could not store deliveries", exc_info=exc)
                outcomes = [("failed", type(exc).__name__)] * len(group)
            for (number, _, reply_to), outcome in zip(group, outcomes):
                if isinstance(outcome, ReplayError):
                    outcome = ("replayed",)
                if not reply_to.is_closing():
                    reply_to.write(_frame((number, outcome)))


async def _serve(writer: _Writer, socket_path: str, alive_fd: int) -> None:
    loop = asyncio.get_running_loop()
    everyone_gone = loop.create_future()
    loop.add_reader(alive_fd, lambda: everyone_gone.done() or everyone_gone.set_result(None))
    server = await asyncio.start_unix_server(lambda r, w: _connection(writer, r, w), path=socket_path)
    os.chmod(socket_path, 0o600)
    async with server:
        await everyone_gone
    await asyncio.sleep(0)  # deliveries read last are committed by the commit already scheduled


async def _connection(writer: _Writer, reader: asyncio.StreamReader, reply_to: asyncio.StreamWriter) -> None:
    try:
        while True:
            number, delivery = await _read_frame(reader)
            writer.add(number, delivery, reply_to)
    except (asyncio.IncompleteReadError, ConnectionError):
        pass  # the worker is gone; what it sent is still committed


# -- in each worker ----------------------------------------------------------------------------
class WriterClient:
    """The committer of a worker under `serve`: deliveries go to the writer process."""

    def __init__(self, socket_path: str, storage, fallback):
        self.socket_path = socket_path
        self.storage = storage
        self.fallback = fallback  # this worker's own GroupCommitter
        self._numbers = itertools.count()
        self._waiting: dict[int, asyncio.Future] = {}
        self._connection: asyncio.StreamWriter | None = None
        self._connecting: asyncio.Lock | None = None
        self._pid = None
        self._retry_at = 0.0

    def store(self, batch: list[dict], webhook_id: str) -> tuple[int, int]:
        return self.fallback.store(batch, webhook_id)  # a request thread, not the event loop

    def close(self) -> None:
        self.fallback.close()

    async def store_async(self, batch: list[dict], webhook_id: str) -> tuple[int, int]:
        delivery = self.storage.prepare(batch, webhook_id)
        connection = await self._connect()
        if connection is None:
            return await self.fallback.store_prepared(delivery)
        number = next(self._numbers)
        answer = self._waiting[number] = asyncio.get_running_loop().create_future()
        connection.write(_frame((number, delivery)))
        outcome = await answer
        if isinstance(outcome, tuple) and outcome and isinstance(outcome[0], str):
            if outcome[0] == "replayed":
                raise ReplayError(webhook_id)
            if outcome[0] == "unavailable":
                raise StoreUnavailable(outcome[1])
            raise RuntimeError(f"the writer process could not store the delivery ({outcome[1]})")
        return outcome

    async def _connect(self) -> asyncio.StreamWriter | None:
        if self._pid != os.getpid():  # state built in gunicorn's master is not this worker's
            self._pid, self._connection, self._connecting, self._waiting = os.getpid(), None, asyncio.Lock(), {}
        if self._connection is not None:
            return self._connection
        if time.monotonic() < self._retry_at:  # tried a moment ago: not again for every delivery
            return None
        async with self._connecting:
            if self._connection is None:
                try:
                    reader, self._connection = await asyncio.open_unix_connection(self.socket_path)
                except OSError as exc:
                    self._retry_at = time.monotonic() + RETRY_SECONDS
                    log.error("writer process unreachable (%s): this worker stores deliveries itself "
                              "and tries again in %d s", type(exc).__name__, RETRY_SECONDS)
                    return None
                asyncio.create_task(self._read_answers(reader, self._connection))
        return self._connection

    async def _read_answers(self, reader: asyncio.StreamReader, connection: asyncio.StreamWriter) -> None:
        try:
            while True:
                number, outcome = await _read_frame(reader)
                answer = self._waiting.pop(number, None)
                if answer is not None and not answer.done():
                    answer.set_result(outcome)
        except (asyncio.IncompleteReadError, ConnectionError):
            log.error("writer process gone: deliveries waiting for it are answered 503")
        if self._connection is connection:
            self._connection = None
        waiting, self._waiting = self._waiting, {}
        for answer in waiting.values():
            if not answer.done():
                answer.set_exception(StoreUnavailable("writer process gone"))
