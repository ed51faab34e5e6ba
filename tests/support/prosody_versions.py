"""The `prosody_version` fixture: a test that takes it runs once on each Prosody in
`prosody_server.VERSIONS`, with ids `prosody-0.12` and `prosody-13`.

tests/conftest.py offers it to every test under tests/; elsewhere, import it into a conftest.py.

A version that is not installed fails its tests with the command that installs it. Skipping is
for a machine whose owner chose so: `JITSICTL_SKIP_PROSODY13=1` skips the tests on 13 with that
reason; CI never sets it, so there a missing Prosody 13 is a failure, never a silent skip.
"""
from __future__ import annotations

import os

import pytest

from tests.support.prosody_server import VERSIONS, ProsodyError, executable

SKIP_13 = "JITSICTL_SKIP_PROSODY13"


@pytest.fixture(scope="session", params=VERSIONS, ids=lambda version: f"prosody-{version}")
def prosody_version(request) -> str:
    version = request.param
    if version == "13" and os.environ.get(SKIP_13, "") not in ("", "0"):
        pytest.skip(f"Prosody 13 not tested on this machine: {SKIP_13} is set")
    try:
        executable(version)
    except ProsodyError as missing:
        problem = str(missing)
    else:
        return version
    pytest.fail(f"{problem}. To test Prosody 0.12 only on this machine, set {SKIP_13}=1.", pytrace=False)
