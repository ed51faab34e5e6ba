"""`attendance-logger` command line: serve, db upgrade, purge, report."""
from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import sys
import tempfile

import click

from . import __version__

DEFAULT_DATABASE_URL = "sqlite:///attendance.db"


def _fail(message: str) -> None:
    click.echo(f"attendance-logger: {message}", err=True)
    sys.exit(2)


def _storage():
    from .storage import Storage

    return Storage(os.environ.get("ATTENDANCE_DATABASE_URL", DEFAULT_DATABASE_URL))


def _attendance():
    from .attendance import Attendance
    from .config import ConfigError, from_environment

    try:
        settings = from_environment()["SETTINGS"]
        storage = _storage()
        storage.upgrade()
        return Attendance(storage, settings)
    except (ConfigError, ValueError) as exc:
        _fail(str(exc))


@click.group()
@click.version_option(__version__, prog_name="attendance-logger")
def cli() -> None:
    """Attendance receiver for Jitsi classrooms (configuration: ATTENDANCE_* environment variables)."""


@cli.command()
@click.option("--host", default=lambda: os.environ.get("ATTENDANCE_HOST", "0.0.0.0"), show_default="0.0.0.0",
              help="Bind address (ATTENDANCE_HOST).")
@click.option("--port", type=int, default=lambda: os.environ.get("ATTENDANCE_PORT", "8080"),
              show_default="8080", help="Port (ATTENDANCE_PORT).")
@click.option("--workers", type=click.IntRange(min=1), default=lambda: os.environ.get("ATTENDANCE_WORKERS", "1"),
              show_default="1", help="gunicorn worker processes (ATTENDANCE_WORKERS).")
@click.option("--threads", type=click.IntRange(min=1), default=lambda: os.environ.get("ATTENDANCE_THREADS", "8"),
              show_default="8", help="Threads per gunicorn worker: requests answered at once (ATTENDANCE_THREADS).")
@click.option("--idle-timeout", type=click.IntRange(min=1),
              default=lambda: os.environ.get("ATTENDANCE_IDLE_TIMEOUT_SECONDS", "5"), show_default="5",
              help="Seconds a connection may stay idle before a request or between two (ATTENDANCE_IDLE_TIMEOUT_SECONDS).")
@click.option("--request-timeout", type=click.IntRange(min=1),
              default=lambda: os.environ.get("ATTENDANCE_REQUEST_TIMEOUT_SECONDS", "10"), show_default="10",
              help="Seconds a request's headers and body may take to arrive (ATTENDANCE_REQUEST_TIMEOUT_SECONDS).")
@click.option("--max-connections", type=click.IntRange(min=1),
              default=lambda: os.environ.get("ATTENDANCE_MAX_CONNECTIONS", "200"), show_default="200",
              help="Open connections per worker; more wait to be accepted (ATTENDANCE_MAX_CONNECTIONS).")
@click.option("--dev", is_flag=True, help="Flask's development server instead of gunicorn.")
def serve(host: str, port: int, workers: int, threads: int, idle_timeout: int, request_timeout: int,
          max_connections: int, dev: bool) -> None:
    """Receive events and serve the API and dashboard."""
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not dev and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # Before prometheus_client is imported: workers then share their counters.
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="attendance-metrics-")
    app = _create_app_or_exit()
    from .server import run_dev, run_gunicorn

    if dev:
        run_dev(app, host=host, port=port)
        return
    run_gunicorn(app, host=host, port=port, workers=workers, threads=threads, idle_seconds=idle_timeout,
                 request_seconds=request_timeout, max_connections=max_connections)


def _create_app_or_exit():
    from . import create_app
    from .config import ConfigError

    try:
        return create_app()
    except ConfigError as exc:
        _fail(str(exc))
    except Exception as exc:  # database unreachable and the like: say what, not a traceback
        _fail(f"cannot start: {type(exc).__name__}: {exc}")


@cli.group()
def db() -> None:
    """Database maintenance."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the tables to the newest version."""
    _storage().upgrade()
    click.echo("database is up to date")


def parse_age(text: str) -> dt.timedelta:
    match = re.fullmatch(r"(\d+)([dwh])", text.strip())
    if not match:
        raise click.BadParameter(f"{text!r}: write a number followed by d (days), w (weeks) or h (hours), e.g. 365d")
    amount, unit = int(match.group(1)), match.group(2)
    return {"d": dt.timedelta(days=amount), "w": dt.timedelta(weeks=amount), "h": dt.timedelta(hours=amount)}[unit]


@cli.command()
@click.option("--older-than", "older_than", required=True, help="Retention period, e.g. 365d, 52w.")
def purge(older_than: str) -> None:
    """Delete events and meetings older than the retention period (personal data)."""
    age = parse_age(older_than)
    storage = _storage()
    storage.upgrade()
    gone = storage.purge(age)
    click.echo(f"purged {gone['events']} events and {gone['meetings']} meetings older than {age.days} days")


@cli.command()
@click.option("--meeting", "meeting_id", required=True, help="Meeting id (GET /v1/meetings lists them).")
@click.option("--csv", "as_csv", is_flag=True, help="CSV instead of JSON.")
def report(meeting_id: str, as_csv: bool) -> None:
    """Print one meeting's attendance."""
    from . import reports
    from .attendance import MeetingNotFound

    attendance = _attendance()
    try:
        meeting = attendance.meeting(meeting_id)
    except MeetingNotFound:
        _fail(f"no meeting with id {meeting_id!r}; list them with GET /v1/meetings")
    if as_csv:
        for chunk in reports.meeting_csv(meeting, attendance.settings):
            sys.stdout.write(chunk)
    else:
        body = reports.meeting_json(meeting)
        body["id"] = meeting_id
        click.echo(json.dumps(body, ensure_ascii=False, indent=2))


def main() -> None:
    cli()
