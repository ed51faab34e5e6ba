"""Connection limits of `attendance-logger serve` (gunicorn), met with real sockets.

Nothing is authenticated before a request is read, so what a client can hold without sending
one must be bounded: idle connections and bodies that stop arriving are closed, oversized
headers are refused, and a crowd of idle sockets cannot keep a plugin's delivery out.
"""
from __future__ import annotations

import datetime as dt
import http.client
import json
import resource
import socket
import time

import pytest

from logger_helpers import RunningServer, signed_headers, wait_until
from tests.support import vectors

pytestmark = pytest.mark.slow  # the receiver under gunicorn

# What serve is started with here, small so the tests run quickly (README: "Connections").
IDLE_SECONDS = 2
REQUEST_SECONDS = 3
MAX_CONNECTIONS = 50


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    running = RunningServer("gunicorn-default", tmp_path_factory.mktemp("connections"),
                            ATTENDANCE_IDLE_TIMEOUT_SECONDS=str(IDLE_SECONDS),
                            ATTENDANCE_REQUEST_TIMEOUT_SECONDS=str(REQUEST_SECONDS),
                            ATTENDANCE_MAX_CONNECTIONS=str(MAX_CONNECTIONS))
    yield running
    running.stop()


def connect(server) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.port), timeout=30)


def closed_by_server_within(sock: socket.socket, seconds: float) -> float | None:
    """Seconds until the server closed `sock` (EOF or reset), None if it stayed open."""
    began = time.monotonic()
    sock.settimeout(seconds)
    try:
        while True:
            data = sock.recv(65536)
            if not data:
                return time.monotonic() - began
    except (ConnectionResetError, BrokenPipeError):
        return time.monotonic() - began
    except TimeoutError:
        return None


def delivery() -> tuple[bytes, dict]:
    event = vectors.load(vectors.VECTORS_DIR / "01-basic-lesson.json").materialize(dt.datetime.now(dt.timezone.utc))[0]
    body = json.dumps(event)
    return body.encode(), signed_headers(body)


def raw_post(body: bytes, headers: dict) -> bytes:
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    return (f"POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n{head}\r\n").encode() + body


def test_an_idle_connection_is_closed(server):
    with connect(server) as sock:
        assert closed_by_server_within(sock, IDLE_SECONDS + 5) is not None


def test_an_idle_keep_alive_connection_is_closed(server):
    body, headers = delivery()
    with connect(server) as sock:
        sock.sendall(raw_post(body, headers))
        sock.settimeout(10)
        assert sock.recv(65536).startswith(b"HTTP/1.1 200")
        assert closed_by_server_within(sock, IDLE_SECONDS + 5) is not None


def test_a_kept_alive_connection_takes_the_next_delivery(server):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        ports = set()
        for _ in range(3):
            body, headers = delivery()
            conn.request("POST", "/v1/events", body, headers)
            answer = conn.getresponse()
            assert answer.status == 200, answer.read()
            answer.read()
            ports.add(conn.sock.getsockname()[1])
        assert len(ports) == 1  # all on one connection
    finally:
        conn.close()


def test_connections_their_clients_close_are_released(server):
    """Clients that open a connection per delivery close it after the answer; the worker must
    count it closed, or it stops accepting at the connection limit."""
    for _ in range(3 * MAX_CONNECTIONS):
        with connect(server) as sock:
            sock.settimeout(10)
            sock.sendall(raw_post(*delivery()))
            assert sock.recv(65536).startswith(b"HTTP/1.1 200")
    assert "connection limit" not in server.logs()


@pytest.mark.parametrize("sent", ["half the headers", "headers and half the body", "a byte a second"])
def test_a_request_that_stops_arriving_is_closed(server, sent):
    body, headers = delivery()
    request = raw_post(body, headers)
    with connect(server) as sock:
        if sent == "a byte a second":  # never idle long, never done
            began = time.monotonic()
            try:
                for byte in request:
                    sock.send(bytes([byte]))
                    time.sleep(1)
                    if time.monotonic() - began > REQUEST_SECONDS + 10:
                        break
            except (BrokenPipeError, ConnectionResetError):
                pass
            assert time.monotonic() - began < REQUEST_SECONDS + 10
            return
        cut = request.index(b"\r\n\r\n") // 2 if sent == "half the headers" else len(request) - len(body) // 2
        sock.sendall(request[:cut])
        took = closed_by_server_within(sock, REQUEST_SECONDS + 5)
        assert took is not None and took <= REQUEST_SECONDS + 2


@pytest.mark.parametrize("headers", [{"X-Big": "a" * 20_000}, {f"X-Many-{n}": "a" for n in range(5_000)}],
                         ids=["one huge header", "5000 headers"])
def test_oversized_headers_are_refused(server, headers):
    body, signed = delivery()
    with connect(server) as sock:
        try:
            sock.sendall(raw_post(body, {**signed, **headers}))
        except (BrokenPipeError, ConnectionResetError):
            return  # refused before it was all sent
        sock.settimeout(10)
        answer = sock.recv(65536)
    assert answer.split(b" ", 2)[1] in (b"400", b"431"), answer[:200]


def test_a_crowd_of_idle_sockets_does_not_keep_a_delivery_out(server):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 2 * MAX_CONNECTIONS + 100:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 4096), hard))
    crowd = [connect(server) for _ in range(2 * MAX_CONNECTIONS)]
    try:
        time.sleep(0.5)
        body, headers = delivery()
        began = time.monotonic()
        with connect(server) as sock:
            sock.sendall(raw_post(body, headers))
            sock.settimeout(IDLE_SECONDS * 3 + 10)
            answer = sock.recv(65536)
        assert answer.startswith(b"HTTP/1.1 200"), answer[:200]
        assert time.monotonic() - began < IDLE_SECONDS * 3 + 5
    finally:
        for sock in crowd:
            sock.close()
    assert wait_until(lambda: "connection limit" in server.logs(), timeout=5), server.logs()[-2000:]
