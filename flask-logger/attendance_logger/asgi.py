"""The receiver as gunicorn serves it: an asyncio (ASGI) front for event deliveries, Flask behind.

Deliveries are many, small and arrive together (every Jitsi server flushes its queue as soon as
it can), so `POST /v1/events` is answered on the worker's event loop: verifying, validating and
preparing a delivery cost ~0.1 ms of CPU, and while it waits for its commit (writer_process.py,
one process storing for every worker) the loop reads the next ones. A thread-per-request worker
spent more CPU on its threads than the whole delivery costs.

Everything else (read API, dashboard, health, metrics) is ordinary Flask, run in a small thread
pool by a2wsgi's WSGI adapter.

The access log is written here, to standard output: client, time, method, path without the query
string (nothing a login might carry ends up there), status, bytes and seconds.
"""
from __future__ import annotations

import asyncio
import os
import sys
import time

from a2wsgi import WSGIMiddleware

from . import ingest


class AccessLog:
    """Access log lines, written together once per turn of the event loop.

    Under load one turn answers many deliveries; a write and flush per line, as a logging handler
    does, cost a third as much CPU as verifying and storing the delivery itself.
    """

    def __init__(self, stream=None):
        self.stream = stream
        self._lines: list[str] = []
        self._second = -1
        self._stamp = ""

    def add(self, client: str, method: str, path: str, status: int, size: int, seconds: float) -> None:
        now = int(time.time())
        if now != self._second:
            self._second, self._stamp = now, time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now))
        if not self._lines:
            asyncio.get_running_loop().call_soon(self.flush)
        self._lines.append(f'{client} [{self._stamp}] "{method} {path}" {status} {size} {seconds:.6f}s\n')

    def flush(self) -> None:
        lines, self._lines = self._lines, []
        stream = self.stream or sys.stdout
        try:
            stream.write("".join(lines))
            stream.flush()
        except (OSError, ValueError):  # the log's reader went away: answering matters more
            pass


class _ScopeHeaders:
    """Header lookup over an ASGI scope's (lower-cased name, value) byte pairs."""
    __slots__ = ("by_name",)

    def __init__(self, pairs):
        self.by_name = dict(pairs)  # a repeated header keeps its last value, as in a WSGI environ

    def get(self, name: str):
        value = self.by_name.get(name.lower().encode("latin-1"))
        return None if value is None else value.decode("latin-1")


class ReceiverApp:
    def __init__(self, flask_app, threads: int):
        self.flask_app = flask_app
        self.threads = threads
        self._flask: WSGIMiddleware | None = None
        self._flask_pid: int | None = None
        self.access_log = AccessLog()
        ingest.prepare(flask_app)

    @property
    def flask(self) -> WSGIMiddleware:
        # Built in each worker: its thread pool must not be inherited through gunicorn's fork.
        if self._flask_pid != os.getpid():
            self._flask = WSGIMiddleware(self.flask_app, workers=self.threads)
            self._flask_pid = os.getpid()
        return self._flask

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":  # lifespan is switched off; no websockets here
            return
        started = time.perf_counter()
        sent = {"status": 0, "bytes": 0}

        async def send_and_count(message):
            if message["type"] == "http.response.start":
                sent["status"] = message["status"]
            elif message["type"] == "http.response.body":
                sent["bytes"] += len(message.get("body", b""))
            await send(message)

        if scope["path"] == ingest.PATH and scope["method"] == "POST":
            await self._deliver(scope, receive, send_and_count, started)
        else:
            await self.flask(scope, receive, send_and_count)
        client = scope.get("client")
        self.access_log.add(client[0] if client else "-", scope["method"], scope["path"], sent["status"],
                            sent["bytes"], time.perf_counter() - started)

    async def _deliver(self, scope, receive, send, started: float) -> None:
        headers = _ScopeHeaders(scope["headers"])
        client = scope.get("client")

        async def read_body(limit: int) -> bytes:
            declared = headers.get("content-length")
            if declared and declared.isdigit() and int(declared) > limit:
                raise ingest.too_large(limit)
            chunks, size = [], 0
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    raise ingest.ClientGone()
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > limit:
                    raise ingest.too_large(limit)
                chunks.append(chunk)
                if not message.get("more_body", False):
                    return b"".join(chunks)

        try:
            status, body = await ingest.respond_async(self.flask_app, headers.get("content-type") or "", headers,
                                                      read_body, client[0] if client else None)
        except ingest.ClientGone:
            return
        # Counted before the answer leaves: a sender reading /metrics next finds its delivery there.
        ingest.REQUEST_SECONDS.observe(time.perf_counter() - started)
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})
