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
    server.kill() if not server.running else server.stop()
