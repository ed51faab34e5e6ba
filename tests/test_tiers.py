"""The split of the suite into a fast and a slow tier (conftest.py, tests/support/real_components.py)."""
from __future__ import annotations

import pytest

from tests.support import real_components


def test_a_test_not_marked_slow_may_not_start_a_real_component():
    with pytest.raises(pytest.fail.Exception, match="test_tiers.py::.* starts Prosody 13 but is not marked slow"):
        real_components.starting("Prosody 13")


@pytest.mark.slow
def test_a_test_marked_slow_may_start_one():
    real_components.starting("Prosody 13")


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_only_the_postgresql_variant_of_a_test_is_slow(request, backend):
    assert (request.node.get_closest_marker("slow") is not None) == (backend == "postgresql")


def test_outside_a_test_anything_may_start():
    """bench/ starts Prosody and the receiver through the same helpers."""
    running, real_components.current_test = real_components.current_test, None
    try:
        real_components.starting("Prosody 13")
    finally:
        real_components.current_test = running
