"""Schema v1 accepts every event the vectors expect and rejects each invalid event for its reason."""
import datetime as dt

import pytest

from tests.support import contract, vectors

BASE = dt.datetime(2025, 11, 22, 8, 0, tzinfo=dt.timezone.utc)
INVALID = contract.invalid_events()


@pytest.mark.parametrize("vector", vectors.all_vectors(), ids=lambda v: v.name)
def test_every_vector_event_is_valid(vector):
    for event in vector.materialize(BASE):
        errors = [e.message for e in contract.validator().iter_errors(event)]
        assert not errors, (event["type"], errors)


def test_openfire_events_are_valid_too():
    for vector in vectors.all_vectors():
        for event in vector.materialize(BASE, server="openfire"):
            assert contract.validator().is_valid(event)


def test_invalid_corpus_base_is_valid():
    # Otherwise a "rejected" case could be rejected for a reason other than its own.
    assert contract.validator().is_valid(INVALID["valid_base"])


def test_invalid_corpus_is_large_and_distinct():
    reasons = [case["reason"] for case in INVALID["invalid"]]
    assert len(reasons) >= 20
    assert len(set(reasons)) == len(reasons)


@pytest.mark.parametrize("case", INVALID["invalid"], ids=lambda c: c["reason"])
def test_invalid_event_is_rejected(case):
    assert not contract.validator().is_valid(case["event"]), case["reason"]


def test_unknown_fields_are_allowed():
    # Versioning rule: fields are only added within v1 and receivers ignore what they do not know.
    event = dict(INVALID["valid_base"], future_field={"x": 1})
    event["room"] = dict(event["room"], colour="blue")
    assert contract.validator().is_valid(event)


@pytest.mark.parametrize("uid", ["0b9f6d0e-3c1e-4f7a-9a52-2d6f1f0f5b11", "01JD3N5Z8Q4W0X9F6G7H8J9K0M"])
def test_uuid_and_ulid_ids_are_accepted(uid):
    assert contract.validator().is_valid(dict(INVALID["valid_base"], id=uid))


def test_identity_issuer_is_an_optional_string():
    # Added within v1 (optional, so plugins that do not send it stay valid): the token's `iss`.
    base = INVALID["valid_base"]
    for issuer in ("moodle-school", "", "https://lms.school.example/" + "x" * 228):
        event = dict(base, identity=dict(base["identity"], issuer=issuer))
        assert contract.validator().is_valid(event), issuer
    assert "issuer" not in base["identity"] and contract.validator().is_valid(base)
