"""`attendance-logger` command line: serve, db upgrade, purge, report, users, roster and schedule
imports, the Moodle sync."""
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


def _config() -> dict:
    from .config import ConfigError, from_environment

    try:
        return from_environment()
    except ConfigError as exc:
        _fail(str(exc))


def _attendance():
    from .attendance import Attendance
    from .config import ConfigError

    config = _config()
    try:
        storage = _storage()
        storage.upgrade()
        attendance = Attendance(storage, config["SETTINGS"], config["COURSE_NAMES"])
    except (ConfigError, ValueError) as exc:
        _fail(str(exc))
    attendance.classes.ensure_room_rules()
    if config.get("MOODLE") is not None:
        from .moodle.jobs import MoodleSync

        MoodleSync.attach(attendance, config["MOODLE"])
    return attendance


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


@cli.group()
def users() -> None:
    """Accounts that may read attendance: admins see every course, teachers the courses granted to them.

    Passwords are read from a prompt (asked twice) or, with --password-stdin, from the first line of
    standard input: never from the command line, which other users of the machine can see.
    """


def _accounts():
    from .accounts import Accounts

    storage = _storage()
    storage.upgrade()
    return Accounts(storage)


def _account_call(call, *args, **kwargs):
    from .accounts import AccountError

    try:
        return call(*args, **kwargs)
    except AccountError as exc:
        _fail(str(exc))


def _new_password(from_stdin: bool) -> str:
    from .accounts import AccountError, check_password

    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            _fail("no password on standard input (--password-stdin reads its first line)")
        return password

    def long_enough(value: str) -> str:
        try:
            check_password(value)
        except AccountError as exc:
            raise click.BadParameter(str(exc)) from None
        return value

    return click.prompt("Password", hide_input=True, confirmation_prompt=True, value_proc=long_enough)


_PASSWORD_STDIN = click.option("--password-stdin", "password_stdin", is_flag=True,
                               help="Read the password from the first line of standard input instead of a prompt.")


@users.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(["teacher", "admin"]), default="teacher", show_default=True,
              help="admin: every course; teacher: the courses granted.")
@click.option("--course", "courses", multiple=True, metavar="COURSEID",
              help="A course the teacher sees (its courseid claim); repeat for more.")
@_PASSWORD_STDIN
def users_add(name: str, role: str, courses: tuple[str, ...], password_stdin: bool) -> None:
    """Add an account."""
    accounts = _accounts()
    _account_call(accounts.check_new, name, role=role, courses=courses)  # before asking a password for nothing
    account = _account_call(accounts.add, name, _new_password(password_stdin), role=role, courses=courses)
    click.echo(f"added {account.role} {account.name}" + (f" for {', '.join(sorted(courses))}" if courses else ""))
    _warn_about_unseen(accounts, courses)


def _warn_about_unseen(accounts, courses) -> None:
    """Courses are granted by their courseid claim, which no list confirms: flag likely typos."""
    for course in sorted(set(courses) - accounts.known_courses(courses)):
        click.echo(f"note: no meeting has carried courseid {course!r} yet; it must match the token's courseid "
                   "claim exactly (case included)", err=True)


@users.command("list")
@click.option("--json", "as_json", is_flag=True, help="JSON for scripts.")
def users_list(as_json: bool) -> None:
    """List the accounts with their role and courses."""
    found = _accounts().list()
    if as_json:
        click.echo(json.dumps({"accounts": [{"name": a.name, "role": a.role, "courses": sorted(a.courses)}
                                            for a in found]}, indent=2))
        return
    for account in found:
        courses = "all courses" if account.sees_every_course else (", ".join(sorted(account.courses)) or "no course yet")
        click.echo(f"{account.name}\t{account.role}\t{courses}")


@users.command("remove")
@click.argument("name")
def users_remove(name: str) -> None:
    """Remove an account; its sessions end at once."""
    _account_call(_accounts().remove, name)
    click.echo(f"removed {name}" + _bootstrap_note(name))


@users.command("passwd")
@click.argument("name")
@_PASSWORD_STDIN
def users_passwd(name: str, password_stdin: bool) -> None:
    """Set an account's password; its sessions end at once."""
    accounts = _accounts()
    _account_call(accounts.require, name)
    _account_call(accounts.set_password, name, _new_password(password_stdin))
    click.echo(f"password of {name} changed; its sessions have ended" + _bootstrap_note(name))


def _bootstrap_note(name: str) -> str:
    from .accounts import BOOTSTRAP_ADMIN

    if name == BOOTSTRAP_ADMIN and os.environ.get("ATTENDANCE_ADMIN_PASSWORD"):
        return " (note: while ATTENDANCE_ADMIN_PASSWORD is set, the receiver sets it back at its next start)"
    return ""


@users.command("grant")
@click.argument("name")
@click.argument("courses", nargs=-1, required=True, metavar="COURSEID...")
def users_grant(name: str, courses: tuple[str, ...]) -> None:
    """Let a teacher see more courses (their courseid claims)."""
    accounts = _accounts()
    _account_call(accounts.grant, name, courses)
    click.echo(f"{name} now sees {', '.join(sorted(accounts.get(name).courses))}")
    _warn_about_unseen(accounts, courses)


@users.command("revoke")
@click.argument("name")
@click.argument("courses", nargs=-1, required=True, metavar="COURSEID...")
def users_revoke(name: str, courses: tuple[str, ...]) -> None:
    """Stop a teacher seeing some courses (takes effect at the next page or request)."""
    _account_call(_accounts().revoke, name, courses)
    click.echo(f"revoked {', '.join(courses)} from {name}")


# -- class lists and timetables --------------------------------------------------------------------

def _echo_import(summary, as_json: bool, what: str) -> None:
    if as_json:
        click.echo(json.dumps(summary.as_json(), indent=2, ensure_ascii=False))
        return
    courses = ", ".join(summary.courses) or "no course"
    if not summary.changed:
        click.echo(f"{what} of {courses} unchanged ({summary.imported} already there)")
    else:
        click.echo(f"imported {summary.imported} {what} for {courses} (replacing {summary.replaced})")
    if summary.window:
        start, end = summary.window
        click.echo(f"window replaced: {start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} UTC")
    for line in summary.skipped:
        click.echo(f"skipped: {line}", err=True)


def _import_failed(exc) -> None:
    click.echo(f"attendance-logger: {exc}", err=True)
    sys.exit(1)


def _read_file(path: str) -> bytes:
    try:
        with open(path, "rb") as file:
            return file.read()
    except OSError as exc:
        _fail(f"cannot read {path}: {exc.strerror}")


@cli.group()
def roster() -> None:
    """Class lists: the students enrolled in each course (for schools whose list is not in Moodle)."""


@roster.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--course", help="The file is this course's class list (its course column may be left out).")
@click.option("--json", "as_json", is_flag=True, help="JSON for scripts.")
def roster_import(file: str, course: str | None, as_json: bool) -> None:
    """Import a class list CSV; it replaces the class lists of the courses it names. A file with any
    problem imports nothing and each problem is named by line and column (exit status 1)."""
    from .class_store import read_roster_file
    from .table_import import ImportFailed

    attendance = _attendance()
    try:
        entries = read_roster_file(_read_file(file), os.path.basename(file), course=course)
    except ImportFailed as exc:
        _import_failed(exc)
    _echo_import(attendance.classes.replace_roster(entries, source="file", courses=[course] if course else []),
                 as_json, "students")


def _bound(name: str, value: str | None, end: bool) -> dt.datetime | None:
    if value is None:
        return None
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(f"{value!r}: give a date (2026-09-01) or a date and time with an offset",
                                 param_hint=name) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    if end and len(value) == 10:  # a date as the end: that whole day
        moment += dt.timedelta(days=1)
    return moment


@cli.group()
def schedule() -> None:
    """Lessons: when each course (and group) is taught, for measuring meetings against them."""


@schedule.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--course", help="Every lesson in the file is this course's (a calendar exported per course).")
@click.option("--timezone", "timezone", default=lambda: os.environ.get("ATTENDANCE_TIMEZONE") or None,
              help="Zone of times given without one, e.g. Europe/Madrid (ATTENDANCE_TIMEZONE).")
@click.option("--from", "from_", metavar="DATE", help="Start of the window replaced (and an .ics file expanded in).")
@click.option("--to", metavar="DATE", help="End of that window (a date: that whole day).")
@click.option("--course-from", default="SUMMARY", show_default=True,
              type=click.Choice(["SUMMARY", "CATEGORIES", "LOCATION", "DESCRIPTION"], case_sensitive=False),
              help="iCalendar: the event property that names the course.")
@click.option("--course-pattern", help="iCalendar: a regular expression with the named groups course and group, "
                                       "matched against that property.")
@click.option("--json", "as_json", is_flag=True, help="JSON for scripts.")
def schedule_import(file: str, course: str | None, timezone: str | None, from_: str | None, to: str | None,
                    course_from: str, course_pattern: str | None, as_json: bool) -> None:
    """Import a timetable (.csv, or .ics as timetable software exports it); it replaces the lessons of
    the courses it names within its window (a CSV file's: from its first lesson to its last; an
    .ics file's: a year either side of today, or --from/--to). A file with any problem imports
    nothing (exit status 1)."""
    from .class_store import read_timetable_file
    from .table_import import ImportFailed

    window = None
    if from_ or to:
        if not (from_ and to):
            raise click.UsageError("give both --from and --to, or neither")
        window = (_bound("--from", from_, end=False), _bound("--to", to, end=True))
    attendance = _attendance()
    try:
        found, window, skipped = read_timetable_file(
            _read_file(file), os.path.basename(file), course=course, timezone=timezone, window=window,
            course_from=course_from, course_pattern=course_pattern)
        summary = attendance.classes.replace_lessons(found, source="file", courses=[course] if course else [],
                                                     window=window, skipped=skipped)
    except ImportFailed as exc:
        _import_failed(exc)
    except ValueError as exc:
        _fail(str(exc))
    _echo_import(summary, as_json, "lessons")


# -- Moodle ---------------------------------------------------------------------------------------

@cli.group()
def moodle() -> None:
    """Attendance into Moodle's Attendance activity (ATTENDANCE_MOODLE_URL and its token)."""


def _moodle_sync():
    attendance = _attendance()
    if attendance.moodle is None:
        _fail("ATTENDANCE_MOODLE_URL is not set: the Moodle sync needs the site's address and a web-service token "
              "(ATTENDANCE_MOODLE_TOKEN_FILE); see docs/moodle.md")
    return attendance.moodle


@moodle.command("sync")
@click.option("--course", help="Every finished meeting of this course (done ones again: a re-sync only updates).")
@click.option("--meeting", "meeting_id", help="This meeting only.")
@click.option("--dry-run", is_flag=True, help="Print what would be written, write nothing.")
@click.option("--json", "as_json", is_flag=True, help="JSON for scripts.")
def moodle_sync(course: str | None, meeting_id: str | None, dry_run: bool, as_json: bool) -> None:
    """Write finished meetings' attendance into Moodle: by default every queued or failed sync.
    Exit status 1 if any failed."""
    sync = _moodle_sync()
    if meeting_id:
        jobs = [(meeting_id, c) for c in ([course] if course else sync.courses_of(meeting_id))]
        if not jobs:
            _fail(f"meeting {meeting_id!r} belongs to no course (or does not exist): nothing to sync")
    elif course:
        jobs = sync.meetings_of(course)
    else:
        jobs = sync.pending()
    outcomes = []
    for number, (meeting, course_) in enumerate(jobs, start=1):
        if not as_json:
            click.echo(f"[{number}/{len(jobs)}] meeting {meeting}, course {course_}", err=True)
        outcome = sync.sync(meeting, course_, dry_run=dry_run)
        outcomes.append(outcome)
        if not as_json:
            if outcome.plan is not None:
                click.echo("\n".join(outcome.plan.describe()))
            click.echo(f"  {outcome.state}: {outcome.message}")
    if as_json:
        click.echo(json.dumps({"dry_run": dry_run, "syncs": [o.as_json() for o in outcomes]}, indent=2,
                              ensure_ascii=False))
    elif not jobs:
        click.echo("nothing to sync", err=True)
    sys.exit(0 if all(o.ok for o in outcomes) else 1)


@moodle.command("audit")
@click.option("--meeting", "meeting_id", help="Only this meeting's writes.")
@click.option("--json", "as_json", is_flag=True, help="JSON for scripts.")
def moodle_audit(meeting_id: str | None, as_json: bool) -> None:
    """Print every write the sync made to Moodle: when, which function, its parameters, the answer."""
    entries = _moodle_sync().audit_log(meeting_id)
    if as_json:
        click.echo(json.dumps({"audit": entries}, indent=2, ensure_ascii=False))
        return
    for entry in entries:
        params = " ".join(f"{k}={v}" for k, v in sorted(entry["params"].items()))
        click.echo(f"{entry['time']}\t{entry['meeting']}\t{entry['function']}\t{params}\t{entry['result']}")


def main() -> None:
    cli()
