"""Validation of incoming events against contract v1 (schema/attendance-event.v1.json).

The schema file ships inside the package as a link to the repository's single copy, so the
receiver can never drift from the contract the plugins are tested against.

Two validators, one decision: `fastjsonschema` (compiled to Python, ~15x faster) decides whether
an event is valid; `jsonschema` (the reference 2020-12 implementation) explains what is wrong and
has the last word on a rejection. The compiled one reads the schema as draft-07, which means the
same here: the schema uses only keywords common to both drafts and no `$ref` beside other
keywords. tests/test_schema_check.py holds the two to the same answers.
"""
from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources

import fastjsonschema
import jsonschema

SCHEMA_FILE = "attendance-event.v1.json"


@lru_cache(maxsize=None)
def schema() -> dict:
    return json.loads(resources.files(__package__).joinpath("schema", SCHEMA_FILE).read_text(encoding="utf-8"))


@lru_cache(maxsize=None)
def validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(schema(), format_checker=jsonschema.FormatChecker())


@lru_cache(maxsize=None)
def fast_validator():
    return fastjsonschema.compile({**schema(), "$schema": "http://json-schema.org/draft-07/schema#"})


def is_valid_fast(event) -> bool:
    try:
        fast_validator()(event)
    except fastjsonschema.JsonSchemaException:
        return False
    return True


def problems(event, where: str) -> list[str]:
    """Human-readable schema violations of one event, each prefixed by its location."""
    if is_valid_fast(event):
        return []
    found = []
    for error in sorted(validator().iter_errors(event), key=lambda e: list(e.absolute_path)):
        path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
        found.append(f"{where}{path}: {error.message}")
    return found
