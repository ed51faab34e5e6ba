"""Fixtures shared by every suite under tests/."""
from tests.support.prosody_versions import prosody_version  # noqa: F401 (a fixture, offered to every test here)
