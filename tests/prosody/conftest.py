"""Fixtures: a real Prosody per test (it starts in ~0.2 s), on loopback, in the test's temp dir."""
from __future__ import annotations

import pytest

from tests.support.prosody_server import ProsodyServer


@pytest.fixture
def prosody(tmp_path):
    """A plain Jitsi-shaped Prosody (no attendance module): for client and harness tests."""
    server = ProsodyServer(tmp_path / "prosody")
    server.start()
    yield server
    server.stop()


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
