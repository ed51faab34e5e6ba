"""The admin's Moodle page names everything the code needs from Moodle and from files."""
from __future__ import annotations

from pathlib import Path

import pytest

from attendance_logger import roster, timetable
from attendance_logger.moodle.client import CAPABILITIES, SYNC_FUNCTIONS
from attendance_logger.room_pattern import MOD_JITSI_HYPHEN_PATTERN, MOD_JITSI_UNDERSCORE_PATTERN
from fake_moodle import SYNC_CAPABILITIES

PAGE = (Path(__file__).resolve().parents[1] / "docs" / "moodle.md").read_text()


@pytest.mark.parametrize("function", SYNC_FUNCTIONS)
def test_every_function_the_sync_calls_is_listed(function):
    assert f"- `{function}`" in PAGE


@pytest.mark.parametrize("capability", sorted({c for needs in CAPABILITIES.values() for c in needs}
                                               | SYNC_CAPABILITIES))
def test_every_capability_is_explained(capability):
    assert f"| `{capability}` |" in PAGE


@pytest.mark.parametrize("column", [c for module in (roster, timetable) for c in module.COLUMNS],
                         ids=lambda c: c.name)
def test_every_file_column_is_described(column):
    assert f"`{column.name}`" in PAGE


def test_the_room_patterns_are_the_codes():
    assert MOD_JITSI_UNDERSCORE_PATTERN in PAGE and MOD_JITSI_HYPHEN_PATTERN in PAGE
