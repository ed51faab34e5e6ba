"""`jitsictl openfire plan|apply` end to end: a real jitsictl.yaml and secrets file (as `jitsictl init` writes them),
the seed openfire.xml exactly as `jitsictl render` writes it, and the fake REST API booted from
that seed (Openfire cannot run here; the fake is checked against the plugin's own Hurl tests in
test_fake_vs_hurl.py). One test runs the installed `jitsictl` executable in a subprocess."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from jitsictl import initconfig
from jitsictl import secrets as secrets_mod
from jitsictl.cli import app
from jitsictl.render import openfire_xml
from tests.openfire.fake_restapi import FakeOpenfire, FakeServer


@pytest.fixture
def stack_config(tmp_path):
    config_path = tmp_path / "jitsictl.yaml"
    result = initconfig.init(config_path, {"xmpp": "openfire", "domain": "meet.example.org"})
    secrets = secrets_mod.ensure(secrets_mod.path_for(config_path), result.config)
    return config_path, result.config, secrets


@pytest.fixture
def openfire_from_render(stack_config):
    _, config, secrets = stack_config
    fake = FakeOpenfire(openfire_xml(config, secrets).decode())
    with FakeServer(fake) as server:
        yield fake, server


def _invoke(*args: str):
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def test_plan_apply_apply(stack_config, openfire_from_render):
    config_path, config, secrets = stack_config
    fake, server = openfire_from_render
    common = ["--config", str(config_path), "--url", server.url]

    planned = _invoke("openfire", "plan", *common)
    assert planned.exit_code == 0, planned.output
    assert "+ create service internal-muc" in planned.output
    assert "+ create room jvbbrewery@internal-muc" in planned.output
    assert "to apply; run `jitsictl openfire apply`" in planned.output
    assert "internal-muc" not in fake.services  # plan is read-only

    applied = _invoke("openfire", "apply", *common, "--json")
    assert applied.exit_code == 0, applied.output
    body = json.loads(applied.output)
    assert body["applied"] is True and body["changes"]
    assert fake.properties["attendance.url"] == "http://logger:8080/v1/events"
    assert fake.properties["httpbind.CORS.domains"] == config.effective_public_url
    assert fake.users["focus"]["password"] == secrets.values["JICOFO_AUTH_PASSWORD"]

    again = _invoke("openfire", "apply", *common)
    assert again.exit_code == 0 and "no changes" in again.output
    assert _invoke("openfire", "plan", *common).output.strip() == "no changes"

    everything = planned.output + applied.output + again.output
    for name, value in secrets.values.items():
        assert value not in everything, f"{name} was printed"


def test_wrong_secret_is_one_readable_error_with_exit_code_2(stack_config, openfire_from_render):
    config_path, _, _ = stack_config
    _, server = openfire_from_render
    result = CliRunner().invoke(app, ["openfire", "plan", "--config", str(config_path), "--url", server.url,
                                      "--secret", "definitely-wrong-secret"])
    assert result.exit_code == 2
    output = result.output + (result.stderr if result.stderr_bytes is not None else "")
    assert "HTTP 401" in output and "hint:" in output and "Traceback" not in output
    assert "definitely-wrong-secret" not in output


def test_prosody_config_is_refused_clearly(tmp_path):
    config_path = tmp_path / "jitsictl.yaml"
    initconfig.init(config_path, {"xmpp": "prosody"})
    result = CliRunner().invoke(app, ["openfire", "plan", "--config", str(config_path)])
    assert result.exit_code == 2
    assert "xmpp: prosody" in result.output and "hint:" in result.output


def test_installed_command_against_unreachable_openfire(stack_config, tmp_path):
    """The real executable: connection refused gives a message and hint, exit code 2."""
    config_path, _, _ = stack_config
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    exe = Path(sys.executable).parent / "jitsictl"
    result = subprocess.run([str(exe), "openfire", "plan", "--config", str(config_path),
                             "--url", f"http://127.0.0.1:{port}"], capture_output=True, text=True, timeout=60,
                            env={**os.environ, "JITSICTL_OPENFIRE_SECRET": ""})
    assert result.returncode == 2, result.stdout + result.stderr
    assert "cannot connect" in result.stderr and "hint:" in result.stderr
    assert "Traceback" not in result.stderr


def test_rotated_rest_secret_is_installed_with_the_previous_one(stack_config, openfire_from_render):
    """After `jitsictl render --rotate-secrets`, Openfire still holds the old REST secret; the
    secrets file keeps it as PREVIOUS_OPENFIRE_RESTAPI_SECRET. Apply authenticates with it first
    (the real plugin logs every wrong key it is sent, at WARN), installs the new secret, and
    then drops the previous values from the file."""
    from jitsictl.openfire.configure import configure

    config_path, config, secrets = stack_config
    secrets_path = secrets_mod.path_for(config_path)
    fake, server = openfire_from_render
    configure(config, secrets.values, url=server.url, wait=0, secrets_path=secrets_path)
    rotated, _ = secrets_mod.rotate(secrets_path, config)
    assert rotated.values["PREVIOUS_OPENFIRE_RESTAPI_SECRET"] == secrets.values["OPENFIRE_RESTAPI_SECRET"]

    planned = configure(config, rotated.values, url=server.url, wait=0, dry_run=True,
                        secrets_path=secrets_path)
    assert "update property plugin.restapi.secret: (secret changed)" in [str(c) for c in planned]
    assert "PREVIOUS_OPENFIRE_RESTAPI_SECRET" in secrets_mod.read(secrets_path)[0]  # plan keeps it
    configure(config, rotated.values, url=server.url, wait=0, secrets_path=secrets_path)
    assert fake.wrong_secrets == 0  # the new secret was never sent while Openfire held the old
    assert fake.properties["plugin.restapi.secret"] == rotated.values["OPENFIRE_RESTAPI_SECRET"]
    assert fake.users["focus"]["password"] == rotated.values["JICOFO_AUTH_PASSWORD"]
    left, _ = secrets_mod.read(secrets_path)
    assert not any(name.startswith("PREVIOUS_") for name in left)
    assert left["OPENFIRE_RESTAPI_SECRET"] == rotated.values["OPENFIRE_RESTAPI_SECRET"]
    assert configure(config, left, url=server.url, wait=0, secrets_path=secrets_path) == []
    assert fake.wrong_secrets == 0


def test_stale_previous_secret_is_tried_once_then_forgotten(stack_config, openfire_from_render):
    """Openfire already holds the new secret (an earlier apply was interrupted after installing
    it): the previous one is refused once, the current one works, and the previous is dropped."""
    from jitsictl.openfire.configure import configure

    config_path, config, secrets = stack_config
    secrets_path = secrets_mod.path_for(config_path)
    fake, server = openfire_from_render
    rotated, _ = secrets_mod.rotate(secrets_path, config)
    fake.properties["plugin.restapi.secret"] = rotated.values["OPENFIRE_RESTAPI_SECRET"]
    configure(config, rotated.values, url=server.url, wait=0, secrets_path=secrets_path)
    assert fake.wrong_secrets == 1
    values, _ = secrets_mod.read(secrets_path)
    configure(config, values, url=server.url, wait=0, secrets_path=secrets_path)
    assert fake.wrong_secrets == 1


def test_default_url_failure_explains_how_to_reach_the_container(stack_config, monkeypatch):
    import socket

    from jitsictl.openfire import configure as configure_mod

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setattr(configure_mod, "DEFAULT_URL", f"http://127.0.0.1:{port}")
    monkeypatch.delenv("JITSICTL_OPENFIRE_URL", raising=False)
    config_path, _, _ = stack_config
    result = CliRunner().invoke(app, ["openfire", "plan", "--config", str(config_path)])
    assert result.exit_code == 2
    assert "--url http://<openfire container IP>:9090" in result.output
