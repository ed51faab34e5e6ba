"""The vector driver fails when it should: a check that cannot fail would prove nothing."""
from __future__ import annotations

import pytest

from tests.prosody.driver import VectorMismatch, run_vector
from tests.prosody.environment import logger_prosody
from tests.prosody.receivers import CaptureReceiver
from tests.support import vectors
from tests.support.prosody_server import ProsodyServer

HEALTHCHECK = vectors.load(vectors.VECTORS_DIR / "10-healthcheck-room.json")
RENAME = vectors.load(vectors.VECTORS_DIR / "02-rename.json")


@pytest.mark.slow
def test_missing_events_are_reported(tmp_path, prosody_version):
    sink = CaptureReceiver().start()
    prosody = ProsodyServer(tmp_path / "p", version=prosody_version).start()              # no attendance module at all
    try:
        with pytest.raises(VectorMismatch, match="1 events expected so far, 0 delivered"):
            run_vector(HEALTHCHECK, prosody, sink, group_timeout=1)
    finally:
        prosody.stop()
        sink.stop()


@pytest.mark.slow
def test_different_events_are_reported_with_the_difference(tmp_path, prosody_version):
    # The module is told to keep no claims, so identities lack the vector's `claims`.
    sink = CaptureReceiver().start()
    prosody = logger_prosody(tmp_path / "p", sink.url, sink.secret, claims=(), version=prosody_version).start()
    try:
        with pytest.raises(VectorMismatch, match=r"identity\.claims: expected an object, got None"):
            run_vector(RENAME, prosody, sink, group_timeout=3)
    finally:
        prosody.stop()
        sink.stop()
