"""Fixtures: a real Prosody per test (it starts in ~0.2 s), on loopback, in the test's temp dir.

Every test here that starts Prosody takes `prosody_version` and runs on 0.12 and on 13
(tests/support/prosody_versions.py).
"""
from __future__ import annotations

import pytest

from tests.support.prosody_server import ProsodyServer


@pytest.fixture
def prosody(tmp_path, prosody_version):
    """A plain Jitsi-shaped Prosody (no attendance module): for client and harness tests."""
    server = ProsodyServer(tmp_path / "prosody", version=prosody_version)
    server.start()
    yield server
    server.stop()


class SharedReceivers:
    """One live and one replay receiver per settings and Prosody version, shared by the vector
    tests (starting the receiver costs about a second; Prosody is started fresh for each vector).
    Each version has its own pair, so that a replay receiver holds each vector's meeting once."""

    def __init__(self, root):
        self.root = root
        self.started: dict[str, tuple] = {}

    def get(self, settings: dict, version: str = "0.12"):
        import json

        from tests.prosody.receivers import RealReceiver

        key = json.dumps([settings, version], sort_keys=True)
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
