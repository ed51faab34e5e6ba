"""Serving the receiver: gunicorn's threaded workers in production, Flask's server with --dev.

`attendance-logger serve` builds (and migrates) the app once, in gunicorn's master, which then
forks its workers; each answers requests on a pool of threads (gthread).

Nothing is authenticated before a request has been read, so what a client may hold without
sending one is bounded (README, "Connections"):

- at most `max_connections` connections per worker; past that gunicorn stops accepting until
  some close (new ones wait in the kernel's queue), and the worker logs it;
- a connection that sends nothing, or nothing more after a request, is closed after
  `idle_seconds` (gunicorn's keepalive), and waits in the worker's poller, not in a thread, so
  idle sockets never keep a delivery from the threads;
- a request's line, headers and body must all arrive within `request_seconds` of its first
  byte (gunicorn bounds only each wait for data, not a client sending a byte at a time);
- request line, header count and header size are gunicorn's limits (4094 bytes, 50 fields,
  8190 bytes each): more is a 400.
"""
from __future__ import annotations

import errno
import functools
import logging
import selectors
import socket
import time

from gunicorn import glogging
from gunicorn.app.base import BaseApplication
from gunicorn.workers.gthread import TConn, ThreadWorker

log = logging.getLogger("attendance_logger.server")

# client, time, "method path" (no query string: nothing a login may carry), status, bytes, seconds
ACCESS_LOG_FORMAT = '%(h)s %(t)s "%(m)s %(U)s" %(s)s %(B)s %(L)ss'
LIMIT_REQUEST_FIELDS = 50
CONNECTION_LIMIT_LOG_SECONDS = 60


class _RequestDeadline:
    """A connection's socket whose reads end at a deadline, set when a request begins. Past it a
    read finds the connection closed, as if the client had gone (the app answers a cut body with
    a 400), and the worker closes it (`expired`)."""

    def __init__(self, sock, request_seconds: float):
        self._sock = sock
        self._request_seconds = request_seconds
        self.deadline: float | None = None
        self.expired = False

    def start_request(self) -> None:
        self.deadline = time.monotonic() + self._request_seconds

    def recv(self, size: int, *flags) -> bytes:
        if self.deadline is None:
            return self._sock.recv(size, *flags)
        left = self.deadline - time.monotonic()
        if left > 0:
            self._sock.settimeout(left)
            try:
                return self._sock.recv(size, *flags)
            except TimeoutError:
                pass
        self.expired = True
        return b""

    def closed_by_client(self) -> bool:
        """Whether the client has closed the connection (peeks without waiting: the socket is
        non-blocking while it waits in the poller)."""
        try:
            return self._sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
        except BlockingIOError:
            return False
        except OSError:  # reset by the client
            return True

    def sendall(self, data, *flags):
        self._sock.settimeout(self._request_seconds)  # a client that stops reading is let go too
        return self._sock.sendall(data, *flags)

    def __getattr__(self, name):
        return getattr(self._sock, name)


class ReceiverWorker(ThreadWorker):
    """gunicorn's gthread worker with the bounds above."""

    request_seconds = 10.0  # run_gunicorn sets it before the workers fork
    _limit_logged_at = 0.0

    def accept(self, listener):
        # As ThreadWorker.accept, except that a new connection waits in the poller until it sends
        # something (ThreadWorker gives it a thread to wait in, for up to 5 s).
        try:
            client, address = listener.accept()
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                log.warning("could not accept a connection: %s", exc.strerror)
            return
        self.nr_conns += 1
        conn = TConn(self.cfg, _RequestDeadline(client, self.request_seconds), address, listener.getsockname())
        try:
            client.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT)  # the request is there already, as it usually is
        except OSError:
            pass
        else:
            conn.data_ready = True
            self.enqueue_req(conn)
            return
        conn.timeout = time.monotonic() + self.cfg.keepalive
        self.pending_conns.append(conn)
        self.poller.register(conn.sock, selectors.EVENT_READ,
                             functools.partial(self.on_pending_socket_readable, conn))

    def on_client_socket_readable(self, conn, client):
        # A kept-alive connection also turns readable when its client closes it, as clients that
        # open a connection per delivery do right after the answer: close it here rather than
        # hand it to a thread to find the end of the stream (~100 us per delivery, measured).
        if isinstance(client, _RequestDeadline) and client.closed_by_client():
            self.poller.unregister(client)
            self.keepalived_conns.remove(conn)
            self.nr_conns -= 1
            conn.close()
            return
        super().on_client_socket_readable(conn, client)

    def handle(self, conn):
        if not isinstance(conn.sock, _RequestDeadline):
            return super().handle(conn)
        conn.sock.start_request()
        keep_alive = super().handle(conn)
        return False if conn.sock.expired else keep_alive

    def set_accept_enabled(self, enabled):
        if not enabled and self.alive and self.nr_conns >= self.worker_connections:
            now = time.monotonic()
            if now - self._limit_logged_at > CONNECTION_LIMIT_LOG_SECONDS:
                self._limit_logged_at = now
                log.warning("connection limit reached (%d open connections): new ones wait until idle ones "
                            "are closed (ATTENDANCE_MAX_CONNECTIONS)", self.nr_conns)
        super().set_accept_enabled(enabled)


class AccessLogger(glogging.Logger):
    """gunicorn's logger; an access line's fields are built from what ACCESS_LOG_FORMAT shows
    (gunicorn's own copies every header and environ entry into each line's dictionary)."""

    def atoms(self, resp, req, environ, request_time):
        status = resp.status.split(None, 1)[0] if isinstance(resp.status, str) else resp.status
        return {"h": environ.get("REMOTE_ADDR", "-"), "t": self.now(), "m": environ.get("REQUEST_METHOD"),
                "U": environ.get("PATH_INFO"), "s": status, "B": getattr(resp, "sent", None),
                "L": "%d.%06d" % (request_time.seconds, request_time.microseconds)}


class _Server(BaseApplication):
    def __init__(self, app, options: dict):
        self.application = app
        self.options = options
        super().__init__()

    def load_config(self):
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        return self.application


def _child_exit(_server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def run_gunicorn(app, *, host: str, port: int, workers: int, threads: int, idle_seconds: int,
                 request_seconds: int, max_connections: int) -> None:
    ReceiverWorker.request_seconds = request_seconds
    _Server(app, {
        "bind": f"[{host}]:{port}" if ":" in host else f"{host}:{port}",
        "workers": workers,
        "worker_class": f"{__name__}.ReceiverWorker",
        "threads": threads,
        "worker_connections": max_connections,
        "keepalive": idle_seconds,
        "limit_request_line": 4094,
        "limit_request_fields": LIMIT_REQUEST_FIELDS,
        "limit_request_field_size": 8190,
        "preload_app": True,  # migrations ran once, in the master, before workers fork
        "child_exit": _child_exit,
        "timeout": 60,
        "accesslog": "-",
        "access_log_format": ACCESS_LOG_FORMAT,
        "logger_class": f"{__name__}.AccessLogger",
    }).run()


def run_dev(app, *, host: str, port: int) -> None:
    """Flask's development server, with access log lines that leave out query strings."""
    from werkzeug.serving import WSGIRequestHandler

    class _Handler(WSGIRequestHandler):
        def log_request(self, code="-", size="-"):
            path = self.path.split("?", 1)[0]
            self.log("info", '"%s %s" %s %s', self.command, path, code, size)

    app.run(host=host, port=port, threaded=True, use_reloader=False, request_handler=_Handler)
