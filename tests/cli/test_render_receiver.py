"""The rendered `logger` service against the real attendance receiver (flask-logger).

The receiver's image cannot be built here (no registry for its base image), so its application
runs in-process with exactly the environment the real `docker compose config` resolves for the
`logger` service (only the SQLite path moves from the container's /data volume to a temp dir).
A source.started event signed with the rendered webhook secret must be accepted at the URL the
XMPP plugins are given.
"""
from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from urllib.parse import urlsplit

from jitsictl import config as config_mod
from jitsictl import render as render_mod
from jitsictl import secrets as secrets_mod

from .conftest import ROOT, VARIANTS, compose_config, write_project


def rendered_logger_environment(tmp_path) -> dict[str, str]:
    config_path = write_project(tmp_path / "project", VARIANTS["prosody-jwt"], fixed_secrets=False)
    config = config_mod.load(config_path)
    secrets = secrets_mod.ensure(secrets_mod.path_for(config_path), config)
    out = render_mod.render(config, secrets, tmp_path / "project" / "stack").out_dir
    logger = compose_config(out)["services"]["logger"]
    assert logger["ports"][0]["target"] == render_mod.LOGGER_PORT
    return logger["environment"]


def test_receiver_starts_with_the_rendered_environment_and_accepts_signed_events(tmp_path, monkeypatch):
    from attendance_logger import create_app
    from standardwebhooks import Webhook

    environment = rendered_logger_environment(tmp_path)
    assert environment["ATTENDANCE_DATABASE_URL"] == "sqlite:////data/attendance.db"
    environment["ATTENDANCE_DATABASE_URL"] = f"sqlite:///{tmp_path / 'attendance.db'}"
    for name, value in environment.items():
        monkeypatch.setenv(name, value)

    app = create_app()
    settings = app.extensions["attendance"].settings
    thresholds = VARIANTS["prosody-jwt"]["attendance"]["thresholds"]
    for name, value in thresholds.items():  # same names, same whole numbers
        assert getattr(settings, name) == value
    assert list(settings.claims) == VARIANTS["prosody-jwt"]["attendance"]["claims"]
    # Local times and claim headings on the dashboard and in exports, from jitsictl.yaml.
    assert app.extensions["timezone"].key == VARIANTS["prosody-jwt"]["timezone"]
    assert app.extensions["claim_labels"] == VARIANTS["prosody-jwt"]["attendance"]["claim_labels"]
    assert app.config["ADMIN_PASSWORD"] == environment["ATTENDANCE_ADMIN_PASSWORD"]

    client = app.test_client()
    assert client.get("/healthz").status_code == 200
    now = dt.datetime.now(dt.timezone.utc)
    event = {"id": str(uuid.uuid4()), "type": "source.started",
             "time": now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z",
             "source": {"server": "prosody", "host": "muc.meet.jitsi", "instance": "c1-render-test-0001"}}
    body = json.dumps({"events": [event]})
    msg_id = "msg_" + uuid.uuid4().hex
    headers = {"content-type": "application/json", "webhook-id": msg_id,
               "webhook-timestamp": str(int(now.timestamp())),
               "webhook-signature": Webhook(environment["ATTENDANCE_WEBHOOK_SECRET"]).sign(msg_id, now, body)}
    path = urlsplit(render_mod.LOGGER_EVENTS_URL).path  # what the XMPP plugins are configured with
    answer = client.post(path, data=body, headers=headers)
    assert 200 <= answer.status_code < 300, answer.get_data(as_text=True)
    forged = client.post(path, data=body, headers={**headers, "webhook-id": "msg_other"})
    assert forged.status_code == 401


def test_logger_port_matches_the_receiver_image():
    dockerfile = (ROOT / "compose" / "logger" / "Dockerfile").read_text()
    assert re.search(rf"^EXPOSE {render_mod.LOGGER_PORT}$", dockerfile, re.M)
    assert re.search(rf"ATTENDANCE_PORT={render_mod.LOGGER_PORT}\b", dockerfile)
    uid = re.search(r"--uid (\d+)", dockerfile)
    assert uid and int(uid.group(1)) == render_mod.LOGGER_UID  # owner of config/storage/logger
