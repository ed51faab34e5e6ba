"""The receiver's Moodle sync against the fake Moodle: queued when a meeting ends, worked in the
background, idempotent, retried while Moodle is down or slow, refusals surfaced, the token kept
out of logs; and `attendance-logger moodle sync` (--dry-run prints the plan)."""
from __future__ import annotations

import datetime as dt
import json
import logging
import os
import subprocess
import threading

import pytest
from sqlalchemy import delete, select, update

from attendance_logger import create_app
from attendance_logger.course_names import CourseNames
from attendance_logger.moodle.client import MoodleClient
from attendance_logger.moodle.jobs import FIRST_RETRY_SECONDS, LEASE_SECONDS
from attendance_logger.moodle.settings import MoodleSettings
from attendance_logger.tables import meetings, moodle_syncs, rooms
from classroom import Classroom, stock_identity
from logger_helpers import ADMIN_PASSWORD, CLI, WEBHOOK_SECRET, Sender, basic_auth, server_env, wait_until

ROOM_PATTERN = r"(?P<course>[a-z0-9-]+)_(?P<activity>[0-9]+)(?:_[a-z0-9-]*)?"
# Two hours ago, on the minute: the lesson is 15 minutes into the meeting and lasts 55 minutes.
OPENED = dt.datetime.now(dt.timezone.utc).replace(second=0, microsecond=0) - dt.timedelta(hours=2)
LESSON_START = OPENED + dt.timedelta(minutes=15)


class Clock:
    def __init__(self):
        self.now = dt.datetime.now(dt.timezone.utc).timestamp()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def school(moodle):
    """MAT-1A in Moodle: three students, a teacher, an Attendance activity with today's session."""
    school = moodle.add_class()
    return {**school, "session": moodle.add_session(school["activity"], LESSON_START, 55),
            "token": moodle.issue_token()}


def lesson_events() -> list[dict]:
    """mod_jitsi room of MAT-1A with stock tokens: the teacher opens it 15 minutes early, Ana
    reloads twice, Beatriz comes for 20 minutes, Carlos never does."""
    ana, bea = stock_identity("agarcia"), stock_identity("boneil")
    room = Classroom("mat-1a_7_algebra", OPENED).created(0)
    room.join("teacher", 0, identity=stock_identity("tteacher", moderator=True), role="moderator")
    room.join("ana-1", 5, identity=ana).leave("ana-1", 25)
    room.join("ana-2", 25.5, identity=ana).leave("ana-2", 50)
    room.join("ana-3", 50.3, identity=ana)
    room.join("bea", 25, identity=bea).leave("bea", 45)
    return room.destroyed(70).events


@pytest.fixture
def receiver(database_url, moodle, school):
    clock = Clock()
    settings = MoodleSettings(url=moodle.url, token=school["token"], token_source="the test", ca_file=moodle.ca_file)
    app = create_app({"DATABASE_URL": database_url, "WEBHOOK_SECRET": WEBHOOK_SECRET, "ADMIN_PASSWORD": ADMIN_PASSWORD,
                      "REFRESH_INTERVAL_SECONDS": 0, "MOODLE": settings,
                      "COURSE_NAMES": CourseNames.from_environment({"ATTENDANCE_ROOM_PATTERN": ROOM_PATTERN})})
    sync = app.extensions["moodle_sync"]
    sync.clock = clock
    # retries without sleeping, and short timeouts, so that a slow Moodle shows quickly
    sync._client = MoodleClient(moodle.url, school["token"], ca_file=moodle.ca_file, timeout=(2.0, 1.0),
                                sleep=lambda seconds: None)
    yield app, sync, clock
    app.extensions["storage"].close()


def finish_lesson(app) -> str:
    Sender(app.test_client()).post_all(lesson_events())
    app.extensions["attendance"].refresh()  # what the background refresher does once the room is quiet
    [meeting] = app.test_client().get("/v1/meetings", headers=basic_auth()).get_json()["meetings"]
    return meeting["id"]


def job(app, meeting_id):
    with app.extensions["storage"].read() as conn:
        return conn.execute(select(moodle_syncs).where(moodle_syncs.c.meeting == meeting_id)).one()


def test_a_finished_meeting_is_synced_once_and_a_resync_writes_nothing(receiver, moodle, school):
    app, sync, clock = receiver
    meeting_id = finish_lesson(app)
    assert job(app, meeting_id).state == "queued"  # queued in the transaction that indexed it
    [outcome] = sync.work_once()
    assert (outcome.state, outcome.session_id) == ("done", school["session"]), outcome.message
    # Ana reloaded twice and is one student, present against the 55-minute lesson; Beatriz was
    # there 20 of its minutes (partial -> L); Carlos never came (A); the teacher is not marked
    assert moodle.taken(school["session"]) == {school["ana"].id: "P", school["bea"].id: "L", school["car"].id: "A"}
    assert len(moodle.sessions) == 1
    calls = len(moodle.calls)

    assert sync.work_once() == []  # nothing due
    again = sync.sync(meeting_id, "MAT-1A")
    assert (again.state, again.wrote, again.session_id) == ("done", 0, school["session"])
    assert len(moodle.sessions) == 1 and not any(
        f == "mod_attendance_update_user_status" for f, _ in moodle.calls[calls:])
    entries = sync.audit_log(meeting_id)
    assert [e["function"] for e in entries] == ["mod_attendance_update_user_status"] * 3
    assert {e["params"]["studentid"] for e in entries} == {school[n].id for n in ("ana", "bea", "car")}

    body = app.test_client().get(f"/v1/meetings/{meeting_id}/attendance", headers=basic_auth()).get_json()
    [state] = body["sync"]
    assert (state["state"], state["shortname"], state["session_id"]) == ("done", "MAT-1A", school["session"])
    assert state["message"].startswith("0 statuses written, 3 already right")
    page = app.test_client()
    page.post("/login", data={"user": "admin", "password": ADMIN_PASSWORD})
    assert "MAT-1A: written to Moodle" in page.get(f"/meetings/{meeting_id}").get_data(as_text=True)
    # the class list and the lesson came from Moodle
    assert body["reference"]["source"] == "moodle" and body["reference"]["moodle_session"] == school["session"]
    assert [a["name"] for a in body["absentees"]] == ["Carlos Ruiz"]


def test_a_meeting_indexed_again_is_synced_again_keeping_a_teachers_correction(receiver, moodle, school):
    app, sync, clock = receiver
    events = lesson_events()
    Sender(app.test_client()).post_all(events)
    app.extensions["attendance"].refresh()
    [outcome] = sync.work_once()
    meeting_id = outcome.meeting
    moodle.logs[school["session"]][school["car"].id]["statusid"] = moodle.status_id(school["activity"], "E")
    # a delivery that comes late (a plugin's spool after an outage): Carlos was there after all,
    # from the lesson's start to its end
    late = Classroom("mat-1a_7_algebra", OPENED, instance=events[0]["source"]["instance"])
    late.join("carlos", 15, identity=stock_identity("cruiz")).leave("carlos", 70)
    Sender(app.test_client()).post_all(late.events)
    app.extensions["attendance"].refresh()
    assert job(app, meeting_id).state == "queued"
    [outcome] = sync.work_once()
    assert outcome.state == "done"
    # Carlos's status was changed by a teacher in Moodle since our write: it is kept
    assert moodle.taken(school["session"])[school["car"].id] == "E"
    assert "1 changed in Moodle since, kept" in outcome.message


@pytest.mark.slow  # subprocesses and real waits: several seconds
def test_moodle_down_or_slow_is_retried_with_backoff_and_nothing_is_lost(receiver, moodle, school):
    app, sync, clock = receiver
    meeting_id = finish_lesson(app)
    moodle.stop()
    [outcome] = sync.work_once()
    assert outcome.state == "queued" and "no answer after 4 attempts" in outcome.message
    first = job(app, meeting_id)
    assert (first.attempts, first.due_ms) == (1, int(clock.now * 1000) + FIRST_RETRY_SECONDS * 1000)
    assert sync.work_once() == []  # not due yet

    moodle.start()
    moodle.delay = 1.5  # slower than the client's 1 s read timeout
    clock.now += FIRST_RETRY_SECONDS
    [outcome] = sync.work_once()
    assert outcome.state == "queued" and job(app, meeting_id).attempts == 2
    assert job(app, meeting_id).due_ms == int(clock.now * 1000) + 2 * FIRST_RETRY_SECONDS * 1000
    moodle.delay = 0
    moodle.wait_idle()

    clock.now += 2 * FIRST_RETRY_SECONDS
    [outcome] = sync.work_once()
    assert outcome.state == "done", outcome.message
    assert moodle.taken(school["session"]) == {school["ana"].id: "P", school["bea"].id: "L", school["car"].id: "A"}


def test_a_missing_capability_is_surfaced_and_written_nowhere(receiver, moodle, school, caplog):
    app, sync, clock = receiver
    meeting_id = finish_lesson(app)
    moodle.capabilities.discard("mod/attendance:takeattendances")
    with caplog.at_level(logging.INFO):
        [outcome] = sync.work_once()
    assert outcome.state == "failed"
    assert "mod/attendance:takeattendances" in outcome.message  # the hint names what to grant
    body = app.test_client().get(f"/v1/meetings/{meeting_id}/attendance", headers=basic_auth()).get_json()
    [state] = body["sync"]
    assert state["state"] == "failed" and "mod/attendance:takeattendances" in state["message"]
    assert state["next_attempt_at"] is not None  # fixed in Moodle, it heals by itself
    assert moodle.taken(school["session"]) == {}
    assert school["token"] not in caplog.text and school["token"] not in json.dumps(body)

    moodle.capabilities.add("mod/attendance:takeattendances")
    clock.now += FIRST_RETRY_SECONDS
    assert [o.state for o in sync.work_once()] == ["done"]


def test_a_sync_that_fails_midway_keeps_the_new_session_and_carries_on(receiver, moodle, school):
    app, sync, clock = receiver
    del moodle.sessions[school["session"]]  # the course has no session for this lesson: one is created
    meeting_id = finish_lesson(app)
    client = sync.client()
    real, writes = client.update_user_status, []

    def second_write_fails(*args):
        writes.append(args)
        if len(writes) == 2:
            moodle.fail_next(503, times=4)
        return real(*args)

    client.update_user_status = second_write_fails
    [outcome] = sync.work_once()
    assert outcome.state == "queued" and "1 statuses written" in outcome.message
    stored = job(app, meeting_id)
    [created] = moodle.sessions
    assert stored.session_id == created and len(json.loads(stored.written)) == 1  # kept at once
    client.update_user_status = real
    clock.now += FIRST_RETRY_SECONDS
    [outcome] = sync.work_once()
    assert outcome.state == "done" and len(moodle.sessions) == 1 and len(moodle.taken(created)) == 3


def test_meetings_that_ended_long_ago_are_not_queued_by_themselves(receiver, school):
    app, sync, clock = receiver
    clock.now += 3 * 24 * 3600  # the sync is configured days after the lesson, then the index rebuilt
    meeting_id = finish_lesson(app)
    assert sync.pending() == []
    # `moodle sync --course MAT-1A` takes it: its room says mat-1a, as mod_jitsi writes MAT-1A
    assert sync.meetings_of("MAT-1A") == [(meeting_id, "mat-1a")]


# -- configuration ------------------------------------------------------------------------------------

def test_a_token_file_others_can_read_is_refused(tmp_path):
    token = tmp_path / "moodle-token"
    token.write_text("0123456789abcdef0123456789abcdef\n")
    token.chmod(0o644)
    environ = {"ATTENDANCE_MOODLE_URL": "https://moodle.school.example", "ATTENDANCE_MOODLE_TOKEN_FILE": str(token)}
    with pytest.raises(ValueError) as refused:
        MoodleSettings.from_environment(environ)
    assert "can be read by other users (mode 0644)" in str(refused.value) and f"chmod 600 {token}" in str(refused.value)
    assert "0123456789abcdef" not in str(refused.value)
    token.chmod(0o600)
    settings = MoodleSettings.from_environment(environ)
    assert settings.token == "0123456789abcdef0123456789abcdef" and "0123456789abcdef" not in repr(settings)


@pytest.mark.parametrize("environ,complaint", [
    ({"ATTENDANCE_MOODLE_TOKEN": "x"}, "ATTENDANCE_MOODLE_TOKEN set but ATTENDANCE_MOODLE_URL is not"),
    ({"ATTENDANCE_MOODLE_URL": "https://m.example"}, "no web-service token"),
    ({"ATTENDANCE_MOODLE_URL": "http://m.example", "ATTENDANCE_MOODLE_TOKEN": "x"}, "clear text"),
    ({"ATTENDANCE_MOODLE_URL": "https://m.example", "ATTENDANCE_MOODLE_TOKEN": "x",
      "ATTENDANCE_MOODLE_STATUSES": "tardy=L"}, "tardy is not an outcome"),
    ({"ATTENDANCE_MOODLE_URL": "https://m.example", "ATTENDANCE_MOODLE_TOKEN": "x",
      "ATTENDANCE_MOODLE_ATTENDANCE": "MAT-1A=seven"}, "mod/attendance/view.php?id=412"),
])
def test_bad_moodle_settings_say_what_to_fix(environ, complaint):
    with pytest.raises(ValueError, match=complaint.replace("?", "\\?")):
        MoodleSettings.from_environment(environ)


def test_the_status_mapping_overrides_only_what_it_names():
    settings = MoodleSettings.from_environment({"ATTENDANCE_MOODLE_URL": "https://m.example",
                                                "ATTENDANCE_MOODLE_TOKEN": "x",
                                                "ATTENDANCE_MOODLE_STATUSES": "partial=A, absent=F"})
    assert (settings.statuses.present, settings.statuses.late, settings.statuses.partial,
            settings.statuses.absent) == ("P", "L", "A", "F")


# -- the command --------------------------------------------------------------------------------------

def moodle_cli_env(tmp_path, database_url, moodle, school) -> dict:
    """The environment of an `attendance-logger` command that syncs with the fake Moodle."""
    token = tmp_path / "moodle-token"
    token.write_text(school["token"])
    token.chmod(0o600)
    return server_env(tmp_path, ATTENDANCE_DATABASE_URL=database_url, ATTENDANCE_MOODLE_URL=moodle.url,
                      ATTENDANCE_MOODLE_TOKEN_FILE=str(token), ATTENDANCE_MOODLE_CA_FILE=moodle.ca_file,
                      ATTENDANCE_ROOM_PATTERN=ROOM_PATTERN)


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_moodle_sync_dry_run_prints_the_plan_then_a_real_sync_is_idempotent(receiver, moodle, school,
                                                                            database_url, tmp_path):
    app, sync, clock = receiver
    meeting_id = finish_lesson(app)
    env = moodle_cli_env(tmp_path, database_url, moodle, school)

    def run(*args):
        return subprocess.run([CLI, "moodle", "sync", *args], env=env, capture_output=True, text=True, timeout=120)

    dry = run("--course", "MAT-1A", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    session = school["session"]
    assert f"meeting {meeting_id} -> course MAT-1A" in dry.stdout
    assert f"session {session} in Attendance activity {school['activity'].instance}" in dry.stdout
    ana, bea, car = (school[n].id for n in ("ana", "bea", "car"))
    assert f"write     Ana García [{ana}]: present -> P" in dry.stdout
    assert f"write     Beatriz O'Neil [{bea}]: partial -> L" in dry.stdout
    assert f"write     Carlos Ruiz [{car}]: absent -> A" in dry.stdout and "never joined" in dry.stdout
    assert moodle.taken(session) == {} and school["token"] not in dry.stdout + dry.stderr

    first = run("--course", "MAT-1A", "--json")
    assert first.returncode == 0, first.stderr
    [result] = json.loads(first.stdout)["syncs"]
    assert (result["state"], result["wrote"], result["session_id"]) == ("done", 3, session)
    second = run("--course", "MAT-1A", "--json")
    [result] = json.loads(second.stdout)["syncs"]
    assert (second.returncode, result["state"], result["wrote"]) == (0, "done", 0)
    assert {m["action"] for m in result["plan"]["marks"]} == {"unchanged"} and len(moodle.sessions) == 1
    assert moodle.taken(session) == {ana: "P", bea: "L", car: "A"}

    audit = subprocess.run([CLI, "moodle", "audit", "--meeting", meeting_id], env=env, capture_output=True,
                           text=True, timeout=60)
    assert audit.stdout.count("mod_attendance_update_user_status") == 3 and school["token"] not in audit.stdout


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_moodle_sync_without_configuration_or_with_a_loose_token_file_says_so(database_url, tmp_path):
    env = server_env(tmp_path, ATTENDANCE_DATABASE_URL=database_url)
    missing = subprocess.run([CLI, "moodle", "sync"], env=env, capture_output=True, text=True, timeout=60)
    assert missing.returncode == 2 and "ATTENDANCE_MOODLE_URL is not set" in missing.stderr
    token = tmp_path / "moodle-token"
    token.write_text("secret-token-value")
    os.chmod(token, 0o640)
    env.update(ATTENDANCE_MOODLE_URL="https://moodle.school.example", ATTENDANCE_MOODLE_TOKEN_FILE=str(token))
    loose = subprocess.run([CLI, "moodle", "sync"], env=env, capture_output=True, text=True, timeout=60)
    assert loose.returncode == 2 and "chmod 600" in loose.stderr and "secret-token-value" not in loose.stderr


def test_a_job_left_running_by_a_process_that_died_is_taken_again_after_its_lease(receiver, moodle, school,
                                                                                   database_url):
    app, sync, clock = receiver
    meeting_id = finish_lesson(app)
    assert sync._take(meeting_id, "mat-1a", only_due=True) is not None  # taken, then its process dies
    restarted = create_app({"DATABASE_URL": database_url, "WEBHOOK_SECRET": WEBHOOK_SECRET,
                            "ADMIN_PASSWORD": ADMIN_PASSWORD, "REFRESH_INTERVAL_SECONDS": 0,
                            "MOODLE": app.config["MOODLE"], "COURSE_NAMES": app.config["COURSE_NAMES"]})
    other = restarted.extensions["moodle_sync"]
    other.clock, other._client = clock, sync._client
    assert other.work_once() == []  # still leased
    clock.now += LEASE_SECONDS + 1
    assert [o.state for o in other.work_once()] == ["done"]
    restarted.extensions["storage"].close()


@pytest.mark.slow  # subprocesses and real waits: several seconds
def test_ingest_goes_on_while_a_sync_waits_for_moodle(receiver, moodle, school):
    app, sync, clock = receiver
    finish_lesson(app)
    moodle.slow["core_course_get_contents"] = 3.0
    worker = threading.Thread(target=sync.work_once)
    worker.start()
    try:
        assert wait_until(lambda: moodle._busy > 0, timeout=10)
        room = Classroom("fis-2b_9_optics", OPENED + dt.timedelta(hours=1)).created(0)
        response = Sender(app.test_client()).post({"events": room.join("x", 1, nick="x").events})
        # answered while the sync's Moodle call is still in flight: the sync holds no lock
        assert response.status_code == 200 and moodle._busy > 0
    finally:
        worker.join()


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_meeting_first_indexed_by_a_command_is_queued_too(moodle, school, database_url, tmp_path):
    app = create_app({"DATABASE_URL": database_url, "WEBHOOK_SECRET": WEBHOOK_SECRET, "ADMIN_PASSWORD": ADMIN_PASSWORD,
                      "REFRESH_INTERVAL_SECONDS": 0})  # a receiver without Moodle stores the events
    events = lesson_events()
    Sender(app.test_client()).post_all(events)
    env = moodle_cli_env(tmp_path, database_url, moodle, school)
    # `report` reads the meeting first, so it is the command that indexes it: it queues it
    meeting_id = app.test_client().get("/v1/meetings", headers=basic_auth()).get_json()["meetings"][0]["id"]
    with app.extensions["storage"].write() as conn:  # as if no receiver had read it yet
        conn.execute(delete(meetings))
        conn.execute(update(rooms).values(dirty_from_ms=0))
    report = subprocess.run([CLI, "report", "--meeting", meeting_id], env=env, capture_output=True, text=True,
                            timeout=120)
    assert report.returncode == 0, report.stderr
    pending = subprocess.run([CLI, "moodle", "sync", "--dry-run", "--json"], env=env, capture_output=True, text=True,
                             timeout=120)
    assert [s["meeting"] for s in json.loads(pending.stdout)["syncs"]] == [meeting_id]
    app.extensions["storage"].close()


def test_a_meeting_indexed_again_while_its_sync_runs_is_synced_again(receiver, moodle, school):
    app, sync, clock = receiver
    events = lesson_events()
    Sender(app.test_client()).post_all(events)
    app.extensions["attendance"].refresh()
    late = Classroom("mat-1a_7_algebra", OPENED, instance=events[0]["source"]["instance"])
    late.join("carlos", 15, identity=stock_identity("cruiz")).leave("carlos", 70)
    real = sync._plan

    def plan_while_carlos_s_events_arrive(*args, **kwargs):
        planned = real(*args, **kwargs)  # measured before Carlos's events were in
        Sender(app.test_client()).post_all(late.events)
        app.extensions["attendance"].refresh()
        return planned

    sync._plan = plan_while_carlos_s_events_arrive
    [first] = sync.work_once()
    assert first.state == "queued" and moodle.taken(school["session"])[school["car"].id] == "A"
    sync._plan = real
    [second] = sync.work_once()
    assert second.state == "done" and moodle.taken(school["session"])[school["car"].id] == "P"


def test_the_retention_purge_takes_the_sync_records_and_the_audit_log_with_the_meeting(receiver, moodle, school):
    app, sync, clock = receiver
    meeting_id = finish_lesson(app)
    sync.work_once()
    assert len(sync.audit_log(meeting_id)) == 3 and sync.states(meeting_id)
    app.extensions["storage"].purge(dt.timedelta(days=1), now=dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=2))
    assert sync.audit_log() == [] and sync.states(meeting_id) == []
