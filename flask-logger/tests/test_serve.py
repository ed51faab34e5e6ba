"""`attendance-logger serve` as a real process (gunicorn and --dev), as the Prosody tests and benchmarks use it."""
from __future__ import annotations

import base64
import datetime as dt
import json
import os
import re
import subprocess
import time

import pytest

from logger_helpers import (ADMIN_PASSWORD, CLI, WEBHOOK_SECRET, RunningServer, basic_auth, free_port, http,
                            server_env, wait_until)
from tests.support import vectors

@pytest.fixture(params=["gunicorn", "dev"])
def server(request, tmp_path):
    running = RunningServer(request.param, tmp_path)
    yield running
    running.stop()


@pytest.mark.slow
def test_serve_ingests_and_answers_reads(server):
    vector = vectors.load(vectors.VECTORS_DIR / "01-basic-lesson.json")
    events = vector.materialize(dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=3))
    status, body = server.post_events({"events": events})
    assert status == 200, body
    assert json.loads(body) == {"accepted": len(events), "duplicates": 0}
    status, body = http(server.url + "/v1/meetings", headers=basic_auth())
    assert status == 200
    listed = json.loads(body)["meetings"]
    assert [m["room"] for m in listed] == ["maths-3b"]
    assert http(server.url + "/v1/meetings")[0] == 401
    assert http(server.url + "/v1/meetings", headers=basic_auth("wrong"))[0] == 401
    assert json.loads(http(server.url + "/healthz")[1])["database"] == "ok"


def test_gunicorn_on_postgresql(postgres, tmp_path):
    """Workers forked after the master migrated the database each open their own connections."""
    server = RunningServer("gunicorn", tmp_path, ATTENDANCE_DATABASE_URL=postgres.new_database())
    try:
        vector = vectors.load(vectors.VECTORS_DIR / "15-two-rooms.json")
        events = vector.materialize(dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=3))
        for start in range(0, len(events), 3):  # several requests, spread over both workers
            status, body = server.post_events({"events": events[start:start + 3]})
            assert status == 200, body
        for _ in range(4):
            status, body = http(server.url + "/v1/meetings", headers=basic_auth())
            assert status == 200
            assert sorted(m["room"] for m in json.loads(body)["meetings"]) == ["maths-3b", "physics-3b"]
    finally:
        server.stop()
    assert "Traceback" not in server.logs()


@pytest.mark.slow
def test_serve_runs_one_worker_unless_told(tmp_path):
    """One worker's threads take every delivery of a school with room to spare (README, "Sizing")."""
    for env, expected in (({}, 1), ({"ATTENDANCE_WORKERS": "3"}, 3)):
        server = RunningServer("gunicorn-default", tmp_path, **env)
        try:
            wait_until(lambda server=server, expected=expected: server.worker_count() == expected)  # healthz answers once the first is up
            time.sleep(0.5)
            assert server.worker_count() == expected
            event = vectors.load(vectors.VECTORS_DIR / "01-basic-lesson.json").materialize(dt.datetime.now(dt.timezone.utc))[0]
            assert server.post_events(event)[0] == 200
        finally:
            server.stop()


@pytest.mark.slow
def test_access_log_has_one_line_per_request_without_query_strings(server):
    event = vectors.load(vectors.VECTORS_DIR / "01-basic-lesson.json").materialize(dt.datetime.now(dt.timezone.utc))[0]
    server.post_events(event)
    http(server.url + "/v1/meetings?course=secret-looking-value", headers=basic_auth())
    wait_until(lambda: re.search(r'"GET /v1/meetings" 200', server.logs()))  # written just after the answer
    logs = server.logs()
    assert re.search(r'"POST /v1/events" 200 (\d+|-)', logs), logs
    assert re.search(r'"GET /v1/meetings" 200 (\d+|-)', logs), logs
    assert "secret-looking-value" not in logs


@pytest.mark.slow
def test_metrics_count_accepted_rejected_duplicates_and_latency(server):
    event = vectors.load(vectors.VECTORS_DIR / "01-basic-lesson.json").materialize(dt.datetime.now(dt.timezone.utc))[0]
    for _ in range(3):  # several requests, so that with two workers both are likely to count
        server.post_events(event)
    server.post_events(event, secret="whsec_" + base64.b64encode(b"x" * 32).decode())
    status, body = http(server.url + "/metrics")
    assert status == 200
    text = body.decode()

    def value(name, labels=""):
        match = re.search(rf"^{re.escape(name)}{re.escape(labels)} ([0-9.e+]+)$", text, re.M)
        assert match, f"{name}{labels} missing from /metrics"
        return float(match.group(1))

    assert value("attendance_events_accepted_total") == 1
    assert value("attendance_events_duplicate_total") == 2
    assert value("attendance_requests_rejected_total", '{reason="bad_signature"}') == 1
    assert value("attendance_request_seconds_count", '{endpoint="/v1/events"}') == 4


@pytest.mark.slow
def test_logs_never_contain_secrets(server):
    """Requests carrying the secret material in every place a careless log line could show it."""
    event = vectors.load(vectors.VECTORS_DIR / "01-basic-lesson.json").materialize(dt.datetime.now(dt.timezone.utc))[0]
    server.post_events(event)
    server.post_events(event, secret="whsec_" + base64.b64encode(b"y" * 32).decode())
    http(server.url + "/v1/meetings?password=" + ADMIN_PASSWORD.replace(" ", "+"), headers=basic_auth("not-it"))
    http(server.url + "/login", body=f"password={ADMIN_PASSWORD[:-1]}".encode(),
         headers={"Content-Type": "application/x-www-form-urlencoded"})
    logs = server.logs()
    assert "refused events" in logs and "failed dashboard login" in logs  # the log is really captured
    key_b64 = WEBHOOK_SECRET[len("whsec_"):]
    for secret in (WEBHOOK_SECRET, key_b64, ADMIN_PASSWORD, ADMIN_PASSWORD[:-1],
                   ADMIN_PASSWORD.replace(" ", "+"), base64.b64encode(f"admin:{ADMIN_PASSWORD}".encode()).decode()):
        assert secret not in logs


@pytest.mark.parametrize("secret,complaint", [
    (None, "is not set"),
    ("hunter2", "must start with 'whsec_'"),
    ("whsec_not*base64", "not valid base64"),
    ("whsec_" + base64.b64encode(b"short").decode(), "too short"),
])
def test_serve_refuses_to_start_without_a_usable_secret(tmp_path, secret, complaint):
    env = server_env(tmp_path)
    env.pop("ATTENDANCE_WEBHOOK_SECRET")
    if secret is not None:
        env["ATTENDANCE_WEBHOOK_SECRET"] = secret
    result = subprocess.run([CLI, "serve", "--dev", "--port", str(free_port())], env=env, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 2
    assert complaint in result.stderr
    assert "secrets.token_bytes(32)" in result.stderr  # says how to generate one
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("variable,value,complaint", [
    ("ATTENDANCE_PORT", "eighty", "is not a valid integer"),
    ("ATTENDANCE_WORKERS", "0", "is not in the range x>=1"),
    ("ATTENDANCE_PRESENT_MIN_PERCENT", "150", "between 0 and 100"),
    ("ATTENDANCE_RECONNECT_GRACE_SECONDS", "a minute", "must be a whole number"),
    ("ATTENDANCE_MAX_BATCH_EVENTS", "many", "must be a whole number"),
    ("ATTENDANCE_SQLITE_SYNCHRONOUS", "off", "must be FULL or NORMAL"),
])
def test_serve_explains_a_bad_setting(tmp_path, variable, value, complaint):
    result = subprocess.run([CLI, "serve", "--dev", "--port", str(free_port())] if variable != "ATTENDANCE_PORT"
                            else [CLI, "serve", "--dev"], env=server_env(tmp_path, **{variable: value}),
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert complaint in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_workers_inherit_no_open_database(tmp_path):
    """gunicorn forks its workers after create_app, which writes (room courses re-indexed under a
    new ATTENDANCE_ROOM_PATTERN): SQLite forbids carrying an open connection across a fork, so the
    master must hold no database file open by then (sqlite.org/howtocorrupt.html, 2.6)."""
    running = RunningServer("gunicorn", tmp_path, ATTENDANCE_ROOM_PATTERN=r"^(?P<course>[a-z]+)-")
    try:
        assert "room courses re-indexed" in running.logs()
        fd_dir = f"/proc/{running.process.pid}/fd"
        opened = [os.readlink(f"{fd_dir}/{fd}") for fd in os.listdir(fd_dir)]
        assert not [path for path in opened if "attendance.db" in path], opened
    finally:
        running.stop()
