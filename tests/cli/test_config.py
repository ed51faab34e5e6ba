"""jitsictl.yaml: every validation error names the key path and a fix; the CLI prints it as one
line with exit code 2 and no traceback."""
from __future__ import annotations

import copy

import pytest

from jitsictl import config as config_mod
from jitsictl.config import ConfigError

from .conftest import VARIANTS, assert_golden, run_cli

BASE = {"domain": "meet.example.org"}

# (change to BASE, expected key path, a word the fix must contain)
INVALID = [
    ({"domain": "Meet Example"}, "domain", "DNS name"),
    ({"domain": "-bad-.example"}, "domain", "DNS name"),
    ({"public_url": "ftp://meet.example.org"}, "public_url", "https://"),
    ({"public_url": "https://meet.example.org/room"}, "public_url", "scheme"),
    ({"xmpp": "ejabberd"}, "xmpp", "prosody or openfire"),
    ({"timezone": "Mars/Olympus"}, "timezone", "Europe/Paris"),
    ({"jvb_advertise_ips": ["my.host"]}, "jvb_advertise_ips[0]", "203.0.113.7"),
    ({"jvb_advertise_ips": ["10.0.0.1", "10.0.0.2#70000"]}, "jvb_advertise_ips[1]", "1-65535"),
    ({"images": {"repository": "Not An Image"}}, "images.repository", "ghcr.io/jitsi"),
    ({"images": {"version": "bad tag!"}}, "images.version", "stable-11146-2"),
    ({"images": {"openfire": "UPPER:case"}}, "images.openfire", "openfire:v5"),
    ({"auth": {"type": "ldap"}}, "auth.type", "none, internal or jwt"),
    ({"auth": {"type": "jwt"}}, "auth.jwt.app_id", "--jwt-app-id"),
    ({"auth": {"type": "jwt", "jwt": {"app_id": "a b"}}}, "auth.jwt.app_id", "letters"),
    ({"auth": {"type": "jwt", "jwt": {"app_id": "app", "issuers": ["a,b"]}}}, "auth.jwt.issuers[0]", "commas"),
    ({"xmpp": "openfire", "auth": {"type": "jwt", "jwt": {"app_id": "app"}}}, "auth.type", "xmpp: prosody"),
    ({"ports": {"http": 0}}, "ports.http", "1-65535"),
    ({"ports": {"https": 8000}}, "ports.https", "own number"),
    ({"ports": {"attendance": 8443}}, "ports.attendance", "own number"),
    ({"ports": {"jvb_udp": 70000}}, "ports.jvb_udp", "1-65535"),
    ({"ports": {"http": "eighty"}}, "ports.http", "whole number"),
    ({"letsencrypt": {"enabled": True}}, "letsencrypt.email", "--letsencrypt-email"),
    ({"letsencrypt": {"enabled": True, "email": "a@example.org"}}, "ports.http", "ports.http: 80"),
    ({"domain": "localhost", "ports": {"http": 80},
      "letsencrypt": {"enabled": True, "email": "a@example.org"}}, "letsencrypt.domain", "public DNS name"),
    ({"letsencrypt": {"enabled": "yes"}}, "letsencrypt.enabled", "true or false"),
    ({"attendance": {"claims": ["course id"]}}, "attendance.claims[0]", "courseid"),
    ({"attendance": {"claims": ["a", "a"]}}, "attendance.claims", "duplicate"),
    ({"attendance": {"claim_labels": {"cohort": "Cohort"}}}, "attendance.claim_labels.cohort", "add the claim"),
    ({"attendance": {"claim_labels": {"courseid": "Course, Group"}}}, "attendance.claim_labels.courseid", "without ','"),
    ({"attendance": {"claim_labels": ["Course"]}}, "attendance.claim_labels", "{courseid: Course}"),
    ({"attendance": {"database_url": "mysql://x/y"}}, "attendance.database_url", "postgresql"),
    ({"attendance": {"thresholds": {"late_after_seconds": -1}}}, "attendance.thresholds.late_after_seconds", "0 or more"),
    ({"attendance": {"thresholds": {"present_min_percent": 120}}}, "attendance.thresholds.present_min_percent", "between 0 and 100"),
    ({"attendance": {"thresholds": {"present_min_percent": 20, "partial_min_percent": 30}}},
     "attendance.thresholds.partial_min_percent", "present_min_percent"),
    ({"auth": {"typ": "jwt"}}, "auth.typ", "did you mean auth.type"),
    ({"jwt_secret": "x"}, "jwt_secret", "jitsictl.secrets.yaml"),
    ({"ports": 8000}, "ports", "mapping"),
    ({"openfire": {"max_room_occupants": -1}}, "openfire.max_room_occupants", "0 for no limit"),
    ({"openfire": {"max_room_occupants": 100_001}}, "openfire.max_room_occupants", "up to 100000"),
    ({"openfire": {"max_room_occupants": "lots"}}, "openfire.max_room_occupants", "whole number"),
]


def merge(base: dict, change: dict) -> dict:
    out = copy.deepcopy(base)
    for key, value in change.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


@pytest.mark.parametrize("change,key,fix", INVALID, ids=[f"{k}-{i}" for i, (_, k, _) in enumerate(INVALID)])
def test_invalid_config_names_key_and_fix(change, key, fix):
    with pytest.raises(ConfigError) as caught:
        config_mod.from_dict(merge(BASE, change))
    assert caught.value.key == key
    assert str(caught.value).startswith(f"{key}: ")
    assert fix in str(caught.value)


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_written_yaml_reads_back_equal(variant, tmp_path):
    config = config_mod.from_dict(VARIANTS[variant])
    path = tmp_path / "jitsictl.yaml"
    config_mod.write(config, path)
    assert config_mod.load(path) == config
    assert path.read_text().count("\n# ") >= 3  # commented for humans


def test_commented_yaml_matches_golden():
    """The file users read and edit: review its comments like code."""
    assert_golden("jitsictl.yaml", config_mod.to_yaml(config_mod.from_dict(VARIANTS["prosody-jwt"])))


def test_defaults_follow_the_documented_pins():
    config = config_mod.from_dict({})
    assert (config.images.repository, config.images.version) == ("ghcr.io/jitsi", "stable-11146-2")
    assert config.images.openfire == "ghcr.io/igniterealtime/openfire:v5.0.3"
    assert (config.ports.http, config.ports.https, config.ports.jvb_udp) == (8000, 8443, 10000)
    assert config.attendance.claims == ["courseid", "groupid"]
    assert config.attendance.database_url.startswith("sqlite:////data/")
    assert config.effective_public_url == "https://localhost:8443"
    assert config.openfire.max_room_occupants == 500  # Openfire's own 30 is too small for a class
    assert config_mod.from_dict({"openfire": {"max_room_occupants": 0}}).openfire.max_room_occupants == 0


def test_retired_restapi_checksum_key_is_ignored_with_a_warning(tmp_path):
    """Config files written before the Openfire image built the REST API plugin from source
    still load; the retired key is named, said to be ignored, and dropped on the next write."""
    path = tmp_path / "jitsictl.yaml"
    path.write_text('domain: meet.example.org\nxmpp: openfire\nimages:\n'
                    '  openfire_restapi_sha256: "' + "ab" * 32 + '"\n')
    result = run_cli("render", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert ("warning: images.openfire_restapi_sha256 is no longer used and is ignored"
            in result.stderr)
    assert "remove it from jitsictl.yaml" in result.stderr
    assert "openfire_restapi_sha256" not in config_mod.to_yaml(config_mod.load(path))


@pytest.mark.parametrize("url,fix", [
    ("mysql://user:hunter2@db/x", "postgresql"),
    ("postgresql+psycopg://user:hunter2@db/x", "ATTENDANCE_DATABASE_URL"),
])
def test_database_url_password_is_refused_and_not_echoed(url, fix):
    with pytest.raises(ConfigError) as caught:
        config_mod.from_dict({"attendance": {"database_url": url}})
    assert caught.value.key == "attendance.database_url" and fix in str(caught.value)
    assert "hunter2" not in str(caught.value)


def test_cli_prints_config_error_as_one_line_exit_2(tmp_path):
    (tmp_path / "jitsictl.yaml").write_text("domain: meet.example.org\nauth:\n  type: jwt\n")
    result = run_cli("render", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: auth.jwt.app_id: required when auth.type is jwt — set it with --jwt-app-id or in jitsictl.yaml"
    ]
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("text,expected", [
    ("domain: [unclosed\n", "not valid YAML at line"),
    ("- a\n- b\n", "must hold a mapping"),
])
def test_cli_reports_broken_yaml(tmp_path, text, expected):
    (tmp_path / "jitsictl.yaml").write_text(text)
    result = run_cli("render", cwd=tmp_path)
    assert result.returncode == 2 and expected in result.stderr and "Traceback" not in result.stderr


def test_cli_missing_config_says_run_init(tmp_path):
    result = run_cli("render", cwd=tmp_path)
    assert result.returncode == 2
    assert "jitsictl init" in result.stderr and "Traceback" not in result.stderr
