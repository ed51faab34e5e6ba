"""Helpers shared by the receiver's tests: a real PostgreSQL server, signed requests.

Requests are signed with the PyPI `standardwebhooks` library, an implementation independent of
ours, so the tests check interoperability rather than our code against itself.
"""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import os
import shutil
import socket
import subprocess
import sys
import urllib.error
import urllib.request
import tempfile
import time
import uuid
from pathlib import Path

from standardwebhooks import Webhook

from tests.support import real_components


PG_BIN = Path("/usr/lib/postgresql/15/bin")
ADMIN_PASSWORD = "correct horse battery staple"
WEBHOOK_SECRET = "whsec_" + base64.b64encode(os.urandom(32)).decode()
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresServer:
    """A throwaway PostgreSQL cluster on loopback, run as the `postgres` OS user (it refuses root)."""

    def __init__(self):
        self.dir = Path(tempfile.mkdtemp(prefix="attendance-pg-"))
        self.port = free_port()
        self._databases = 0

    def _as_postgres(self, *argv, **kwargs):
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        return subprocess.run([*prefix, *map(str, argv)], check=True, capture_output=True, text=True, **kwargs)

    def start(self):
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres")
        real_components.starting("PostgreSQL")
        data = self.dir / "data"
        self._as_postgres(PG_BIN / "initdb", "-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8")
        self._as_postgres(PG_BIN / "pg_ctl", "-D", data, "-l", self.dir / "log", "-w", "-o",
                          f"-h 127.0.0.1 -p {self.port} -k {self.dir} -c fsync=on", "start")
        return self

    def stop(self):
        self._as_postgres(PG_BIN / "pg_ctl", "-D", self.dir / "data", "-m", "fast", "-w", "stop")
        shutil.rmtree(self.dir, ignore_errors=True)

    def sql(self, statement: str) -> None:
        self._as_postgres(PG_BIN / "psql", "-h", "127.0.0.1", "-p", self.port, "-U", "postgres", "-q",
                          "-v", "ON_ERROR_STOP=1", "-c", statement)

    def new_database(self) -> str:
        self._databases += 1
        name = f"attendance_{self._databases}_{uuid.uuid4().hex[:6]}"
        self.sql(f"CREATE DATABASE {name}")
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{name}"


def basic_auth(password: str = ADMIN_PASSWORD, user: str = "admin") -> dict:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def signed_headers(body: str | bytes, *, secret: str = WEBHOOK_SECRET, webhook_id: str | None = None,
                   timestamp: dt.datetime | None = None) -> dict:
    """Headers signing `body`; text goes through the standardwebhooks library.

    Raw bytes that are not UTF-8 (which that library cannot sign) are signed by hand, following
    the same spec, for the one test that sends such a body.
    """
    webhook_id = webhook_id or str(uuid.uuid4())
    timestamp = timestamp or dt.datetime.now(dt.timezone.utc)
    if isinstance(body, bytes):
        key = base64.b64decode(secret[len("whsec_"):])
        content = f"{webhook_id}.{int(timestamp.timestamp())}.".encode() + body
        signature = "v1," + base64.b64encode(hmac.new(key, content, hashlib.sha256).digest()).decode()
    else:
        signature = Webhook(secret).sign(webhook_id, timestamp, body)
    return {"Content-Type": "application/json", "webhook-id": webhook_id,
            "webhook-timestamp": str(int(timestamp.timestamp())), "webhook-signature": signature}


class Sender:
    """Posts events the way a plugin does: JSON, signed, batched."""

    def __init__(self, client):
        self.client = client

    def post(self, payload, **sign_options):
        body = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False)
        return self.client.post("/v1/events", data=body.encode(), headers=signed_headers(body, **sign_options))

    def post_all(self, events: list[dict], batch_size: int = 100):
        for start in range(0, len(events), batch_size):
            response = self.post({"events": events[start:start + batch_size]})
            assert response.status_code == 200, response.get_json()


def refuse_inserts(storage, table: str, room_like: str | None = None) -> None:
    """A trigger that makes the database refuse inserts into `table` (those whose room_jid is
    LIKE `room_like`, if given), as a failing disk or a constraint would."""
    from sqlalchemy import text

    with storage.write() as conn:
        if storage.is_sqlite:
            when = f" WHEN NEW.room_jid LIKE '{room_like}'" if room_like else ""
            conn.execute(text(f"CREATE TRIGGER refuse_{table} BEFORE INSERT ON {table}{when} "
                              "BEGIN SELECT RAISE(ABORT, 'refused by test'); END"))
        else:
            condition = f"NEW.room_jid LIKE '{room_like}'" if room_like else "true"
            conn.execute(text(f"CREATE FUNCTION refuse_{table}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                              f"IF {condition} THEN RAISE EXCEPTION 'refused by test'; END IF; RETURN NEW; END $$"))
            conn.execute(text(f"CREATE TRIGGER refuse_{table} BEFORE INSERT ON {table} FOR EACH ROW "
                              f"EXECUTE FUNCTION refuse_{table}()"))


def allow_inserts(storage, table: str) -> None:
    from sqlalchemy import text

    with storage.write() as conn:
        conn.execute(text(f"DROP TRIGGER refuse_{table}" + ("" if storage.is_sqlite else f" ON {table}")))


def wait_until(condition, timeout: float = 15.0, interval: float = 0.05) -> bool:
    """Poll `condition` until it is true (True) or `timeout` seconds passed (False)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(interval)
    return True


def wait_for_http(url: str, timeout: float = 15.0) -> None:
    """Wait until `url` answers (any status); raises OSError if it never did."""
    def answers() -> bool:
        try:
            with urllib.request.urlopen(url, timeout=1):
                return True
        except urllib.error.HTTPError:
            return True
        except OSError:
            return False

    if not wait_until(answers, timeout, interval=0.1):
        raise OSError(f"{url} did not answer within {timeout} s")


CLI = str(Path(sys.executable).parent / "attendance-logger")


def server_env(tmp_path, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ATTENDANCE_", "PROMETHEUS_"))}
    env.update({"ATTENDANCE_DATABASE_URL": f"sqlite:///{tmp_path / 'attendance.db'}",
                "ATTENDANCE_WEBHOOK_SECRET": WEBHOOK_SECRET, "ATTENDANCE_ADMIN_PASSWORD": ADMIN_PASSWORD})
    env.update(extra)
    return env


def http(url, body: bytes | None = None, headers: dict | None = None):
    req = urllib.request.Request(url, data=body, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def child_processes(parent: int) -> dict[int, str]:
    """A process's children by pid: name (gunicorn's workers)."""
    found = {}
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":\t", 1) for line in status.read_text().splitlines() if ":\t" in line)
        except OSError:  # gone meanwhile
            continue
        if fields.get("PPid", "").strip() == str(parent):
            found[int(status.parent.name)] = fields.get("Name", "").strip()
    return found


class RunningServer:
    """`attendance-logger serve` in a subprocess: mode "gunicorn" (2 workers), "gunicorn-default"
    (as many as serve chooses) or "dev"."""

    def __init__(self, mode: str, tmp_path: Path, popen: dict | None = None, **env):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = tmp_path / f"serve-{mode}.log"
        argv = [CLI, "serve", "--host", "127.0.0.1", "--port", str(self.port)]
        if mode == "dev":
            argv.append("--dev")
        elif mode == "gunicorn":
            argv += ["--workers", "2"]
        real_components.starting(f"attendance-logger serve ({mode})")
        self._log = open(self.log_path, "wb")
        self.process = subprocess.Popen(argv, env=server_env(tmp_path, **env), stdout=self._log,
                                        stderr=subprocess.STDOUT, **(popen or {}))
        try:
            wait_for_http(self.url + "/healthz", timeout=30)
        except OSError:
            self.stop()
            raise AssertionError("server did not come up:\n" + self.logs()) from None

    def post_events(self, payload, **sign_options):
        body = json.dumps(payload, ensure_ascii=False)
        return http(self.url + "/v1/events", body.encode(), signed_headers(body, **sign_options))

    def worker_count(self) -> int:
        return len(child_processes(self.process.pid))

    def logs(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(errors="replace")

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()
