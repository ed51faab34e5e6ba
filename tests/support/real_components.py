"""The rule that keeps the fast tier fast: a test that starts a real component is marked slow.

scripts/test runs `pytest -m "not slow"` first, then `pytest -m slow`. Every helper that starts
a real component (Prosody, PostgreSQL, dockerd, Chromium, nginx, LibreOffice, the receiver under
gunicorn, a wheel build, Openfire) calls `starting(...)` first; the repository's conftest.py
records which test is running, and a test without the `slow` mark fails here with what to do.
Tests parametrized onto PostgreSQL (`backend="postgresql"`) get the mark from conftest.py.
"""
from __future__ import annotations

import pytest

# The test being run, set by conftest.py (None outside pytest, e.g. in bench/).
current_test: pytest.Item | None = None


def starting(component: str) -> None:
    test = current_test
    if test is not None and test.get_closest_marker("slow") is None:
        pytest.fail(f"{test.nodeid} starts {component} but is not marked slow: add @pytest.mark.slow "
                    "(or `pytestmark = pytest.mark.slow` for the module), so that the fast tier stays fast",
                    pytrace=False)
