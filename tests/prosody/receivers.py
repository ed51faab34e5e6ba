"""Where the Prosody module's events go in these tests.

* `RealReceiver`: the project's attendance receiver (flask-logger, `attendance-logger serve`)
  as a subprocess on SQLite. What it stored is read back from its `events` table; attendance from
  its authenticated read API.
* `CaptureReceiver`: a small HTTP endpoint that checks every request with the reference
  `standardwebhooks` library and records each delivery. It can answer slowly or with an error,
  which the real receiver cannot be asked to do (the benchmark's "receiver answering in 5 s").

Both offer `url`, `secret`, `start()`, `stop()` and `events()` (distinct by id, in arrival order).
"""
from __future__ import annotations

import base64
import datetime as dt
import json
import os
import secrets
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from tests.support import real_components
from tests.support.prosody_server import free_port


def new_webhook_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def sign_and_post(url: str, secret: str, events: list[dict], timeout: float = 10.0):
    """POST a batch signed per Standard Webhooks with the reference library."""
    import requests
    from standardwebhooks import Webhook

    body = json.dumps({"events": events}, ensure_ascii=False)
    webhook_id = "msg_" + secrets.token_hex(12)
    now = dt.datetime.now(dt.timezone.utc)
    signature = Webhook(secret).sign(webhook_id, now, body)
    headers = {"content-type": "application/json", "webhook-id": webhook_id,
               "webhook-timestamp": str(int(now.timestamp())), "webhook-signature": signature}
    return requests.post(url, data=body.encode(), headers=headers, timeout=timeout)


class RealReceiver:
    """The flask-logger receiver in a subprocess, on loopback, with its own SQLite database."""

    def __init__(self, workdir: Path, *, secret: str | None = None, settings: dict | None = None,
                 host: str = "127.0.0.1", port: int | None = None):
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.secret = secret or new_webhook_secret()
        self.admin_password = secrets.token_urlsafe(18)
        self.host = host
        self.port = port or free_port()
        self.database = self.workdir / "attendance.db"
        self.settings = settings or {}
        self.process: subprocess.Popen | None = None
        self._log = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def url(self) -> str:
        return self.base_url + "/v1/events"

    def environment(self) -> dict:
        env = dict(os.environ, ATTENDANCE_DATABASE_URL=f"sqlite:///{self.database}",
                   ATTENDANCE_WEBHOOK_SECRET=self.secret, ATTENDANCE_ADMIN_PASSWORD=self.admin_password)
        names = {"claims": "ATTENDANCE_CLAIMS", "reconnect_grace_seconds": "ATTENDANCE_RECONNECT_GRACE_SECONDS",
                 "late_after_seconds": "ATTENDANCE_LATE_AFTER_SECONDS",
                 "left_early_seconds": "ATTENDANCE_LEFT_EARLY_SECONDS",
                 "present_min_percent": "ATTENDANCE_PRESENT_MIN_PERCENT",
                 "partial_min_percent": "ATTENDANCE_PARTIAL_MIN_PERCENT",
                 "room_pattern": "ATTENDANCE_ROOM_PATTERN"}
        for key, value in self.settings.items():
            if key in names:
                env[names[key]] = ",".join(value) if isinstance(value, list) else str(value)
        return env

    def start(self, timeout: float = 20.0) -> "RealReceiver":
        real_components.starting("the receiver under gunicorn")
        import requests

        self._log = open(self.workdir / "receiver.log", "ab")
        executable = Path(sys.executable).with_name("attendance-logger")
        if not executable.exists():
            executable = shutil.which("attendance-logger") or executable
        # As deployed: gunicorn with the receiver's threaded worker and its connection limits
        # (the --dev server is Flask's own).
        command = [str(executable), "serve", "--host", self.host, "--port", str(self.port)]
        self.process = subprocess.Popen(command, env=self.environment(), stdout=self._log, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL, cwd=self.workdir)
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"attendance-logger exited with {self.process.returncode}:\n{self.log_text()}")
            try:
                if requests.get(self.base_url + "/healthz", timeout=1).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"attendance-logger not healthy within {timeout:.0f} s:\n{self.log_text()}")
            time.sleep(0.1)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        if self._log:
            self._log.close()
            self._log = None

    def log_text(self) -> str:
        path = self.workdir / "receiver.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

    # -- what it holds ----------------------------------------------------------------------------
    def events(self) -> list[dict]:
        """Every event the receiver stored, in the order it stored them."""
        if not self.database.exists():
            return []
        with sqlite3.connect(f"file:{self.database}?mode=ro", uri=True, timeout=5) as db:
            try:
                rows = db.execute("SELECT body FROM events ORDER BY received_ms, rowid").fetchall()
            except sqlite3.OperationalError:  # tables not created yet
                return []
        return [json.loads(body) for (body,) in rows]

    def get(self, path: str):
        import requests

        response = requests.get(self.base_url + path, auth=("admin", self.admin_password), timeout=10)
        response.raise_for_status()
        return response.json()

    def upload(self, path: str, body: bytes):
        """POST a file to an import endpoint (`/v1/roster?...`, `/v1/schedule?...`) as the admin."""
        import requests

        return requests.post(self.base_url + path, data=body, auth=("admin", self.admin_password),
                             headers={"content-type": "text/csv"}, timeout=10)

    def meetings(self) -> list[dict]:
        return self.get("/v1/meetings")["meetings"]

    def attendance(self, meeting_id: str) -> dict:
        return self.get(f"/v1/meetings/{meeting_id}/attendance")

    def post(self, events: list[dict]):
        return sign_and_post(self.url, self.secret, events)


class CaptureReceiver:
    """An in-process HTTP endpoint that verifies signatures (standardwebhooks) and records deliveries.

    `status` is the HTTP status it answers with (2xx stores), `delay` seconds it waits first.
    Requests with a bad signature are answered 401 and counted in `rejected`.
    """

    def __init__(self, *, secret: str | None = None, status: int = 200, delay: float = 0.0):
        self.secret = secret or new_webhook_secret()
        self.status = status
        self.delay = delay
        self.port = free_port()
        self.deliveries: list[list[dict]] = []      # accepted requests, each a list of events
        self.rejected = 0
        self.requests = 0
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1/events"

    def start(self) -> "CaptureReceiver":
        from standardwebhooks import Webhook, WebhookVerificationError

        capture = self
        verifier = Webhook(self.secret)

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                with capture._lock:
                    capture.requests += 1
                if capture.delay:
                    time.sleep(capture.delay)
                try:
                    verifier.verify(body, {k.lower(): v for k, v in self.headers.items()})
                    payload = json.loads(body)
                except (WebhookVerificationError, ValueError):
                    with capture._lock:
                        capture.rejected += 1
                    return self._answer(401)
                events = payload["events"] if isinstance(payload, dict) and "events" in payload else [payload]
                if 200 <= capture.status < 300:
                    with capture._lock:
                        capture.deliveries.append(events)
                self._answer(capture.status)

            def _answer(self, status):
                body = b"{}"
                try:
                    self.send_response(status)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the sender gave up waiting (its timeout) or went away

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def all_deliveries(self) -> list[dict]:
        with self._lock:
            return [event for batch in self.deliveries for event in batch]

    def events(self) -> list[dict]:
        seen, out = set(), []
        for event in self.all_deliveries():
            if event["id"] not in seen:
                seen.add(event["id"])
                out.append(event)
        return out
