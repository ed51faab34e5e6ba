"""Validation of incoming events against contract v1 (schema/attendance-event.v1.json).

The schema file ships inside the package as a link to the repository's single copy, so the
receiver can never drift from the contract the plugins are tested against.
"""
from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources

import jsonschema

SCHEMA_FILE = "attendance-event.v1.json"


@lru_cache(maxsize=None)
def validator() -> jsonschema.Draft202012Validator:
    text = resources.files(__package__).joinpath("schema", SCHEMA_FILE).read_text(encoding="utf-8")
    schema = json.loads(text)
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


def problems(event, where: str) -> list[str]:
    """Human-readable schema violations of one event, each prefixed by its location."""
    found = []
    for error in sorted(validator().iter_errors(event), key=lambda e: list(e.absolute_path)):
        path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
        found.append(f"{where}{path}: {error.message}")
    return found
