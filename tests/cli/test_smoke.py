"""`jitsictl smoke` against the REAL Prosody test environment and the REAL attendance receiver.

- XMPP: Debian's Prosody started by tests/support/prosody_server.py, laid out like
  docker-jitsi-meet's, with the project's prosody-plugin/mod_presence_logger.lua on its MUC
  component (tests/prosody/environment.py `AttendanceStack`). Jitsi's own Prosody modules and jicofo
  cannot run here, so two TEST-ONLY stand-ins from tests/prosody/modules play their part:
  `mod_auth_test_jwt` verifies the `?token=` JWT as Jitsi's mod_auth_token does, and
  `mod_test_focus` answers the web client's conference request as jicofo does (ready='true').
- Receiver: flask-logger's `attendance-logger serve` as a subprocess on SQLite (same stack).
- jitsictl: the real CLI in a subprocess, with a jitsictl.yaml (auth jwt) whose secrets are the
  ones Prosody verifies tokens with and the receiver checks signatures and logins with; `--url`
  and `--attendance-url` point it at these servers instead of a compose stack.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from jitsictl import secrets as secrets_mod
from jitsictl import smoke
from tests.prosody.environment import AttendanceStack
from tests.prosody.receivers import new_webhook_secret
from tests.support.prosody_server import free_port

pytestmark = pytest.mark.slow


def jitsictl(*args: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "jitsictl", *args], cwd=cwd, env=dict(os.environ),
                          capture_output=True, text=True, timeout=timeout)


class Site:
    """The AttendanceStack (real receiver + Prosody with the module) and a jitsictl.yaml (auth
    jwt) whose secrets file holds that environment's JWT secret and receiver admin password."""

    def __init__(self, root: Path, *, auth: str = "jwt", module_secret: str | None = None,
                 **stack_options) -> None:
        self.root = root
        self.stack = AttendanceStack(root / "environment", **stack_options)
        if module_secret:  # the module signs with a secret the receiver does not know
            self.prosody.muc_options["presence_logger_secret"] = module_secret
        if auth == "none":  # anonymous logins, as docker-jitsi-meet's ENABLE_AUTH=0
            self.prosody.global_options["test_jwt_allow_empty_token"] = True
        result = jitsictl("init", "--non-interactive", "--auth", auth,
                          *(["--jwt-app-id", self.prosody.jwt_app_id] if auth == "jwt" else []),
                          cwd=root)
        assert result.returncode == 0, result.stderr
        secrets_path = secrets_mod.path_for(root / "jitsictl.yaml")
        values, _ = secrets_mod.read(secrets_path)
        values.update(JWT_APP_SECRET=self.prosody.jwt_secret,
                      ATTENDANCE_WEBHOOK_SECRET=self.receiver.secret,
                      ATTENDANCE_ADMIN_PASSWORD=self.receiver.admin_password)
        secrets_mod.write(secrets_path, values)

    @property
    def prosody(self):
        return self.stack.prosody

    @property
    def receiver(self):
        return self.stack.receiver

    def __enter__(self) -> "Site":
        self.stack.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stack.stop()

    def smoke(self, *args: str) -> subprocess.CompletedProcess:
        return jitsictl("smoke", "--url", self.prosody.websocket_url(),
                        "--attendance-url", self.receiver.base_url, "--hold", "2", *args,
                        cwd=self.root)


def test_smoke_passes_when_attendance_matches_what_was_done(tmp_path):
    with Site(tmp_path) as site:
        result = site.smoke("--participants", "3", "--room", "Smoke-Check", "--json")
        assert result.returncode == 0, result.stdout + result.stderr + site.prosody.recent_log()
        report = json.loads(result.stdout)
        assert report["ok"] and report["problems"] == []
        assert report["room"] == "smoke-check"
        attendance = report["attendance"]
        assert attendance["ended_at"] and attendance["room"] == "smoke-check"
        by_name = {p["name"]: p for p in attendance["participants"]}
        assert set(by_name) == {"Smoke Tester 1", "Smoke Tester 2", "Smoke Tester 3"}
        assert by_name["Smoke Tester 1"]["names"] == ["Smoke Tester 1", "Smoke Tester 1 (renamed)"]
        assert by_name["Smoke Tester 2"]["claims"] == {"courseid": "smoke-courseid",
                                                       "groupid": "smoke-groupid"}
        # The receiver's figures come from Prosody's events, independent of the client's clock.
        assert all(2.0 <= p["present_seconds"] < 8 for p in attendance["participants"])
        # What the receiver stored came through the real module: joins, a rename, leaves.
        types = [e["type"] for e in site.receiver.events() if e.get("room", {}).get("name") == "smoke-check"]
        assert types.count("occupant.joined") == 3 and types.count("occupant.left") == 3
        assert "occupant.renamed" in types and "room.destroyed" in types

        # The site's URL works too (http -> ws, /xmpp-websocket added).
        text = jitsictl("smoke", "--url", f"http://127.0.0.1:{site.prosody.http_port}",
                        "--attendance-url", site.receiver.base_url, "--hold", "1",
                        "--participants", "2", cwd=tmp_path)
        assert text.returncode == 0, text.stdout + text.stderr
        assert "smoke passed: meeting" in text.stdout and "2 participants" in text.stdout


def test_smoke_with_anonymous_participants_matches_them_by_name(tmp_path):
    """auth none (jitsictl's default): no tokens, so no ids; the names identify participants."""
    with Site(tmp_path, auth="none") as site:
        result = site.smoke("--participants", "2", "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    people = report["attendance"]["participants"]
    assert sorted(p["name"] for p in people) == ["Smoke Tester 1 (renamed)", "Smoke Tester 2"]
    assert all(p["user_id"] is None and p["email"] is None for p in people)


def test_smoke_fails_with_a_diff_when_claims_do_not_reach_the_receiver(tmp_path):
    """The module and receiver keep only courseid while jitsictl.yaml expects groupid too."""
    with Site(tmp_path, settings={"claims": ["courseid"]}) as site:
        result = site.smoke("--participants", "2")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "smoke FAILED: the receiver's attendance for room jitsictl-smoke-" in result.stdout
    lines = [line.strip() for line in result.stdout.splitlines()]
    groupid = [line for line in lines if "claim groupid is None, expected 'smoke-groupid'" in line]
    assert len(groupid) == 2, result.stdout
    assert not any("courseid" in line for line in lines), result.stdout
    assert "Traceback" not in result.stderr


def test_smoke_fails_when_the_receiver_gets_no_events(tmp_path):
    """Prosody signs with a different webhook secret: the receiver rejects every delivery."""
    with Site(tmp_path, module_secret=new_webhook_secret()) as site:
        result = site.smoke("--participants", "2", "--timeout", "4", "--json")
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    assert report["ok"] is False and report["meeting"] is None
    assert len(report["problems"]) == 1
    assert "no meeting of room" in report["problems"][0]
    assert "'Smoke Tester 1'" in report["problems"][0] and "'Smoke Tester 2'" in report["problems"][0]


def test_smoke_cannot_run_says_why(tmp_path):
    with Site(tmp_path) as site:
        closed = f"http://127.0.0.1:{free_port()}"
        unreachable = jitsictl("smoke", "--url", site.prosody.websocket_url(),
                               "--attendance-url", closed, cwd=tmp_path)
        bad_login = jitsictl("smoke", "--url", site.prosody.websocket_url(), "--attendance-url",
                             site.receiver.base_url, "--room", "a room!", cwd=tmp_path)
        no_xmpp = jitsictl("smoke", "--url", f"ws://127.0.0.1:{free_port()}/xmpp-websocket",
                           "--attendance-url", site.receiver.base_url, cwd=tmp_path)
    for result in (unreachable, bad_login, no_xmpp):
        assert result.returncode == 2, result.stderr
        assert "Traceback" not in result.stderr and "hint:" in result.stderr
    assert f"cannot reach the attendance receiver at {closed}" in unreachable.stderr
    assert "is not a room name Jitsi accepts" in bad_login.stderr
    assert "synthetic participant failed: cannot connect to ws://127.0.0.1:" in no_xmpp.stderr


# The comparison on its own (a pure function): what each kind of difference reads like.

def plan() -> smoke.SmokePlan:
    return smoke.SmokePlan(websocket_url="ws://x/xmpp-websocket", attendance_url="http://x",
                           admin_password="-", room="r", claims={"courseid": "c"},
                           mint=lambda **_: "token")


def person(name: str, user_id: str, seconds: float = 10.0, renamed_to=None) -> smoke.Participant:
    return smoke.Participant(name=name, user_id=user_id, email=f"{user_id}@example.invalid",
                             renamed_to=renamed_to, seconds=seconds)


def reported(p: smoke.Participant, **changes) -> dict:
    entry = {"name": p.name, "names": p.names, "user_id": p.user_id, "email": p.email,
             "claims": {"courseid": "c"}, "present_seconds": p.seconds}
    entry.update(changes)
    return entry


def test_compare_lists_each_difference():
    alice = person("Alice", "u1", renamed_to="Alice M")
    bob = person("Bob", "u2", seconds=20.0)
    attendance = {"ended_at": "2026-01-01T00:00:00.000Z", "participants": [
        reported(alice, names=["Alice"], claims={}),
        reported(bob, present_seconds=12.0),
        {"name": "focus", "names": ["focus"], "user_id": None, "present_seconds": 30},
    ]}
    problems = smoke.compare(plan(), [alice, bob], attendance)
    assert problems == [
        "~ 'Alice' (u1): display name 'Alice M' missing (receiver has ['Alice'])",
        "~ 'Alice' (u1): claim courseid is None, expected 'c'",
        "~ 'Bob' (u2): present 12 s, but was in the room 20 s (tolerance 4 s)",
        "+ unexpected participant 'focus' (user_id None, names ['focus'])",
    ]


def test_compare_accepts_a_match_within_tolerance_and_flags_a_running_meeting():
    alice = person("Alice", "u1", seconds=10.0)
    ended = {"ended_at": "2026-01-01T00:00:00.000Z",
             "participants": [reported(alice, present_seconds=11.5)]}
    assert smoke.compare(plan(), [alice], ended) == []
    running = {"ended_at": None, "participants": []}
    assert smoke.compare(plan(), [alice], running) == [
        "the meeting has not ended although every participant left (no room.destroyed event "
        "received)", "- 'Alice' (u1): missing from the receiver's attendance"]


def test_the_site_url_is_accepted_for_the_websocket_url():
    assert smoke.websocket_url("https://meet.example.org") == "wss://meet.example.org/xmpp-websocket"
    assert smoke.websocket_url("http://127.0.0.1:8000/") == "ws://127.0.0.1:8000/xmpp-websocket"
    assert smoke.websocket_url("ws://h:1/xmpp-websocket?room=x") == "ws://h:1/xmpp-websocket"
