"""What an operator or a failing disk does to the receiver: rows deleted by hand, retention,
logs read by others, a database that is read-only for a while."""
from __future__ import annotations

import datetime as dt
import logging
import os
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

from sqlalchemy import delete, func, select

from attendance_logger.tables import events, meetings
from logger_helpers import CLI, RunningServer, basic_auth, http, refuse_inserts, server_env, wait_until
from tests.support import vectors

NOW = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)


def source_started(instance: str, when: dt.datetime) -> dict:
    return {"id": str(uuid.uuid4()), "type": "source.started", "time": vectors.format_time(when),
            "source": {"server": "prosody", "host": "muc.meet.jitsi", "instance": instance}}


def test_events_deleted_by_hand_leave_no_instance_that_breaks_new_ones(app, sender):
    """An operator deleting a server's events by hand left its `instances` row behind, and every
    new instance of that server was then answered 500."""
    lesson = vectors.load(vectors.VECTORS_DIR / "01-basic-lesson.json").materialize(NOW - dt.timedelta(hours=3))
    sender.post_all(lesson)
    with app.extensions["storage"].write() as conn:
        conn.execute(delete(events))
    answer = sender.post(source_started("restarted-instance-2", NOW - dt.timedelta(hours=1)))
    assert answer.status_code == 200, answer.get_data(as_text=True)
    later = vectors.load(vectors.VECTORS_DIR / "01-basic-lesson.json").materialize(NOW - dt.timedelta(minutes=90))
    for item in later:
        item["id"] = str(uuid.uuid4())
        item["source"] = dict(item["source"], instance="restarted-instance-3")
    sender.post_all(later)


def never_closed_lesson(days_ago: int) -> list[dict]:
    lesson = vectors.load(vectors.VECTORS_DIR / "01-basic-lesson.json").materialize(NOW - dt.timedelta(days=days_ago))
    return [item for item in lesson if item["type"] in ("source.started", "room.created", "occupant.joined")]


def test_purge_removes_meetings_that_never_closed(app, client, sender, database_url, tmp_path):
    """A meeting whose room.destroyed never came (the server died for good) was kept for ever,
    names and e-mails with it, shown as running."""
    sender.post_all(never_closed_lesson(400))
    running, = client.get("/v1/meetings", headers=basic_auth()).get_json()["meetings"]
    assert running["ended_at"] is None
    env = server_env(tmp_path, ATTENDANCE_DATABASE_URL=database_url)
    result = subprocess.run([CLI, "purge", "--older-than", "365d"], env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    with app.extensions["storage"].read() as conn:
        assert conn.execute(select(func.count()).select_from(meetings)).scalar() == 0
        assert conn.execute(select(func.count()).select_from(events)).scalar() == 0
    assert client.get("/v1/meetings", headers=basic_auth()).get_json()["meetings"] == []


def test_purge_keeps_a_meeting_still_going_on(app, client, sender, database_url, tmp_path):
    """A room open since before the retention limit, with people in it lately, is not stale."""
    lesson = never_closed_lesson(400)
    late_join = dict(lesson[-1], id=str(uuid.uuid4()), time=vectors.format_time(NOW - dt.timedelta(days=1)))
    late_join["occupant"] = dict(late_join["occupant"], occupant_jid=late_join["occupant"]["occupant_jid"] + "-late")
    sender.post_all(lesson + [late_join])
    env = server_env(tmp_path, ATTENDANCE_DATABASE_URL=database_url)
    subprocess.run([CLI, "purge", "--older-than", "365d"], env=env, check=True, capture_output=True, timeout=120)
    assert len(client.get("/v1/meetings", headers=basic_auth()).get_json()["meetings"]) == 1


def test_logs_carry_no_personal_data_or_sql_parameters(app, client, sender, caplog):
    """A failing statement's traceback quoted its parameters: names, e-mails, presence JSON."""
    refuse_inserts(app.extensions["storage"], "meetings")
    lesson = vectors.load(vectors.VECTORS_DIR / "01-basic-lesson.json").materialize(NOW - dt.timedelta(hours=3))
    with caplog.at_level(logging.DEBUG):
        sender.post_all(lesson)
        assert client.get("/v1/meetings", headers=basic_auth()).status_code == 503
        try:  # the background refresher's way of failing
            app.extensions["attendance"].refresh(budget_seconds=None)
        except Exception:  # noqa: BLE001 - only what was logged matters here
            logging.getLogger("attendance_logger").exception("refresh failed")
    logged = caplog.text
    assert "refused by test" in logged or "database error" in logged  # the failure was logged
    for item in lesson:
        identity = item.get("identity") or {}
        for value in (identity.get("name"), identity.get("email"), (item.get("occupant") or {}).get("nick")):
            assert not value or value not in logged, value


def make_read_only(path: Path, read_only: bool) -> None:
    """The database file read-only, for every user: as root, the immutable attribute (root
    writes to a file whatever its mode); otherwise, its mode."""
    if os.geteuid() == 0:
        subprocess.run(["chattr", "+i" if read_only else "-i", str(path)], check=True, capture_output=True)
    else:
        os.chmod(path, 0o444 if read_only else 0o644)


@pytest.mark.slow
def test_sqlite_read_only_then_writable_recovers_without_restart(tmp_path):
    """The database file read-only at start: deliveries 503 and /healthz 503 (it writes: it said
    200 before); writable again: deliveries go through without a restart (they stayed 503 for a
    minute and more: the pooled connections had opened the file read-only)."""
    if os.geteuid() == 0 and shutil.which("chattr") is None:
        pytest.skip("chattr (e2fsprogs) is needed to make a file read-only for root")
    database = tmp_path / "attendance.db"
    env = server_env(tmp_path, ATTENDANCE_DATABASE_URL=f"sqlite:///{database}")
    subprocess.run([CLI, "db", "upgrade"], env=env, check=True, capture_output=True, timeout=60)
    make_read_only(database, True)
    server = None
    try:
        server = RunningServer("gunicorn-default", tmp_path, ATTENDANCE_DATABASE_URL=f"sqlite:///{database}")
        event = source_started("read-only-test-1", NOW)
        assert server.post_events(event)[0] == 503
        assert http(server.url + "/healthz")[0] == 503
        make_read_only(database, False)
        assert wait_until(lambda: http(server.url + "/healthz")[0] == 200, timeout=10), server.logs()
        assert server.post_events(event)[0] == 200
        assert http(server.url + "/v1/meetings", headers=basic_auth())[0] == 200
    finally:
        make_read_only(database, False)
        if server is not None:
            server.stop()
