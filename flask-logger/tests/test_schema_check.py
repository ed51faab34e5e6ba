"""The fast validator and the reference validator give the same verdict on every event.

The receiver lets `fastjsonschema` decide (for speed) and `jsonschema` explain; a disagreement
would let an invalid event in or refuse a valid one. Checked on the contract's own examples and
on many mutations of them (hypothesis).
"""
from __future__ import annotations

import copy
import datetime as dt

from hypothesis import given, settings, strategies as st

from attendance_logger import schema_check
from tests.support import contract, vectors

BASE = dt.datetime(2025, 11, 22, 8, 0, tzinfo=dt.timezone.utc)
SAMPLES = ([contract.invalid_events()["valid_base"]] + [c["event"] for c in contract.invalid_events()["invalid"]]
           + [e for v in vectors.all_vectors() for e in v.materialize(BASE)])


def reference_valid(event) -> bool:
    return schema_check.validator().is_valid(event)


def test_verdicts_agree_on_the_contract_examples_and_every_vector_event():
    for event in SAMPLES:
        assert schema_check.is_valid_fast(event) == reference_valid(event), event
    assert sum(not reference_valid(e) for e in SAMPLES) == len(contract.invalid_events()["invalid"])


scalars = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.text(max_size=12),
                    st.sampled_from(["", "x", "a@b", "a@b/c", "room@muc.meet.jitsi", "2025-11-22T08:00:00.000Z",
                                     "moderator", "occupant.joined", "source.started", "room.created", "prosody",
                                     "0b9f6d0e-3c1e-4f7a-9a52-2d6f1f0f5b11", "short"]))
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                       st.dictionaries(st.text(max_size=6), inner, max_size=3)),
                      max_leaves=6)


def paths(obj, prefix=()):
    yield prefix
    if isinstance(obj, dict):
        for key, value in obj.items():
            yield from paths(value, prefix + (key,))


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(SAMPLES[:40]), st.data())
def test_verdicts_agree_on_mutated_events(event, data):
    mutated = copy.deepcopy(event)
    for _ in range(data.draw(st.integers(1, 3))):
        if not isinstance(mutated, dict):
            break
        path = data.draw(st.sampled_from(list(paths(mutated))[1:] or [("id",)]))
        parent = mutated
        for key in path[:-1]:
            parent = parent[key]
        if not isinstance(parent, dict):
            continue
        action = data.draw(st.sampled_from(["delete", "replace", "add"]))
        if action == "delete":
            parent.pop(path[-1], None)
        elif action == "replace":
            parent[path[-1]] = data.draw(values)
        else:
            parent[data.draw(st.sampled_from(["nick", "room", "occupant", "identity", "claims", "role", "extra"]))] = \
                data.draw(values)
    assert schema_check.is_valid_fast(mutated) == reference_valid(mutated), mutated
