"""The Prosody module and the Openfire plugin emit the same events for the same scenario.

For every vector in tests/vectors, the Lua module runs inside a real Prosody (0.12 and 13) driven by real
clients (tests/prosody/driver.py), and the Java plugin's Openfire-facing classes run through
openfire-plugin's ScenarioRunner (Openfire itself cannot run here: the runner calls the plugin the
way Openfire's MUC event dispatcher and packet interceptors would, through the compile-only API
stand-ins in openfire-plugin/src/test/stubs). Both outputs are lined up with the vector's
expectations, then compared with each other field by field.

What legitimately differs is left out of the comparison: event ids, times, the process instance,
`source.server`, and the occupants' JIDs (random endpoint ids and anonymous accounts chosen at
run time). Everything a teacher sees — types, rooms, breakout parents, display names, renames,
roles, identity and the claim allow-list — must be equal.
"""
from __future__ import annotations

import copy
import json
import subprocess

import pytest

from tests.prosody.driver import run_vector
from tests.prosody.environment import logger_prosody
from tests.prosody.receivers import CaptureReceiver
from tests.support import contract, vectors

PLUGIN = contract.ROOT / "openfire-plugin"
RUNNER = "org.jitsictl.openfire.attendance.ScenarioRunner"
ALL = vectors.all_vectors()


def _newest(paths) -> float:
    return max((p.stat().st_mtime for p in paths), default=0.0)


@pytest.fixture(scope="module")
def java_plugin():
    """The plugin compiled by openfire-plugin/scripts/build, rebuilt when its sources are newer."""
    runner_class = PLUGIN / "build/test-classes" / (RUNNER.replace(".", "/") + ".class")
    sources = list((PLUGIN / "src").rglob("*.java"))
    if not runner_class.exists() or runner_class.stat().st_mtime < _newest(sources):
        build = subprocess.run([str(PLUGIN / "scripts/build")], capture_output=True, text=True)
        assert build.returncode == 0, "openfire-plugin/scripts/build failed:\n" + build.stderr[-3000:]
    classpath = subprocess.run([str(PLUGIN / "scripts/classpath")], capture_output=True, text=True,
                               check=True).stdout.strip()

    outputs: dict[str, list[dict]] = {}   # the Java side does not depend on the Prosody version

    def run(vector: vectors.Vector) -> list[dict]:
        if vector.name in outputs:
            return outputs[vector.name]
        done = subprocess.run(
            ["java", "-cp", classpath, RUNNER, str(vectors.VECTORS_DIR / f"{vector.name}.json"),
             ",".join(vector.settings["claims"])],
            capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr[-3000:]
        outputs[vector.name] = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
        return outputs[vector.name]

    return run


def comparable(event: dict) -> dict:
    """The event without what legitimately differs between two servers and two runs."""
    event = copy.deepcopy(event)
    for key in ("id", "time", "source"):
        event.pop(key, None)
    for key in ("occupant_jid", "user_jid", "bare_jid"):
        event.get("occupant", {}).pop(key, None)
    return event


@pytest.mark.slow
@pytest.mark.parametrize("vector", ALL, ids=lambda v: v.name)
def test_lua_and_java_emit_the_same_events(vector, java_plugin, tmp_path, prosody_version):
    java = vectors.align(vector, java_plugin(vector))

    sink = CaptureReceiver().start()
    prosody = logger_prosody(tmp_path / "prosody", sink.url, sink.secret, claims=vector.settings["claims"],
                             breakout=any(s.get("component") == "breakout" for s in vector.steps),
                             version=prosody_version)
    prosody.start()
    try:
        lua = run_vector(vector, prosody, sink)
    finally:
        prosody.stop()
        sink.stop()

    assert [e["source"]["server"] for e in lua] == ["prosody"] * len(lua)
    assert [e["source"]["server"] for e in java] == ["openfire"] * len(java)
    differences = [
        f"event {i} ({expected['type']} at {expected['_at']}):\n  lua  {comparable(a)}\n  java {comparable(b)}"
        for i, (expected, a, b) in enumerate(zip(vector.expected_events(), lua, java, strict=True))
        if comparable(a) != comparable(b)
    ]
    assert not differences, "\n".join(differences)


def test_comparison_sees_a_difference_in_what_teachers_see():
    # Guards the comparison itself: only run-specific fields are ignored.
    vector = vectors.load(vectors.VECTORS_DIR / "02-rename.json")
    import datetime as dt

    event = vector.materialize(dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc))[4]
    other = copy.deepcopy(event)
    other["id"], other["time"], other["source"]["server"] = "x", "y", "openfire"
    other["occupant"]["user_jid"] = "someone@else/1"
    assert comparable(event) == comparable(other)
    other["occupant"]["previous_nick"] = "bob"
    assert comparable(event) != comparable(other)
