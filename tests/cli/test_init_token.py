"""`jitsictl init` (flags for CI, prompts on a real terminal) and `jitsictl token`."""
from __future__ import annotations

import os
import sys

import jwt
import pytest

from jitsictl import config as config_mod
from jitsictl import secrets as secrets_mod
from jitsictl import token as token_mod
from jitsictl.config import ConfigError

from tests.support.terminal import on_a_terminal

from .conftest import ROOT, run_cli, write_project


def test_init_non_interactive_writes_config_and_private_secrets(tmp_path):
    result = run_cli("init", "--non-interactive", "--domain", "classes.example.org", "--xmpp", "prosody",
                     "--auth", "jwt", "--jwt-app-id", "moodle", "--jwt-issuer", "moodle",
                     "--claim", "courseid", "--claim", "cohort", "--letsencrypt-email", "ops@example.org",
                     "--jvb-advertise-ip", "203.0.113.9", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    config = config_mod.load(tmp_path / "jitsictl.yaml")
    assert config.domain == "classes.example.org" and config.auth.jwt.app_id == "moodle"
    assert config.attendance.claims == ["courseid", "cohort"]
    assert config.letsencrypt.enabled and (config.ports.http, config.ports.https) == (80, 443)
    assert config.jvb_advertise_ips == ["203.0.113.9"]
    secrets_path = tmp_path / secrets_mod.SECRETS_FILENAME
    assert os.stat(secrets_path).st_mode & 0o777 == 0o600
    values, _ = secrets_mod.read(secrets_path)
    assert "JWT_APP_SECRET" in values
    yaml_text = (tmp_path / "jitsictl.yaml").read_text()
    assert not any(value in yaml_text or value in result.stdout for value in values.values())


def test_init_refuses_to_overwrite_and_rejects_bad_flags(tmp_path):
    assert run_cli("init", "--non-interactive", cwd=tmp_path).returncode == 0
    again = run_cli("init", "--non-interactive", cwd=tmp_path)
    assert again.returncode == 2 and "--force" in again.stderr
    bad = run_cli("init", "--non-interactive", "--force", "--auth", "jwt", cwd=tmp_path)
    assert bad.returncode == 2
    assert "auth.jwt.app_id: required when auth.type is jwt" in bad.stderr
    assert "Traceback" not in bad.stderr


def _drive_pty(args, answers, cwd, timeout=30.0):
    """Run jitsictl on a real pseudo-terminal, answering each prompt when it appears."""
    return on_a_terminal([sys.executable, "-m", "jitsictl", *args], answers, cwd=cwd, timeout=timeout,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})


def _init_on_a_terminal(answers, tmp_path):
    """(the config written, what the terminal showed) after `jitsictl init` got these answers."""
    code, output = _drive_pty(["init"], answers, tmp_path)
    assert code == 0, output
    return config_mod.load(tmp_path / "jitsictl.yaml"), output


def test_init_prompts_on_a_terminal_for_missing_values(tmp_path):
    answers = [
        ("Public DNS name", "meet.school.example"),
        ("XMPP server", "openfire"),
        ("Authentication", "internal"),
        ("Let's Encrypt", ""),
        ("Time zone", "Europe/Berlin"),
        ("Public IP", "198.51.100.4"),
    ]
    config, _ = _init_on_a_terminal(answers, tmp_path)
    assert (config.domain, config.xmpp, config.auth.type, config.timezone) == (
        "meet.school.example", "openfire", "internal", "Europe/Berlin")
    assert config.jvb_advertise_ips == ["198.51.100.4"] and not config.letsencrypt.enabled


def test_init_asks_again_for_a_wrong_answer_and_keeps_the_earlier_ones(tmp_path):
    answers = [
        ("Public DNS name", "meet example"),  # refused: a space
        ("Public DNS name", "Meet.School.Example"),
        ("XMPP server", "OpenFire"),  # choices are case-insensitive
        ("Authentication (none or internal)", "JWT"),  # refused: Openfire cannot verify tokens
        ("Authentication (none or internal)", "Internal"),
        ("Let's Encrypt", "ops@school.example"),
        ("Time zone", "Mars/Olympus"),  # refused
        ("Time zone", "Europe/Berlin"),
        ("Public IP", "198.51.100.4, not-an-ip"),  # refused
        ("Public IP", "198.51.100.4"),
    ]
    config, output = _init_on_a_terminal(answers, tmp_path)
    assert (config.domain, config.xmpp, config.auth.type, config.timezone) == (
        "meet.school.example", "openfire", "internal", "Europe/Berlin")
    assert config.letsencrypt.email == "ops@school.example"
    assert config.jvb_advertise_ips == ["198.51.100.4"]
    assert "domain: 'meet example' is not a hostname" in output
    assert "auth.type: jwt is not available with xmpp: openfire" in output
    assert "timezone: 'Mars/Olympus' is not an IANA time zone" in output
    assert "jvb_advertise_ips[1]: 'not-an-ip' is not an IP address" in output
    assert output.count("Public DNS name") == 2 and output.count("XMPP server") == 1
    assert "guests" not in output  # no guests with Openfire


def test_init_asks_about_guests_for_internal_accounts_on_prosody(tmp_path):
    answers = [("Public DNS name", "meet.school.example"), ("XMPP server", "prosody"),
               ("Authentication (none, internal or jwt)", "internal"),
               ("without an account join as guests", "maybe"),
               ("without an account join as guests", "YES"),
               ("Let's Encrypt", ""), ("Time zone", "UTC"), ("Public IP", "")]
    config, output = _init_on_a_terminal(answers, tmp_path)
    assert config.auth.type == "internal" and config.auth.guests is True
    assert "auth.guests: 'maybe' is not yes or no" in output


def test_init_choices_given_as_flags_are_case_insensitive(tmp_path):
    result = run_cli("init", "--non-interactive", "--xmpp", "Prosody", "--auth", "JWT",
                     "--jwt-app-id", "moodle", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    config = config_mod.load(tmp_path / "jitsictl.yaml")
    assert (config.xmpp, config.auth.type) == ("prosody", "jwt")


def test_init_does_not_prompt_for_values_given_as_flags(tmp_path):
    code, output = _drive_pty(
        ["init", "--domain", "a.example.org", "--xmpp", "prosody", "--auth", "none", "--timezone", "UTC",
         "--jvb-advertise-ip", "192.0.2.1"],
        [("Let's Encrypt", "")], tmp_path)
    assert code == 0, output
    assert "Public DNS name" not in output and "XMPP server" not in output


# --- token ---------------------------------------------------------------------------------

JWT_PROJECT = {"domain": "meet.example.org",
               "auth": {"type": "jwt", "jwt": {"app_id": "moodle", "issuers": ["lms"], "audiences": ["jitsi"]}}}


def test_token_decodes_with_pyjwt_and_carries_the_claims(tmp_path):
    config_path = write_project(tmp_path, JWT_PROJECT)
    result = run_cli("token", "--room", "maths-3b", "--name", "Alice Martin", "--email", "alice@school.example",
                     "--group", "class-3b", "--claim", "courseid=MATH101", "--claim", "groupid=3B",
                     "--claim", "year=2025", "--moderator", "--ttl", "600", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    token = result.stdout.strip()
    assert result.stdout.count("\n") == 1 and token.count(".") == 2  # only the token
    secret = secrets_mod.read(secrets_mod.path_for(config_path))[0]["JWT_APP_SECRET"]
    claims = jwt.decode(token, secret, algorithms=["HS256"], audience="jitsi", issuer="lms")
    assert claims["sub"] == "meet.jitsi" and claims["room"] == "maths-3b"
    assert claims["context"]["user"]["name"] == "Alice Martin"
    assert claims["context"]["user"]["email"] == "alice@school.example"
    assert claims["context"]["user"]["moderator"] is True
    assert claims["context"]["user"]["id"].startswith("u-")
    assert claims["context"]["group"] == "class-3b"
    assert (claims["courseid"], claims["groupid"], claims["year"]) == ("MATH101", "3B", 2025)
    assert claims["exp"] - claims["iat"] == 600 and claims["nbf"] <= claims["iat"]
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, "another-secret-of-enough-length-000", algorithms=["HS256"], audience="jitsi")


def test_token_user_id_is_stable_per_email():
    config = config_mod.from_dict(JWT_PROJECT)
    secrets = {"JWT_APP_SECRET": "k" * 64}
    a = jwt.decode(token_mod.mint(config, secrets, room="r", name="A", email="x@y.org"), options={"verify_signature": False})
    b = jwt.decode(token_mod.mint(config, secrets, room="r", name="B", email="X@y.org "), options={"verify_signature": False})
    assert a["context"]["user"]["id"] == b["context"]["user"]["id"]


@pytest.mark.parametrize("pairs,fragment", [
    (["courseid"], "name=value"),
    (["room=x"], "set by jitsictl"),
    (["9bad=1"], "name=value"),
])
def test_token_rejects_bad_claims(pairs, fragment):
    with pytest.raises(ConfigError) as caught:
        token_mod.parse_claims(pairs)
    assert fragment in str(caught.value)


def test_token_needs_jwt_auth(tmp_path):
    write_project(tmp_path, {"domain": "meet.example.org"})
    result = run_cli("token", "--room", "r", "--name", "n", cwd=tmp_path)
    assert result.returncode == 2 and "auth.type" in result.stderr and "Traceback" not in result.stderr


def test_tokens_carry_the_teacher_mark_in_both_of_mod_jitsis_forms():
    """As Moodle mod_jitsi v4.3+ does, so the stack's token_moderators module (and anything that
    reads only one form) tells teachers from students."""
    config = config_mod.from_dict(JWT_PROJECT)
    secrets = {"JWT_APP_SECRET": "k" * 64}
    teacher = jwt.decode(token_mod.mint(config, secrets, room="r", name="T", moderator=True),
                         options={"verify_signature": False})
    student = jwt.decode(token_mod.mint(config, secrets, room="r", name="S"), options={"verify_signature": False})
    assert (teacher["moderator"], teacher["context"]["user"]["moderator"],
            teacher["context"]["user"]["affiliation"]) == (True, True, "owner")
    assert (student["moderator"], student["context"]["user"]["moderator"],
            student["context"]["user"]["affiliation"]) == (False, False, "member")
    with pytest.raises(ConfigError):
        token_mod.parse_claims(["moderator=true"])  # set by --moderator only


def test_up_without_a_config_asks_on_a_terminal_then_goes_on(tmp_path, monkeypatch):
    """On a terminal `up` asks what `init` would (here the engine is unreachable, so it stops
    after rendering, with Docker's error: the questions and the render are what is checked)."""
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")
    answers = [("Public DNS name", "meet.school.example"), ("Authentication", "none"),
               ("Let's Encrypt", ""), ("Time zone", "UTC"), ("Public IP", "")]
    code, output = _drive_pty(["up", "--xmpp", "openfire"], answers, tmp_path, timeout=60)
    assert "jitsictl.yaml does not exist yet: a few questions first" in output
    assert "XMPP server" not in output  # --xmpp answered it
    config = config_mod.load(tmp_path / "jitsictl.yaml")
    assert (config.domain, config.xmpp) == ("meet.school.example", "openfire")
    assert (tmp_path / "stack" / "docker-compose.yml").is_file()
    assert code == 2 and "The Docker engine is not reachable" in output
