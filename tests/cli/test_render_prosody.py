"""The rendered Prosody side, loaded by a real Prosody (Debian's, via tests/support/prosody_server).

docker-jitsi-meet's image cannot run here, so this reproduces what its template does with the
rendered environment (stable-11146-2 `prosody/rootfs/defaults/conf.d/jitsi-meet.cfg.lua`): the
module list from XMPP_MUC_MODULES goes into the MUC component's `modules_enabled`, and
XMPP_MUC_CONFIGURATION is split on commas into lines of that component. The values are the ones
the real `docker compose config` resolves from the rendered project (secret included); the plugin
directory is the rendered `prosody-plugins-custom`. Only the receiver's address differs: the
compose-network name `logger:8080` becomes a local receiver that verifies every signature with
the reference Standard Webhooks library.
"""
from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from jitsictl import render as render_mod
from jitsictl import secrets as secrets_mod
from tests.prosody.receivers import CaptureReceiver
from tests.support.prosody_server import PROSODY, ProsodyServer

from .conftest import VARIANTS, compose_config, run_cli, write_project

MUC_HEADER = 'Component "muc.meet.jitsi" "muc"\n'


class RenderedMucProsody(ProsodyServer):
    """ProsodyServer with raw option lines in the MUC component, as docker-jitsi-meet writes them."""

    def __init__(self, *args, muc_lines: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.muc_lines = muc_lines

    def write_config(self) -> None:
        super().write_config()
        text = self.config_path.read_text(encoding="utf-8")
        assert MUC_HEADER in text
        self.config_path.write_text(
            text.replace(MUC_HEADER, MUC_HEADER + "".join(f"  {line}\n" for line in self.muc_lines)),
            encoding="utf-8")


@pytest.mark.skipif(not Path(PROSODY).exists(), reason=f"{PROSODY} is not installed (scripts/install-system-deps)")
def test_rendered_module_and_options_load_and_deliver_signed_events(tmp_path):
    config_path = write_project(tmp_path / "project", VARIANTS["prosody-jwt"], fixed_secrets=False)
    from jitsictl import config as config_mod

    config = config_mod.load(config_path)
    secrets = secrets_mod.ensure(secrets_mod.path_for(config_path), config)
    out = render_mod.render(config, secrets, tmp_path / "project" / "stack").out_dir
    environment = compose_config(out)["services"]["prosody"]["environment"]

    receiver = CaptureReceiver(secret=secrets["ATTENDANCE_WEBHOOK_SECRET"]).start()
    lines = [line for line in environment["XMPP_MUC_CONFIGURATION"].split(",") if line]
    assert sum(render_mod.LOGGER_EVENTS_URL in line for line in lines) == 1
    lines = [line.replace(render_mod.LOGGER_EVENTS_URL, receiver.url) for line in lines]
    # Jitsi's mod_auth_token cannot run here: the harness's stand-in verifies HS256 tokens with
    # the stack's JWT_APP_SECRET and accepted issuer, and sets the same session fields.
    server = RenderedMucProsody(
        tmp_path / "prosody",
        muc_modules=environment["XMPP_MUC_MODULES"].split(","),
        plugin_paths=[out / "config/prosody/prosody-plugins-custom"],
        muc_lines=lines,
        jwt_secret=secrets["JWT_APP_SECRET"],
        jwt_app_id=config.auth.jwt.issuers[0],
    )
    try:
        server.start()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not receiver.events():
            time.sleep(0.1)
        events = receiver.events()
        assert events, f"no event reached the receiver; Prosody log:\n{server.log_text()[-3000:]}"
        assert events[0]["type"] == "source.started"
        assert events[0]["source"]["server"] == "prosody"
        assert receiver.rejected == 0  # signed with the rendered secret, verified by the reference library
        assert "presence_logger" in server.log_text()

        # A participant with a token from `jitsictl token`: the allow-listed claims of
        # attendance.claims (courseid, groupid, cohort) reach the event; others do not.
        minted = run_cli("token", "--config", str(config_path), "--room", "maths-3b", "--name", "Alice Martin",
                         "--email", "alice@school.example", "--group", "class-3b", "--claim", "courseid=MATH101",
                         "--claim", "groupid=3B", "--claim", "cohort=2025", "--claim", "secretclaim=x",
                         cwd=tmp_path)
        assert minted.returncode == 0, minted.stderr
        asyncio.run(asyncio.wait_for(_join_and_leave(server, minted.stdout.strip()), 30))
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and "occupant.left" not in {e["type"] for e in receiver.events()}:
            time.sleep(0.1)
        joined = [e for e in receiver.events() if e["type"] == "occupant.joined"]
        assert len(joined) == 1, server.log_text()[-3000:]
        identity = joined[0]["identity"]
        assert identity["name"] == "Alice Martin" and identity["email"] == "alice@school.example"
        assert identity["group"] == "class-3b"
        assert identity["claims"] == {"courseid": "MATH101", "groupid": "3B", "cohort": 2025}
    finally:
        server.stop()
        receiver.stop()


async def _join_and_leave(server: ProsodyServer, token: str) -> None:
    from jitsictl.xmpp import WebSocketXmppClient

    room = "maths-3b@muc.meet.jitsi"
    client = WebSocketXmppClient(server.websocket_url(room="maths-3b", token=token), "meet.jitsi", timeout=10)
    await client.connect()
    await client.conference_request(room)
    await client.join(room, "Alice")
    await client.leave(room)
    await client.close()
