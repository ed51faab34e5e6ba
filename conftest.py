"""Hooks for every suite (tests/ and flask-logger/tests): the fast and slow tiers.

A test is slow when it starts a real component (tests/support/real_components.py). Most say so
with @pytest.mark.slow; a test that takes the `postgres` fixture or is parametrized onto
PostgreSQL is marked here, so that the same test on SQLite stays in the fast tier.
"""
from __future__ import annotations

import pytest

from tests.support import real_components


def pytest_collection_modifyitems(items):
    for item in items:
        callspec = getattr(item, "callspec", None)
        on_postgresql = callspec is not None and callspec.params.get("backend") == "postgresql"
        if on_postgresql or "postgres" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item):
    real_components.current_test = item
    try:
        yield
    finally:
        real_components.current_test = None
