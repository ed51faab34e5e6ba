"""`jitsictl users` on Prosody: the exact prosodyctl commands jitsictl.users runs in the prosody
container, run here against a real Prosody (0.12 and 13) and its real prosodyctl.

The container is docker-jitsi-meet's and cannot run here, so only the `docker compose exec -T
prosody` in front of the command is replaced: `LocalCompose` checks jitsictl asked for exactly
that, then runs the rest with this machine's prosodyctl against the test server's configuration
and, like Compose, passes stdin through and reports a failure with the command's output. The main
host authenticates like docker-jitsi-meet's with `auth: internal` (`internal_hashed`), and the
server loads `admin_shell`, as the image's prosody.cfg.lua does (`prosodyctl shell user list`
needs it).
"""
from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

import pytest

from jitsictl import users
from jitsictl.compose import ComposeError
from jitsictl.xmpp import WebSocketXmppClient
from jitsictl.xmpp.errors import XmppAuthError
from tests.support.prosody_server import DEFAULT_ACCOUNTS, ProsodyServer, executable

pytestmark = pytest.mark.slow  # real Prosody



class InternalAccountsProsody(ProsodyServer):
    """The harness's Prosody with docker-jitsi-meet's `auth: internal` main host."""

    def write_config(self) -> None:
        super().write_config()
        text = self.config_path.read_text(encoding="utf-8")
        self.config_path.write_text(text.replace('authentication = "test_jwt"',
                                                 'authentication = "internal_hashed"', 1),
                                    encoding="utf-8")


class LocalCompose:
    """Stands for ComposeProject: `exec -T prosody prosodyctl --config <image's path> ARGS`
    becomes this machine's `prosodyctl --config <test server's config> ARGS`."""

    def __init__(self, server: ProsodyServer) -> None:
        self.server = server
        self.prosodyctl = Path(executable(server.version)).with_name("prosodyctl")
        self.commands: list[tuple] = []

    def run(self, *args: str, input: str | None = None, timeout: float | None = None) -> str:
        prefix = ("exec", "-T", "prosody", "prosodyctl", "--config", users.PROSODY_CONFIG)
        assert args[:len(prefix)] == prefix, args
        rest = args[len(prefix):]
        self.commands.append(rest)
        result = subprocess.run([str(self.prosodyctl), "--config", str(self.server.config_path), *rest],
                                input=input, capture_output=True, text=True, timeout=timeout)
        if result.returncode != 0:
            raise ComposeError(f"`docker compose {' '.join(args)}` failed (exit {result.returncode}):",
                               stderr_tail=(result.stderr or result.stdout).strip()[-500:],
                               returncode=result.returncode)
        return result.stdout


@pytest.fixture
def prosody(tmp_path, prosody_version):
    server = InternalAccountsProsody(tmp_path / "prosody", global_modules=["admin_shell"], version=prosody_version,
                                     accounts=tuple(a for a in DEFAULT_ACCOUNTS if a.host != "meet.jitsi"))
    server.start()
    yield server
    server.stop()


def logs_in(server: ProsodyServer, user: str, password: str) -> bool:
    async def attempt():
        client = WebSocketXmppClient(server.websocket_url(), "meet.jitsi", timeout=10)
        try:
            await client.connect(user, password)
        except XmppAuthError:
            return False
        await client.close()
        return True

    return asyncio.run(asyncio.wait_for(attempt(), 30))


def test_accounts_are_created_listed_changed_and_removed(prosody):
    compose = LocalCompose(prosody)
    accounts = users.ProsodyAccounts(compose, "meet.jitsi")

    assert users.add(accounts, "M.Curie", "Radium-1898") == "m.curie@meet.jitsi"
    assert logs_in(prosody, "m.curie", "Radium-1898")
    with pytest.raises(users.UsersError) as exists:
        users.add(accounts, "m.curie", "Radium-1898")
    assert str(exists.value) == "that account exists already"
    users.add(accounts, "p.curie", "Polonium-1898")
    assert users.list_users(accounts) == ["m.curie@meet.jitsi", "p.curie@meet.jitsi"]

    users.passwd(accounts, "m.curie", "Nobel-Prize-1911")
    assert logs_in(prosody, "m.curie", "Nobel-Prize-1911")
    assert not logs_in(prosody, "m.curie", "Radium-1898")

    assert users.remove(accounts, "p.curie") == "p.curie@meet.jitsi"
    assert users.list_users(accounts) == ["m.curie@meet.jitsi"]
    assert not logs_in(prosody, "p.curie", "Polonium-1898")
    for verb in (users.remove, lambda a, n: users.passwd(a, n, "Whatever-123")):
        with pytest.raises(users.UsersError) as missing:
            verb(accounts, "p.curie")
        assert str(missing.value) == "no such account"

    # What ran: the password never was an argument, only standard input.
    assert compose.commands[:2] == [("adduser", "m.curie@meet.jitsi"), ("adduser", "m.curie@meet.jitsi")]
    assert ("shell", "user", "list", "meet.jitsi") in compose.commands
    assert not any("Radium" in word or "Nobel" in word for command in compose.commands for word in command)


def test_bad_names_and_passwords_are_refused_before_prosodyctl_runs(prosody):
    compose = LocalCompose(prosody)
    accounts = users.ProsodyAccounts(compose, "meet.jitsi")
    for name in ("alice@meet.jitsi", "bad name", "-dash", "focus", ""):
        with pytest.raises(users.UsersError):
            users.add(accounts, name, "Long-enough-1")
    for password in ("short", "two\nlines-of-it"):
        with pytest.raises(users.UsersError):
            users.add(accounts, "alice", password)
    assert compose.commands == []
