"""The bad-input corpus: every refused request gets its own status and reason, and stores nothing.

Transport and signing cases are built here; the schema cases are schema/examples/invalid-events.json,
each sent in a batch after a valid event, so a partly valid request is shown to store nothing.
"""
from __future__ import annotations

import base64
import datetime as dt
import json
import os
import uuid

import pytest
from sqlalchemy import func, select

from attendance_logger.tables import events
from tests.support import contract

OTHER_SECRET = "whsec_" + base64.b64encode(os.urandom(32)).decode()


def valid_event(**changes) -> dict:
    event = dict(contract.invalid_events()["valid_base"], id=str(uuid.uuid4()))
    event.update(changes)
    return event


def signed(sign, body: str | bytes, **options):
    return (body.encode() if isinstance(body, str) else body), sign(body, **options)


def _json(payload) -> str:
    return json.dumps(payload, ensure_ascii=False)


def _without(headers: dict, name: str) -> dict:
    return {k: v for k, v in headers.items() if k != name}


# Each case: (name, build(sign) -> (body bytes, headers), status, reason)
def _case_content_type(value):
    def build(sign):
        body, headers = signed(sign, _json(valid_event()))
        headers = _without(headers, "Content-Type")
        if value:
            headers["Content-Type"] = value
        return body, headers
    return build


def _case_headers(transform):
    def build(sign):
        body, headers = signed(sign, _json(valid_event()))
        return body, transform(headers)
    return build


def _case_sign_options(**options):
    def build(sign):
        return signed(sign, _json(valid_event()), **options)
    return build


def _case_signed_at(offset: dt.timedelta):
    """Signed `offset` from the moment the case runs: the suite may run long after this module
    was imported, and a time fixed at import would drift into the accepted window."""
    def build(sign):
        return signed(sign, _json(valid_event()), timestamp=dt.datetime.now(dt.timezone.utc) + offset)
    return build


def _case_body(text: str | bytes):
    def build(sign):
        return signed(sign, text)
    return build


def _tampered(sign):
    body, headers = signed(sign, _json(valid_event(type="occupant.left")))
    return body.replace(b"occupant.left", b"occupant.joined"), headers


def _oversize(sign):
    event = valid_event()
    event["padding"] = "x" * (1024 * 1024)  # unknown fields are allowed; the size is not
    return signed(sign, _json(event))


def _too_many(sign):
    return signed(sign, _json({"events": [valid_event() for _ in range(501)]}))


def _duplicate_ids(sign):
    first = valid_event()
    return signed(sign, _json({"events": [first, valid_event(), dict(first)]}))


TRANSPORT_CASES = [
    ("content type text/plain", _case_content_type("text/plain"), 415, "unsupported_media_type"),
    ("no content type", _case_content_type(None), 415, "unsupported_media_type"),
    ("form content type", _case_content_type("application/x-www-form-urlencoded"), 415, "unsupported_media_type"),
    ("body over 1 MiB", _oversize, 413, "too_large"),
    ("501 events in one batch", _too_many, 413, "batch_too_large"),
    ("missing webhook-id", _case_headers(lambda h: _without(h, "webhook-id")), 401, "missing_header"),
    ("missing webhook-timestamp", _case_headers(lambda h: _without(h, "webhook-timestamp")), 401, "missing_header"),
    ("missing webhook-signature", _case_headers(lambda h: _without(h, "webhook-signature")), 401, "missing_header"),
    ("timestamp not a number", _case_headers(lambda h: {**h, "webhook-timestamp": "yesterday"}), 401, "bad_timestamp"),
    ("expired timestamp", _case_signed_at(-dt.timedelta(minutes=10)), 401, "timestamp_too_old"),
    ("timestamp in the future", _case_signed_at(dt.timedelta(minutes=10)), 401, "timestamp_too_new"),
    ("signed with another secret", _case_sign_options(secret=OTHER_SECRET), 401, "bad_signature"),
    ("body changed after signing", _tampered, 401, "bad_signature"),
    ("only a v2 signature", _case_headers(lambda h: {**h, "webhook-signature": "v2," + h["webhook-signature"][3:]}),
     401, "bad_signature"),
    ("signature not base64", _case_headers(lambda h: {**h, "webhook-signature": "v1,@@@not-base64@@@"}),
     401, "bad_signature"),
    ("malformed JSON", _case_body('{"events": [ {"id": '), 400, "bad_json"),
    ("NaN is not JSON", _case_body(_json(valid_event(extra=0.5)).replace("0.5", "NaN")), 400, "bad_json"),
    ("lone surrogate escape in a display name",
     _case_body(json.dumps(valid_event()).replace('"nick": "Alice"', '"nick": "Al\\ud800ice"')), 400, "bad_json"),
    ("lone surrogate encoded as UTF-8 bytes in a display name",
     _case_body(json.dumps(valid_event()).replace('"nick": "Alice"', '"nick": "Al@ice"').encode()
                .replace(b"@", b"\xed\xa0\x80")), 400, "bad_json"),
    ("number too long for 64 bits where a string belongs",
     _case_body(json.dumps(valid_event()).replace('"nick": "Alice"', '"nick": 12345678901234567890123')), 400, "bad_json"),
    ("a number where a string belongs",
     _case_body(json.dumps(valid_event()).replace('"nick": "Alice"', '"nick": 1234567890')), 400, "schema"),
    ("body not UTF-8", _case_body(b'{"id": "\xff\xfe"}'), 400, "bad_json"),
    ("a date that does not exist", _case_body(_json(valid_event(time="2025-02-31T10:00:00.000Z"))), 400, "schema"),
    ("a time with a final newline", _case_body(_json(valid_event(time="2025-03-01T10:00:00.000Z\n"))), 400, "schema"),
    ("a time in non-ASCII digits", _case_body(_json(valid_event(time="\uff12\uff10\uff12\uff15-03-01T10:00:00.000Z"))),
     400, "schema"),
    ("JSON array instead of object", _case_body("[]"), 400, "bad_shape"),
    ("a number instead of an object", _case_body("5"), 400, "bad_shape"),
    ("null instead of an object", _case_body("null"), 400, "bad_shape"),
    ("events is not a list", _case_body('{"events": {"id": "x"}}'), 400, "bad_shape"),
    ("empty batch", _case_body('{"events": []}'), 400, "empty_batch"),
    ("duplicate ids inside one batch", _duplicate_ids, 400, "duplicate_ids"),
]

SCHEMA_CASES = [(f"schema: {case['reason']}", case["event"]) for case in contract.invalid_events()["invalid"]]


def stored(app) -> int:
    with app.extensions["storage"].read() as conn:
        return conn.execute(select(func.count()).select_from(events)).scalar()


def test_corpus_is_at_least_thirty_requests():
    assert len(TRANSPORT_CASES) + len(SCHEMA_CASES) + 1 >= 30


@pytest.mark.parametrize("name,build,status,reason", TRANSPORT_CASES, ids=[c[0] for c in TRANSPORT_CASES])
def test_transport_and_signature_refusals(app, client, sign, name, build, status, reason):
    body, headers = build(sign)
    response = client.post("/v1/events", data=body, headers=headers)
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    answer = response.get_json()
    assert answer["error"] == reason
    assert len(answer["message"]) > 10
    assert stored(app) == 0


@pytest.mark.parametrize("name,event", SCHEMA_CASES, ids=[c[0] for c in SCHEMA_CASES])
def test_schema_violations_refuse_the_whole_batch(app, client, sign, name, event):
    body = _json({"events": [valid_event(), event]})
    response = client.post("/v1/events", data=body.encode(), headers=sign(body))
    assert response.status_code == 400
    answer = response.get_json()
    assert answer["error"] == "schema"
    assert answer["errors"] and all(e.startswith("events[1]") for e in answer["errors"]), answer["errors"]
    assert stored(app) == 0


def test_replayed_webhook_id_and_timestamp_are_refused(app, client, sign):
    body = _json(valid_event())
    headers = sign(body)
    assert client.post("/v1/events", data=body.encode(), headers=headers).status_code == 200
    second = _json(valid_event())
    moment = dt.datetime.fromtimestamp(int(headers["webhook-timestamp"]), dt.timezone.utc)
    headers_again = sign(second, webhook_id=headers["webhook-id"], timestamp=moment)
    response = client.post("/v1/events", data=second.encode(), headers=headers_again)
    assert response.status_code == 401 and response.get_json()["error"] == "replayed"
    assert stored(app) == 1


def test_overlong_timestamp_is_refused(app, client, sign):
    body = _json(valid_event())
    headers = dict(sign(body), **{"webhook-timestamp": "0" * 3 + str(int(dt.datetime.now().timestamp()))})
    response = client.post("/v1/events", data=body.encode(), headers=headers)
    assert response.status_code == 401 and response.get_json()["error"] == "bad_timestamp"
    assert stored(app) == 0
