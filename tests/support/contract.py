"""The contract-v1 schema and the signing example, loaded once for every suite."""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_PATH = ROOT / "schema" / "attendance-event.v1.json"
SIGNING_EXAMPLE_PATH = ROOT / "schema" / "examples" / "signing.json"
INVALID_EVENTS_PATH = ROOT / "schema" / "examples" / "invalid-events.json"
# Other projects' test data, read in place: shared/ sits beside the checkout (here and in CI).
OPENFIRE_RESTAPI_PEER_TESTS = ROOT.parent / "shared" / "peers" / "openfire-restapi-tests"


@lru_cache(maxsize=None)
def validator():
    import jsonschema

    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


def signing_example() -> dict:
    return json.loads(SIGNING_EXAMPLE_PATH.read_text(encoding="utf-8"))


def invalid_events() -> dict:
    return json.loads(INVALID_EVENTS_PATH.read_text(encoding="utf-8"))
