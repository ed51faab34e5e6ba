"""A real Prosody for tests, on loopback, in a temporary directory: Debian's 0.12
(/usr/bin/prosody) or 13, the version docker-jitsi-meet ships (bookworm-backports' package,
unpacked beside 0.12 by scripts/install-system-deps; `ProsodyServer(..., version="13")`).

It is laid out like docker-jitsi-meet's Prosody (ARCHITECTURE.md §6, §8) so scenarios run against
the same names:

| host | what | login |
|---|---|---|
| `meet.jitsi` | web clients | SASL ANONYMOUS with `?token=JWT` on the WebSocket/BOSH URL (test stand-in for Jitsi's `mod_auth_token`: `tests/prosody/modules/mod_auth_test_jwt.lua`), PLAIN for the accounts below |
| `guest.meet.jitsi` | guests without a token | SASL ANONYMOUS |
| `auth.meet.jitsi` | focus, jvb | PLAIN (internal store) |
| `recorder.meet.jitsi` | recorder, transcriber | PLAIN (internal store) |
| `muc.`, `breakout.`, `internal-muc.meet.jitsi` | MUC components, `focus@auth.meet.jitsi` is their admin | |
| `focus.meet.jitsi` | test stand-in for jicofo's conference request answer (`mod_test_focus.lua`) | |

`admin@meet.jitsi` is a server admin (global `admins`). Accounts and passwords are in
`ProsodyServer.accounts` (`DEFAULT_ACCOUNTS`). WebSocket XMPP is served at `/xmpp-websocket` on the
HTTP port, like Jitsi's nginx exposes it; c2s (slixmpp) is plaintext on loopback.

Typical use (see tests/prosody/conftest.py for fixtures):

    server = ProsodyServer(tmp_path, muc_modules=["presence_logger"],
                           plugin_paths=[PLUGIN_DIR], muc_options={"presence_logger_url": url})
    server.start()                      # waits until c2s and HTTP accept connections
    server.websocket_url(room="maths-3b", token=jwt)
    server.restart()                    # graceful (SIGTERM), same ports and data
    server.kill(); server.start()       # crash: SIGKILL, then a new process
    server.stop()
    server.log_text()                   # everything Prosody logged, across restarts

Prosody 0.12 refuses to run as root unless `run_as_root = true` (mod_posix), so the config sets it
when we are root; the process runs in the foreground (`-F`, `daemonize = false`) as our child.

Where Prosody 13 is: `$JITSICTL_PROSODY13_DIR` (default `~/.cache/jitsictl/prosody-13`, as
scripts/install-system-deps puts it; `$XDG_CACHE_HOME` moves `~/.cache`). Without it, tests on 13
fail and say how to install it; `JITSICTL_SKIP_PROSODY13=1` makes them skip instead, for a machine
whose owner chose to test 0.12 only (tests/support/prosody_versions.py).
"""
from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlencode

from tests.support import real_components
PROSODY = "/usr/bin/prosody"                 # Debian's 0.12
VERSIONS = ("0.12", "13")                    # what every Prosody test runs on
DOMAIN = "meet.jitsi"
TEST_MODULES_DIR = Path(__file__).resolve().parent.parent / "prosody" / "modules"
PLUGIN_DIR = Path(__file__).resolve().parent.parent.parent / "prosody-plugin"


@dataclass(frozen=True)
class Account:
    jid: str
    password: str

    @property
    def user(self) -> str:
        return self.jid.split("@", 1)[0]

    @property
    def host(self) -> str:
        return self.jid.split("@", 1)[1]


# The system accounts of the scenario vectors (tests/vectors, `people.*.jid`). Test-only passwords.
DEFAULT_ACCOUNTS = (
    Account(f"focus@auth.{DOMAIN}", "focus-test-password"),
    Account(f"jvb@auth.{DOMAIN}", "jvb-test-password"),
    Account(f"recorder@recorder.{DOMAIN}", "recorder-test-password"),
    Account(f"transcriber@recorder.{DOMAIN}", "transcriber-test-password"),
    Account(f"admin@{DOMAIN}", "admin-test-password"),
)

# Test-only JWT settings: the stand-in token module verifies HS256 tokens with this secret.
JWT_APP_ID = "jitsictl-test"
JWT_APP_SECRET = "test-only-jwt-secret-0123456789abcdef"


class ProsodyError(RuntimeError):
    """Prosody did not start, stop or answer as expected; the message quotes its log."""


def prosody13_dir() -> Path:
    """Where scripts/install-system-deps unpacks Prosody 13 (its `usr/` tree)."""
    if os.environ.get("JITSICTL_PROSODY13_DIR"):
        return Path(os.environ["JITSICTL_PROSODY13_DIR"])
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "jitsictl" / "prosody-13"


def executable(version: str) -> str:
    """The `prosody` launcher of a version in VERSIONS; ProsodyError says how to install a missing one."""
    if version == "0.12":
        path, hint = Path(PROSODY), "install Debian's prosody package (scripts/install-system-deps)"
    elif version == "13":
        path = prosody13_dir() / "usr" / "bin" / "prosody"
        hint = ("run scripts/install-system-deps, which unpacks bookworm-backports' prosody there "
                "(or point JITSICTL_PROSODY13_DIR at such a directory)")
    else:
        raise ProsodyError(f"unknown Prosody version {version!r}: the tests know {', '.join(VERSIONS)}")
    if not path.exists():
        raise ProsodyError(f"Prosody {version} not found at {path}: {hint}")
    return str(path)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def lua(value) -> str:
    """A Python value (str, bool, int, float, None, list, tuple, set, dict) as a Lua literal."""
    if value is None:
        return "nil"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        # JSON string escapes are valid Lua 5.4 escapes, except \uXXXX: keep non-ASCII raw UTF-8.
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (list, tuple, set, frozenset)):
        return "{ " + "".join(lua(v) + "; " for v in value) + "}"
    if isinstance(value, dict):
        return "{ " + "".join(f"[{lua(str(k))}] = {lua(v)}; " for k, v in value.items()) + "}"
    raise TypeError(f"cannot write {type(value).__name__} into a Prosody config")


def _datamanager_encode(text: str) -> str:
    # Prosody's util.datamanager escapes every non-alphanumeric byte as %xx in store paths.
    return "".join(c if c.isascii() and c.isalnum() else "".join(f"%{b:02x}" for b in c.encode()) for c in text)


class ProsodyServer:
    """One Prosody process (`version` one of VERSIONS) with its own config, data and log, on free
    loopback ports."""

    def __init__(self, workdir: Path | str | None = None, *, domain: str = DOMAIN,
                 muc_modules: list[str] | tuple = (), muc_options: dict | None = None,
                 breakout_modules: list[str] | tuple = ("test_breakout_link",), breakout_options: dict | None = None,
                 internal_muc_modules: list[str] | tuple = (),
                 plugin_paths: list[Path | str] | tuple = (), global_modules: list[str] | tuple = (),
                 global_options: dict | None = None, accounts: tuple[Account, ...] = DEFAULT_ACCOUNTS,
                 admins: tuple[str, ...] = (f"admin@{DOMAIN}",), jwt_secret: str = JWT_APP_SECRET,
                 jwt_app_id: str = JWT_APP_ID, log_level: str = "debug", version: str = "0.12"):
        self.version = version
        self.launcher: str | None = None      # a command to run instead of the version's (e.g. under valgrind)
        self.workdir = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="prosody-"))
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.domain = domain
        self.muc_modules = list(muc_modules)
        self.muc_options = dict(muc_options or {})
        self.breakout_modules = list(breakout_modules)
        self.breakout_options = dict(breakout_options or {})
        self.internal_muc_modules = list(internal_muc_modules)
        self.plugin_paths = [str(p) for p in plugin_paths] + [str(TEST_MODULES_DIR)]
        self.global_modules = list(global_modules)
        self.global_options = dict(global_options or {})
        self.accounts = {a.jid: a for a in accounts}
        self.admins = list(admins)
        self.jwt_secret = jwt_secret
        self.jwt_app_id = jwt_app_id
        self.log_level = log_level
        self.c2s_port = free_port()
        self.http_port = free_port()
        self.config_path = self.workdir / "prosody.cfg.lua"
        self.data_path = self.workdir / "data"
        self.log_path = self.workdir / "prosody.log"
        self.console_path = self.workdir / "console.log"
        self.pidfile = self.workdir / "prosody.pid"
        self.process: subprocess.Popen | None = None
        self._console = None

    # -- addresses ----------------------------------------------------------------------------
    @property
    def muc(self) -> str:
        return f"muc.{self.domain}"

    @property
    def focus_component(self) -> str:
        return f"focus.{self.domain}"

    def websocket_url(self, room: str | None = None, token: str | None = None) -> str:
        """`ws://127.0.0.1:PORT/xmpp-websocket?room=R&token=JWT`, as Jitsi's web client connects."""
        query = {k: v for k, v in (("room", room), ("token", token)) if v}
        suffix = ("?" + urlencode(query, quote_via=quote)) if query else ""
        return f"ws://127.0.0.1:{self.http_port}/xmpp-websocket{suffix}"

    def token(self, payload: dict | None = None, *, ttl: int = 3600, secret: str | None = None) -> str:
        """An HS256 JWT this server accepts: Jitsi's claims (iss, aud, sub, room, exp) plus `payload`.

        `payload` is what a vector's `people.*.token` holds (`context`, custom claims). `ttl` may be
        negative (expired token); `secret` signs with another key (bad signature).
        """
        import jwt  # PyJWT

        claims = {"iss": self.jwt_app_id, "aud": "jitsi", "sub": self.domain, "room": "*",
                  "exp": int(time.time()) + ttl, **(payload or {})}
        return jwt.encode(claims, secret or self.jwt_secret, algorithm="HS256")

    def account(self, jid: str) -> Account:
        return self.accounts[jid]

    # -- config -------------------------------------------------------------------------------
    def write_config(self) -> None:
        """(Re)write the config file; called by start(), so option changes apply on restart."""
        d = self.domain
        admins_of_components = [f"focus@auth.{d}"]
        options = {
            "daemonize": False,
            "pidfile": str(self.pidfile),
            "data_path": str(self.data_path),
            "plugin_paths": self.plugin_paths,
            "log": [{"levels": {"min": self.log_level}, "to": "file", "filename": str(self.log_path)}],
            "interfaces": ["127.0.0.1"],
            "local_interfaces": ["127.0.0.1"],
            "c2s_ports": [self.c2s_port],
            "c2s_interfaces": ["127.0.0.1"],
            "http_ports": [self.http_port],
            "http_interfaces": ["127.0.0.1"],
            "https_ports": [],
            "http_default_host": d,
            "admins": self.admins,
            "modules_enabled": ["saslauth", "disco", "ping", "posix", "http", "websocket", "bosh",
                                *self.global_modules],
            "modules_disabled": ["s2s", "tls", "register", "offline", "admin_telnet"],
            "storage": "internal",
            "authentication": "internal_plain",
            "c2s_require_encryption": False,
            "allow_unencrypted_plain_auth": True,
            "consider_websocket_secure": True,
            "consider_bosh_secure": True,
            "component_admins_as_room_owners": True,
            "run_as_root": os.geteuid() == 0,
            **self.global_options,
        }
        lines = ["-- Written by tests/support/prosody_server.py for one test run.\n"]
        lines += [f"{key} = {lua(value)}\n" for key, value in options.items()]
        lines.append(f'\nVirtualHost {lua(d)}\n'
                     f'  authentication = "test_jwt"\n'
                     f'  test_jwt_app_secret = {lua(self.jwt_secret)}\n'
                     f'  test_jwt_accepted_issuers = {lua([self.jwt_app_id])}\n')
        lines.append(f'\nVirtualHost {lua("guest." + d)}\n  authentication = "anonymous"\n')
        lines.append(f'\nVirtualHost {lua("auth." + d)}\n  authentication = "internal_plain"\n')
        lines.append(f'\nVirtualHost {lua("recorder." + d)}\n  authentication = "internal_plain"\n')
        components = (("muc", self.muc_modules, self.muc_options),
                      ("breakout", self.breakout_modules, self.breakout_options),
                      ("internal-muc", self.internal_muc_modules, {}))
        for prefix, modules, extra in components:
            lines.append(f'\nComponent {lua(prefix + "." + d)} "muc"\n'
                         f'  modules_enabled = {lua(modules)}\n'
                         f'  admins = {lua(admins_of_components)}\n'
                         f'  muc_room_locking = false\n'
                         f'  muc_room_default_public_jids = true\n'
                         f'  storage = "internal"\n')
            # Module options go on the component that loads the module (MUC modules read them
            # there), like docker-jitsi-meet's XMPP_MUC_CONFIGURATION lines.
            lines += [f"  {key} = {lua(value)}\n" for key, value in extra.items()]
        lines.append(f'\nComponent {lua("focus." + d)} "test_focus"\n')
        # It holds the module's signing secret: readable by us only.
        self.config_path.touch(mode=0o600)
        os.chmod(self.config_path, 0o600)
        self.config_path.write_text("".join(lines), encoding="utf-8")

    def _write_accounts(self) -> None:
        # Prosody's internal store: DATA/<host>/accounts/<user>.dat, a Lua table. Creating the files
        # directly is what `prosodyctl register` ends up doing, without a Lua start per account.
        for account in self.accounts.values():
            folder = self.data_path / _datamanager_encode(account.host) / "accounts"
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"{_datamanager_encode(account.user)}.dat").write_text(
                f"return {{\n\t[\"password\"] = {lua(account.password)};\n}};\n", encoding="utf-8")

    # -- lifecycle ----------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.running else None

    def start(self, timeout: float = 20.0) -> "ProsodyServer":
        real_components.starting(f"Prosody {self.version}")
        if self.running:
            raise ProsodyError("Prosody is already running")
        launcher = self.launcher or executable(self.version)
        self.data_path.mkdir(parents=True, exist_ok=True)
        self.write_config()
        self._write_accounts()
        self._console = open(self.console_path, "ab")
        self._log_offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        self.process = subprocess.Popen([launcher, "-F", "--config", str(self.config_path)],
                                        stdout=self._console, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL, cwd=self.workdir)
        self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout: float = 20.0) -> None:
        """Wait until Prosody answers an XMPP stream on c2s and an HTTP request on /xmpp-websocket.

        A TCP connect alone is not enough: the listening sockets exist before the event loop runs.
        Raises ProsodyError with the log tail if Prosody died or stayed silent.
        """
        deadline = time.monotonic() + timeout
        probes = [self._answers_xmpp, self._answers_http]
        while probes:
            if not self.running:
                raise ProsodyError(f"Prosody exited with code {self.process.returncode} while starting:\n"
                                   + self.recent_log())
            if probes[0]():
                probes.pop(0)
                continue
            if time.monotonic() > deadline:
                raise ProsodyError(f"Prosody did not answer within {timeout:.0f} s:\n" + self.recent_log())
            time.sleep(0.05)

    def _exchange(self, port: int, request: bytes, expect: bytes) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1.0) as sock:
                sock.sendall(request)
                received = b""
                while expect not in received:
                    chunk = sock.recv(4096)
                    if not chunk:
                        return False
                    received += chunk
                return True
        except OSError:
            return False

    def _answers_xmpp(self) -> bool:
        opening = (f"<?xml version='1.0'?><stream:stream to='{self.domain}' xmlns='jabber:client' "
                   "xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>").encode()
        return self._exchange(self.c2s_port, opening, b"stream:features")

    def _answers_http(self) -> bool:
        request = f"GET /xmpp-websocket HTTP/1.1\r\nHost: {self.domain}\r\nConnection: close\r\n\r\n".encode()
        return self._exchange(self.http_port, request, b"HTTP/1.1 ")

    def stop(self, timeout: float = 15.0) -> int | None:
        """Graceful shutdown (SIGTERM: Prosody closes sessions, rooms and stores). Returns the exit code."""
        if not self.running:
            return self.process.returncode if self.process else None
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)
            tail = self.recent_log(10)
            exited = re.search(r"Exiting with status code: (\d+)", tail)
            if "Shutdown complete" in tail and exited:
                # Seen once in ~1,000 stops (Prosody 0.12, Lua 5.4): the shutdown ran to its end
                # (stores flushed, sessions closed) and the process then hung in os.exit. Nothing
                # of the module is at work after "Shutdown complete"; the exit it logged stands.
                warnings.warn(f"Prosody hung after its shutdown completed and was killed:\n{tail}", stacklevel=2)
                return int(exited.group(1))
            raise ProsodyError(f"Prosody ignored SIGTERM for {timeout:.0f} s and was killed:\n" + self.recent_log()) from None
        finally:
            self._close_console()
        return self.process.returncode

    def kill(self) -> None:
        """Crash: SIGKILL, no chance to clean up (the `crash` step of the vectors)."""
        if self.running:
            self.process.kill()
            self.process.wait(5)
        self._close_console()

    def restart(self, graceful: bool = True, timeout: float = 20.0) -> "ProsodyServer":
        self.stop() if graceful else self.kill()
        return self.start(timeout)

    def _close_console(self) -> None:
        if self._console:
            self._console.close()
            self._console = None

    def __enter__(self) -> "ProsodyServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.kill() if exc[0] else self.stop()

    # -- observation --------------------------------------------------------------------------
    def log_text(self) -> str:
        """Prosody's whole log (every life of the process), plus anything it printed on stdout."""
        parts = [p.read_text(encoding="utf-8", errors="replace") for p in (self.log_path, self.console_path)
                 if p.exists()]
        return "\n".join(parts)

    def recent_log(self, lines: int = 40) -> str:
        text = self.log_text().splitlines()
        return "\n".join(text[-lines:])

    def wait_for_log(self, needle: str, timeout: float = 10.0, since: int = 0) -> str:
        """Wait until the log (from byte `since`) contains `needle`; return the matching line."""
        deadline = time.monotonic() + timeout
        while True:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")[since:] if self.log_path.exists() else ""
            for line in text.splitlines():
                if needle in line:
                    return line
            if time.monotonic() > deadline:
                raise ProsodyError(f"{needle!r} did not appear in Prosody's log within {timeout:.0f} s:\n"
                                   + self.recent_log())
            time.sleep(0.05)

    def log_size(self) -> int:
        return self.log_path.stat().st_size if self.log_path.exists() else 0

    def rss_kib(self) -> int:
        """Resident memory of the running Prosody process, in KiB (from /proc)."""
        if not self.running:
            raise ProsodyError("Prosody is not running")
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise ProsodyError("VmRSS missing from /proc status")
