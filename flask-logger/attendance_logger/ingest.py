"""POST /v1/events: signed, validated, idempotent, durable.

One delivery, top to bottom:

1. content type and size (Flask refuses a body over MAX_CONTENT_LENGTH);
2. the Standard Webhooks signature over the raw body (nothing is parsed before it is known to
   be authentic);
3. the body as JSON: UTF-8 only, numbers a double or a 64-bit integer can hold, no U+0000,
   nesting at most MAX_DEPTH;
4. one event or `{"events": [...]}`, each valid against schema v1 (jsonschema-rs, which names
   every violation), with a time that exists in the calendar, and no event id twice;
5. one transaction (`store`): claim the request's replay key, insert the events that are new
   (`ON CONFLICT DO NOTHING ... RETURNING` tells which), record their server instances
   (instances.py), mark their rooms for the meetings index, commit;
6. 200 `{"accepted", "duplicates"}`, only after the commit.

Any refusal stores nothing and says why; a database error is a 503, which senders retry.
"""
from __future__ import annotations

import json
import logging
import math
import re
import threading
import time
from functools import lru_cache
from importlib import resources

import jsonschema_rs
from flask import Blueprint, current_app, jsonify, request
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import RequestEntityTooLarge

from . import instances, metrics, signing
from .storage import compact_json, database_error_name, insert_for, mark_rooms_dirty, statement
from .tables import events, webhook_ids
from .times import to_ms

bp = Blueprint("ingest", __name__)
log = logging.getLogger("attendance_logger.ingest")

SCHEMA_FILE = "attendance-event.v1.json"
# Deeper than any event (4 levels) with room for future fields; deeper bodies are refused
# before anything else walks them.
MAX_DEPTH = 32
# Integers a signed 64-bit integer holds: the plugins (Lua, Java), PostgreSQL and most JSON
# readers cannot keep more.
INTEGER_RANGE = range(-2 ** 63, 2 ** 63)
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


class Refusal(Exception):
    def __init__(self, status: int, reason: str, message: str, errors: list[str] | None = None):
        super().__init__(message)
        self.status, self.reason, self.message, self.errors = status, reason, message, errors


@lru_cache(maxsize=None)
def schema_validator():
    """Schema v1 (the package's link to the repository's single copy), ready to validate."""
    text = resources.files(__package__).joinpath("schema", SCHEMA_FILE).read_text(encoding="utf-8")
    return jsonschema_rs.validator_for(json.loads(text))


@bp.post("/v1/events")
def receive_events():
    app = current_app
    try:
        batch, replay_key = checked_delivery(app.config, app.extensions["webhook_key"])
        accepted, duplicates = store(app.extensions["storage"], batch, replay_key)
    except Refusal as refusal:
        return _refuse(refusal)
    except DBAPIError as exc:
        log.error("could not store events: database error %s", database_error_name(exc))
        metrics.REQUESTS_REJECTED.labels("database_unavailable").inc()
        return jsonify({"error": "database_unavailable", "message": "the events could not be stored now; "
                        "nothing was stored, send them again later"}), 503
    if accepted:
        metrics.EVENTS_ACCEPTED.inc(accepted)
    if duplicates:
        metrics.EVENTS_DUPLICATE.inc(duplicates)
    _forget_old_webhook_ids(app.extensions["storage"])
    return jsonify({"accepted": accepted, "duplicates": duplicates})


def _refuse(refusal: Refusal):
    metrics.REQUESTS_REJECTED.labels(refusal.reason).inc()
    log.info("refused events from %s: %s (%s)", request.remote_addr, refusal.reason, refusal.message)
    body = {"error": refusal.reason, "message": refusal.message}
    if refusal.errors:
        body["errors"] = refusal.errors
    return jsonify(body), refusal.status


# -- checks, in the order they run ----------------------------------------------------------
def checked_delivery(config, webhook_key: bytes) -> tuple[list[dict], str]:
    """The request's authentic, valid events and its replay key; or a Refusal."""
    mimetype = request.mimetype
    if mimetype != "application/json":
        raise Refusal(415, "unsupported_media_type", f"Content-Type must be application/json, got {mimetype or 'none'!r}")
    limit = config["MAX_CONTENT_LENGTH"]
    try:
        body = request.get_data(cache=False)
    except RequestEntityTooLarge:
        raise Refusal(413, "too_large", f"body exceeds {limit} bytes; send fewer events per request") from None
    try:
        replay_key = signing.verify(webhook_key, request.headers, body,
                                    tolerance_seconds=config["TIMESTAMP_TOLERANCE_SECONDS"], now=config["CLOCK"]())
    except signing.SignatureError as exc:
        raise Refusal(401, exc.reason, exc.message) from None
    payload = parse_json(body)
    if not isinstance(payload, dict):
        raise Refusal(400, "bad_shape", "body must be one event object or {\"events\": [...]}")
    if "events" in payload and "type" not in payload:
        batch = payload["events"]
        if not isinstance(batch, list):
            raise Refusal(400, "bad_shape", "\"events\" must be a list of event objects")
        if not batch:
            raise Refusal(400, "empty_batch", "\"events\" is empty: send at least one event")
        if len(batch) > config["MAX_BATCH_EVENTS"]:
            raise Refusal(413, "batch_too_large",
                          f"{len(batch)} events in one request; the limit is {config['MAX_BATCH_EVENTS']}")
        labels = [f"events[{index}]" for index in range(len(batch))]
    else:
        batch, labels = [payload], ["event"]
    problems = schema_problems(batch, labels)
    if problems:
        raise Refusal(400, "schema", f"{len(problems)} schema violation(s): nothing was stored", problems[:50])
    seen, repeated = set(), set()
    for event in batch:
        if _UUID.fullmatch(event["id"]):
            event["id"] = event["id"].lower()  # the same UUID in any case is the same event
        if event["id"] in seen:
            repeated.add(event["id"])
        seen.add(event["id"])
    if repeated:
        raise Refusal(400, "duplicate_ids", "the same event id appears more than once in this request: "
                      + ", ".join(sorted(repeated)[:10]))
    return batch, replay_key


def parse_json(body: bytes):
    """The body's JSON, or a 400 Refusal saying what in it no sender can mean.

    Only UTF-8 without a byte-order mark (RFC 8259): Python's json would also guess UTF-16 and
    UTF-32. Not NaN or Infinity (not JSON), nor numbers beyond a double (`1e400`) or a 64-bit
    integer, nor U+0000 (XML, so XMPP, cannot carry it and PostgreSQL cannot store it), nor a
    lone UTF-16 surrogate (no character at all), nor nesting deeper than MAX_DEPTH.
    """
    if body.startswith(b"\xef\xbb\xbf"):
        raise Refusal(400, "bad_json", "body starts with a byte-order mark: send UTF-8 without one")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Refusal(400, "bad_json", f"body is not UTF-8 (byte {exc.start}); send JSON as UTF-8") from None
    if "\x00" in text:
        raise Refusal(400, "bad_json", "body holds U+0000 (NUL), which is not UTF-8 JSON text: send UTF-8")
    try:
        payload = json.loads(text, parse_constant=_not_a_number, parse_float=_finite_float, parse_int=_integer)
    except RecursionError:
        raise _too_deep() from None
    except ValueError as exc:
        raise Refusal(400, "bad_json", f"body is not valid JSON: {exc}") from None
    if not _nesting_within(payload, MAX_DEPTH):
        raise _too_deep()
    # In UTF-8 JSON text, NUL and lone surrogates can only be written as escapes.
    if "\\u0000" in text or _SURROGATE_ESCAPE.search(text):
        _check_strings(payload)
    return payload


def _too_deep() -> Refusal:
    return Refusal(400, "bad_json", f"JSON nested deeper than {MAX_DEPTH} levels: events are never that deep")


def _not_a_number(constant: str):
    raise Refusal(400, "bad_json", f"{constant} is not a JSON number (RFC 8259); send null or a string")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise Refusal(400, "bad_json", f"number {text} is beyond what a double holds; send it as a string")
    return value


def _integer(text: str) -> int:
    value = int(text)
    if value not in INTEGER_RANGE:
        raise Refusal(400, "bad_json", f"integer {text} is beyond 64 bits; send it as a string")
    return value


def _nesting_within(payload, limit: int) -> bool:
    """Whether no object or array lies deeper than `limit` (before the schema validator or
    json.dumps walk them)."""
    level = [payload] if type(payload) in (dict, list) else []
    for _ in range(limit):
        if not level:
            return True
        level = [child for container in level
                 for child in (container.values() if type(container) is dict else container)
                 if type(child) in (dict, list)]
    return not level


def _check_strings(value) -> None:
    """Refuse U+0000 and lone surrogates anywhere, keys included."""
    if isinstance(value, str):
        if "\x00" in value:
            raise Refusal(400, "bad_json", "a string holds U+0000 (NUL), which XMPP cannot carry and "
                          "PostgreSQL cannot store")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise Refusal(400, "bad_json", "a string holds a lone UTF-16 surrogate, which is not a character") from None
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_strings(key)
            _check_strings(item)
    elif isinstance(value, list):
        for item in value:
            _check_strings(item)


def schema_problems(batch: list, labels: list[str]) -> list[str]:
    """Every schema violation of every event, each prefixed by where it is
    (`events[3].occupant: "user_jid" is a required property`)."""
    validator = schema_validator()
    problems = []
    for event, label in zip(batch, labels, strict=True):
        if validator.is_valid(event):
            if not _real_time(event["time"]):
                problems.append(f"{label}.time: {event['time']!r} is no moment of the calendar (RFC 3339, UTC)")
            continue
        for error in sorted(validator.iter_errors(event), key=lambda e: [str(p) for p in e.instance_path]):
            path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.instance_path)
            problems.append(f"{label}{path}: {error.message}")
    return problems


def _real_time(value: str) -> bool:
    """The schema's pattern takes 2025-02-31: storage could not place such a time, and a 5xx
    would have the sender retry it for ever."""
    try:
        to_ms(value)
    except ValueError:
        return False
    return True


# -- the transaction ------------------------------------------------------------------------
class Replayed(Exception):
    """The request's replay key was already accepted within the replay window."""


def event_row(event: dict, received_ms: int) -> dict:
    room = event.get("room") or {}
    source = event["source"]
    return {
        "id": event["id"],
        "type": event["type"],
        "time_ms": to_ms(event["time"]),
        "room_jid": room.get("jid"),
        "main_room_jid": room.get("parent_jid") or room.get("jid"),
        "source_server": source["server"],
        "source_host": source["host"],
        "source_instance": source["instance"],
        "received_ms": received_ms,
        "body": compact_json(event),
    }


def store(storage, batch: list[dict], replay_key: str) -> tuple[int, int]:
    """Store a checked batch in one transaction; (accepted, duplicates). Nothing is stored
    when the replay key was already used (a 401) or the database fails (a 503)."""
    now_ms = int(time.time() * 1000)
    rows = [event_row(event, now_ms) for event in batch]
    try:
        with storage.write() as conn:
            claimed = conn.execute(statement(conn, _claim), {"id": replay_key, "accepted_ms": now_ms}).first()
            if claimed is None:
                raise Replayed(replay_key)
            # One statement for all rows (SQLAlchemy writes a multi-row VALUES); RETURNING names
            # the rows that were new, ON CONFLICT DO NOTHING skips the others.
            new_ids = set(conn.execute(statement(conn, _insert_events), rows if len(rows) > 1 else rows[0]).scalars())
            new_rows = [row for row in rows if row["id"] in new_ids]
            if new_rows:
                instances.track(conn, new_rows)
                dirty: dict[str, int] = {}
                for row in new_rows:
                    if row["main_room_jid"] is not None:
                        dirty[row["main_room_jid"]] = min(dirty.get(row["main_room_jid"], row["time_ms"]), row["time_ms"])
                mark_rooms_dirty(conn, dirty)
    except Replayed:
        raise Refusal(401, "replayed", "this exact request (webhook-id and webhook-timestamp) was already "
                      "accepted and its events are stored: re-sign a retry with a fresh timestamp") from None
    return len(new_ids), len(rows) - len(new_ids)


def _claim(conn):
    return insert_for(conn, webhook_ids).on_conflict_do_nothing(index_elements=["id"]).returning(webhook_ids.c.id)


def _insert_events(conn):
    return insert_for(conn, events).on_conflict_do_nothing(index_elements=["id"]).returning(events.c.id)


_last_replay_cleanup = [0.0]


def _forget_old_webhook_ids(storage) -> None:
    """Keep the replay table small: prune it at most once a minute per worker, in a thread of its
    own, so that the delivery that happens to be due does not wait for it."""
    now = time.monotonic()
    if now - _last_replay_cleanup[0] > 60:
        _last_replay_cleanup[0] = now
        threading.Thread(target=_prune_webhook_ids, args=(storage,), name="attendance-prune", daemon=True).start()


def _prune_webhook_ids(storage) -> None:
    try:
        storage.forget_webhook_ids()
    except DBAPIError as exc:  # next minute's delivery tries again
        log.warning("could not prune old webhook ids: database error %s", database_error_name(exc))
