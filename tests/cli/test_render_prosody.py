"""The rendered Prosody side, loaded by a real Prosody (Debian's, via tests/support/prosody_server).

docker-jitsi-meet's image cannot run here, so this reproduces what its templates do with the
rendered environment (stable-11146-2 `prosody/rootfs/defaults/prosody.cfg.lua` and
`conf.d/jitsi-meet.cfg.lua`): XMPP_MUC_MODULES and XMPP_BREAKOUT_MUC_MODULES go into the
`modules_enabled` of the MUC and breakout components, and GLOBAL_CONFIG is split at each literal
backslash-n into lines of the global section. The values are the ones
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

class RenderedGlobalConfigProsody(ProsodyServer):
    """ProsodyServer with raw lines in the global section, as docker-jitsi-meet writes GLOBAL_CONFIG."""

    def __init__(self, *args, global_lines: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.global_lines = global_lines

    def write_config(self) -> None:
        super().write_config()
        text = self.config_path.read_text(encoding="utf-8")
        first_host = text.index("\nVirtualHost ")  # the global section ends at the first host
        self.config_path.write_text(
            text[:first_host] + "".join(f"{line}\n" for line in self.global_lines) + text[first_host:],
            encoding="utf-8")


@pytest.mark.slow
@pytest.mark.skipif(not Path(PROSODY).exists(), reason=f"{PROSODY} is not installed (scripts/install-system-deps)")
def test_rendered_module_and_options_load_and_deliver_signed_events(tmp_path):
    config_path = write_project(tmp_path / "project", VARIANTS["prosody-jwt"], fixed_secrets=False)
    from jitsictl import config as config_mod

    config = config_mod.load(config_path)
    secrets = secrets_mod.ensure(secrets_mod.path_for(config_path), config)
    out = render_mod.render(config, secrets, tmp_path / "project" / "stack").out_dir
    environment = compose_config(out)["services"]["prosody"]["environment"]

    receiver = CaptureReceiver(secret=secrets["ATTENDANCE_WEBHOOK_SECRET"]).start()
    lines = [line for line in environment["GLOBAL_CONFIG"].split("\\n") if line]
    assert sum(render_mod.LOGGER_EVENTS_URL in line for line in lines) == 1
    lines = [line.replace(render_mod.LOGGER_EVENTS_URL, receiver.url) for line in lines]
    # Jitsi's mod_auth_token cannot run here: the harness's stand-in verifies HS256 tokens with
    # the stack's JWT_APP_SECRET and accepted issuer, and sets the same session fields.
    server = RenderedGlobalConfigProsody(
        tmp_path / "prosody",
        muc_modules=environment["XMPP_MUC_MODULES"].split(","),
        # test_breakout_link: the harness's stand-in for Jitsi's breakout-room bookkeeping
        breakout_modules=["test_breakout_link", *environment["XMPP_BREAKOUT_MUC_MODULES"].split(",")],
        plugin_paths=[out / "config/prosody/prosody-plugins-custom"],
        global_lines=lines,
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
        log = server.log_text()
        assert "Reporting attendance on muc.meet.jitsi" in log
        assert "Reporting attendance on breakout.meet.jitsi" in log

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


@pytest.mark.slow
@pytest.mark.skipif(not Path(PROSODY).exists(), reason=f"{PROSODY} is not installed (scripts/install-system-deps)")
def test_rendered_roles_make_the_teacher_and_only_the_teacher_moderator(tmp_path):
    """The rendered XMPP_MUC_MODULES (with token_moderators) in a real Prosody, tokens from
    `jitsictl token`: --moderator makes a moderator, a student token does not."""
    config_path = write_project(tmp_path / "project", VARIANTS["prosody-jwt"], fixed_secrets=False)
    from jitsictl import config as config_mod
    from tests.prosody.test_token_moderators_prosody import Seat, focus_opens

    config = config_mod.load(config_path)
    secrets = secrets_mod.ensure(secrets_mod.path_for(config_path), config)
    out = render_mod.render(config, secrets, tmp_path / "project" / "stack").out_dir
    environment = compose_config(out)["services"]["prosody"]["environment"]
    assert environment["XMPP_MUC_MODULES"].split(",") == ["presence_logger", "token_moderators"]
    server = RenderedGlobalConfigProsody(
        tmp_path / "prosody", muc_modules=environment["XMPP_MUC_MODULES"].split(","),
        plugin_paths=[out / "config/prosody/prosody-plugins-custom"],
        global_lines=[line for line in environment["GLOBAL_CONFIG"].split("\\n") if line],
        jwt_secret=secrets["JWT_APP_SECRET"], jwt_app_id=config.auth.jwt.issuers[0])

    def mint(*extra: str) -> str:
        result = run_cli("token", "--config", str(config_path), "--room", "maths-3b", "--name", "x",
                         *extra, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()

    async def roles() -> dict:
        from jitsictl.xmpp import WebSocketXmppClient

        focus = await focus_opens(server, "maths-3b")
        found = {}
        try:
            for who, token in (("teacher", mint("--moderator")), ("student", mint())):
                client = WebSocketXmppClient(server.websocket_url(room="maths-3b", token=token),
                                             "meet.jitsi", timeout=10)
                await client.connect()
                seat = Seat(client, "maths-3b@muc.meet.jitsi")
                occupant = await client.join("maths-3b@muc.meet.jitsi", nick=who)
                await asyncio.sleep(0.2)
                found[who] = seat.role_of(occupant)
                await client.close()
        finally:
            await focus.close()
        return found

    try:
        server.start()
        assert asyncio.run(asyncio.wait_for(roles(), 30)) == {
            "teacher": ("owner", "moderator"), "student": ("member", "participant")}
    finally:
        server.stop()
