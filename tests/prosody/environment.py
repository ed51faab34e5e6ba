"""A Prosody with the attendance module delivering to the real receiver: what a deployment's
XMPP side looks like to `jitsictl smoke` and to the tests.

    with AttendanceStack(tmp_path) as stack:
        stack.prosody.websocket_url(room="maths-3b", token=stack.prosody.token({...}))
        stack.receiver.meetings()            # read API, HTTP Basic admin:<stack.receiver.admin_password>
"""
from __future__ import annotations

from pathlib import Path

from tests.prosody.receivers import RealReceiver
from tests.support.prosody_server import PLUGIN_DIR, ProsodyServer


def logger_prosody(workdir, url: str, secret: str, *, claims=("courseid", "groupid"), breakout: bool = False,
                   version: str = "0.12", **options) -> ProsodyServer:
    """A Prosody (`version`, see prosody_server.VERSIONS) whose muc component (and breakout
    component if `breakout`) loads prosody-plugin/mod_presence_logger.lua.

    Delivery is tuned for tests (small flush interval); `options` adds or overrides
    `presence_logger_*` options (without the prefix).
    """
    module_options = {"presence_logger_url": url, "presence_logger_secret": secret,
                      "presence_logger_claims": list(claims), "presence_logger_flush_interval": 20,
                      "presence_logger_timeout": 5}
    module_options.update({f"presence_logger_{k}": v for k, v in options.items()})
    return ProsodyServer(workdir, plugin_paths=[PLUGIN_DIR], muc_modules=["presence_logger"],
                         muc_options=module_options,
                         breakout_modules=["test_breakout_link", *(["presence_logger"] if breakout else [])],
                         breakout_options=module_options, version=version)


class AttendanceStack:
    """The real receiver (SQLite) plus a Prosody loading the module on muc and breakout."""

    def __init__(self, workdir: Path, *, settings: dict | None = None, version: str = "0.12", **module_options):
        self.workdir = Path(workdir)
        self.receiver = RealReceiver(self.workdir / "receiver", settings=settings)
        claims = (settings or {}).get("claims", ("courseid", "groupid"))
        self.prosody = logger_prosody(self.workdir / "prosody", self.receiver.url, self.receiver.secret,
                                      claims=claims, breakout=True, version=version, **module_options)

    def start(self) -> "AttendanceStack":
        self.receiver.start()
        self.prosody.start()
        return self

    def stop(self) -> None:
        self.prosody.stop()
        self.receiver.stop()

    def __enter__(self) -> "AttendanceStack":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
