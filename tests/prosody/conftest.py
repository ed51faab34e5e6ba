"""Fixtures: a real Prosody per test (it starts in ~0.2 s), on loopback, in the test's temp dir."""
from __future__ import annotations

import pytest

from tests.support.prosody_server import PLUGIN_DIR, ProsodyServer


@pytest.fixture
def prosody(tmp_path):
    """A plain Jitsi-shaped Prosody (no attendance module): for client and harness tests."""
    server = ProsodyServer(tmp_path / "prosody")
    server.start()
    yield server
    server.kill() if not server.running else server.stop()


def logger_prosody(workdir, url: str, secret: str, *, claims=("courseid", "groupid"), breakout: bool = False,
                   **options) -> ProsodyServer:
    """A Prosody whose muc component (and breakout component if `breakout`) loads
    prosody-plugin/mod_presence_logger.lua.

    Delivery is tuned for tests (small flush interval); `options` adds or overrides
    `presence_logger_*` options (without the prefix).
    """
    module_options = {"presence_logger_url": url, "presence_logger_secret": secret,
                      "presence_logger_claims": list(claims), "presence_logger_flush_interval": 20,
                      "presence_logger_timeout": 5}
    module_options.update({f"presence_logger_{k}": v for k, v in options.items()})
    return ProsodyServer(workdir, plugin_paths=[PLUGIN_DIR], muc_modules=["presence_logger"],
                         muc_options=module_options, breakout_modules=["test_breakout_link", *(["presence_logger"] if breakout else [])],
                         breakout_options=module_options)


class SharedReceivers:
    """One live and one replay receiver per settings, shared by the vector tests (starting the
    receiver costs about a second; Prosody is started fresh for each vector)."""

    def __init__(self, root):
        self.root = root
        self.started: dict[str, tuple] = {}

    def get(self, settings: dict):
        import json

        from tests.prosody.receivers import RealReceiver

        key = json.dumps(settings, sort_keys=True)
        if key not in self.started:
            n = len(self.started)
            live = RealReceiver(self.root / f"live-{n}", settings=settings).start()
            replay = RealReceiver(self.root / f"replay-{n}", settings=settings).start()
            self.started[key] = (live, replay)
        return self.started[key]

    def stop(self):
        for live, replay in self.started.values():
            live.stop()
            replay.stop()


@pytest.fixture(scope="module")
def shared_receivers(tmp_path_factory):
    receivers = SharedReceivers(tmp_path_factory.mktemp("receivers"))
    yield receivers
    receivers.stop()
