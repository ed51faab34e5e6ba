"""CPU cost of deciding whether events are valid contract-v1 events: the receiver's hand-written
check (schema_check.fast_validator, and schema_check.problems as ingest calls it), the reference
jsonschema and, when installed, compiled fastjsonschema (what the receiver used before), in µs
per event. On the README's occupant.joined example (a token user: room, occupant and identity)
and on a 50-event batch made of the shared vectors' events (every type, most without identity).
Also the one-time cost of building each.

    .venv/bin/python bench/schema_check.py [--repeat N]
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import sys
import time
import timeit
from importlib.metadata import version
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "flask-logger")]  # this checkout's receiver, not an installed one

import jsonschema  # noqa: E402

from attendance_logger import schema_check  # noqa: E402
from tests.support import vectors  # noqa: E402

BATCH_SIZE = 50


def readme_joined_event() -> dict:
    readme = (REPO / "schema" / "README.md").read_text(encoding="utf-8")
    return next(e for e in map(json.loads, re.findall(r"```json\n(.*?)```", readme, re.S))
                if e["type"] == "occupant.joined")


def vector_batch() -> list[dict]:
    base = dt.datetime(2025, 11, 22, 8, 0, tzinfo=dt.timezone.utc)
    events = [e for v in vectors.all_vectors() for e in v.materialize(base)]
    return [events[i % len(events)] for i in range(BATCH_SIZE)]


def built(label: str, build):
    start = time.perf_counter()
    made = build()
    print(f"  build {label:<34} {(time.perf_counter() - start) * 1e3:8.2f} ms")
    return made


def per_event_us(decide, events: list[dict], repeat: int) -> float:
    """Best of `repeat` timings (the cost without interference from other load), per event."""
    def run():
        for event in events:
            decide(event)
    timer = timeit.Timer(run)
    loops, _ = timer.autorange()  # enough loops for 0.2 s
    return min(timer.repeat(number=loops, repeat=repeat)) / (loops * len(events)) * 1e6


def compiled_fastjsonschema():
    """fastjsonschema's decision, for comparison; the receiver no longer needs the package."""
    try:
        import fastjsonschema
    except ImportError:
        print("  fastjsonschema not installed: left out")
        return None
    compiled = built(f"fastjsonschema {version('fastjsonschema')} compile", lambda: fastjsonschema.compile(
        {**schema_check.schema(), "$schema": "http://json-schema.org/draft-07/schema#"}))

    def is_valid(event) -> bool:
        try:
            compiled(event)
        except fastjsonschema.JsonSchemaException:
            return False
        return True
    return is_valid


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    options = parser.parse_args()
    print(f"python {sys.version.split()[0]}, jsonschema {version('jsonschema')}")
    schema_check.schema()  # read once, outside every build's time
    hand = built("hand-written (schema_check)", schema_check.fast_validator)
    reference = built("jsonschema Draft202012Validator", lambda: jsonschema.Draft202012Validator(
        schema_check.schema(), format_checker=jsonschema.FormatChecker()))
    deciders = {"hand-written check": hand,
                "schema_check.problems (ingest's call)": lambda e: schema_check.problems(e, "event"),
                "jsonschema is_valid": reference.is_valid}
    compiled = compiled_fastjsonschema()
    if compiled:
        deciders["fastjsonschema (the receiver's before)"] = compiled
    workloads = {"occupant.joined (README)": [readme_joined_event()],
                 f"{BATCH_SIZE}-event vector batch": vector_batch()}
    for name, events in workloads.items():
        assert all(reference.is_valid(e) and hand(e) for e in events), name
        print(f"\n{name}: µs per event (best of {options.repeat})")
        for label, decide in deciders.items():
            print(f"  {label:<40} {per_event_us(decide, events, options.repeat):8.2f}")


if __name__ == "__main__":
    main()
