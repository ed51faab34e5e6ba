"""The README documents every command and every ATTENDANCE_* variable the receiver reads."""
from __future__ import annotations

import re
from pathlib import Path

import click

from attendance_logger.cli import cli

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text("utf-8")


def commands(group: click.Group, prefix: str = "attendance-logger"):
    """Every command line's verbs, e.g. `attendance-logger users add` (groups only through theirs)."""
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            yield from commands(command, f"{prefix} {name}")
        else:
            yield f"{prefix} {name}"


def test_every_command_is_in_the_readme():
    assert [c for c in commands(cli) if c not in README] == []


def test_every_variable_is_in_the_readme():
    read = set()
    for source in (ROOT / "attendance_logger").rglob("*.py"):
        read |= set(re.findall(r"\bATTENDANCE_[A-Z_]+[A-Z]\b", source.read_text("utf-8")))
    assert read, "no variable found: the pattern is wrong"
    assert sorted(name for name in read if f"`{name}`" not in README) == []
