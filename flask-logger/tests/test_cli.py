"""The operator's commands: db upgrade, purge (retention), report."""
from __future__ import annotations

import datetime as dt
import json
import subprocess

import pytest

from logger_helpers import CLI, server_env
from tests.support import vectors

NOW = dt.datetime.now(dt.timezone.utc)


def run_cli(database_url: str, tmp_path, *args) -> subprocess.CompletedProcess:
    env = server_env(tmp_path, ATTENDANCE_DATABASE_URL=database_url)
    return subprocess.run([CLI, *args], env=env, capture_output=True, text=True, timeout=120)


def lesson(days_ago: float, name="01-basic-lesson"):
    vector = vectors.load(vectors.VECTORS_DIR / f"{name}.json")
    events = vector.materialize(NOW - dt.timedelta(days=days_ago))
    for event in events:  # distinct ids per lesson: the same scenario is held twice
        event["id"] = event["id"][:-6] + f"{int(days_ago):06d}"
    return events


def test_db_upgrade_is_idempotent(database_url, tmp_path):
    for _ in range(2):
        result = run_cli(database_url, tmp_path, "db", "upgrade")
        assert result.returncode == 0, result.stderr
        assert "up to date" in result.stdout


def test_purge_deletes_only_what_is_older_than_the_retention(app, client, sender, auth, database_url, tmp_path):
    old, recent = lesson(400), lesson(2)
    sender.post_all(old)
    sender.post_all(recent)
    assert len(client.get("/v1/meetings", headers=auth).get_json()["meetings"]) == 2
    result = run_cli(database_url, tmp_path, "purge", "--older-than", "365d")
    assert result.returncode == 0, result.stderr
    assert f"purged {len(old)} events and 1 meetings" in result.stdout
    remaining = client.get("/v1/meetings", headers=auth).get_json()["meetings"]
    assert len(remaining) == 1
    assert remaining[0]["started_at"].startswith((NOW - dt.timedelta(days=2)).strftime("%Y-%m-%d"))
    assert app.extensions["storage"].counts()["events"] == len(recent)


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
@pytest.mark.parametrize("age", ["1y", "365", "-3d", "soon"])
def test_purge_explains_a_bad_age(database_url, tmp_path, age):
    result = run_cli(database_url, tmp_path, "purge", "--older-than", age)
    assert result.returncode == 2
    assert "e.g. 365d" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_report_prints_a_meeting_as_json_or_csv(app, client, sender, auth, database_url, tmp_path):
    sender.post_all(lesson(1))
    meeting_id = client.get("/v1/meetings", headers=auth).get_json()["meetings"][0]["id"]
    as_json = run_cli(database_url, tmp_path, "report", "--meeting", meeting_id)
    assert as_json.returncode == 0, as_json.stderr
    assert json.loads(as_json.stdout) == client.get(f"/v1/meetings/{meeting_id}/attendance", headers=auth).get_json()
    as_csv = run_cli(database_url, tmp_path, "report", "--meeting", meeting_id, "--csv")
    assert as_csv.returncode == 0, as_csv.stderr
    over_http = client.get(f"/v1/meetings/{meeting_id}/attendance.csv", headers=auth).get_data(as_text=True)
    assert as_csv.stdout.replace("\r\n", "\n") == over_http.replace("\r\n", "\n")
    unknown = run_cli(database_url, tmp_path, "report", "--meeting", "no-such-meeting")
    assert unknown.returncode == 2 and "no meeting with id 'no-such-meeting'" in unknown.stderr
