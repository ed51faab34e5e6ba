"""POST /v1/events: signed, validated, idempotent, durable.

Order of checks: content type, size, signature (the body is never parsed before it is known to
be authentic), JSON, shape, schema, duplicate ids, then one transaction that also claims the
request's replay key (webhook-id and timestamp). Any refusal stores nothing.
"""
from __future__ import annotations

import json
import logging
import time

from flask import Blueprint, current_app, jsonify, request
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import RequestEntityTooLarge

from . import metrics, schema_check, signing
from .storage import ReplayError

bp = Blueprint("ingest", __name__)
log = logging.getLogger("attendance_logger.ingest")
_last_replay_cleanup = [0.0]


class Refusal(Exception):
    def __init__(self, status: int, reason: str, message: str, errors: list[str] | None = None):
        super().__init__(message)
        self.status, self.reason, self.message, self.errors = status, reason, message, errors


def _refuse(refusal: Refusal):
    metrics.REQUESTS_REJECTED.labels(refusal.reason).inc()
    log.info("refused events from %s: %s (%s)", request.remote_addr, refusal.reason, refusal.message)
    body = {"error": refusal.reason, "message": refusal.message}
    if refusal.errors:
        body["errors"] = refusal.errors
    return jsonify(body), refusal.status


@bp.post("/v1/events")
def receive_events():
    try:
        batch, replay_key = _checked_batch()
        storage = current_app.extensions["storage"]
        try:
            accepted, duplicates = current_app.extensions["committer"].store(batch, replay_key)
        except ReplayError:
            raise Refusal(401, "replayed", "this exact request (webhook-id and webhook-timestamp) was already "
                          "accepted and its events are stored: re-sign a retry with a fresh timestamp") from None
    except Refusal as refusal:
        return _refuse(refusal)
    metrics.EVENTS_ACCEPTED.inc(accepted)
    metrics.EVENTS_DUPLICATE.inc(duplicates)
    _forget_old_webhook_ids(storage)
    return jsonify({"accepted": accepted, "duplicates": duplicates}), 200


@bp.errorhandler(DBAPIError)
def _database_unavailable(exc):
    # Only the error's type: database messages can quote the events (personal data).
    log.error("could not store events: database error %s", type(exc.orig).__name__ if exc.orig else type(exc).__name__)
    metrics.REQUESTS_REJECTED.labels("database_unavailable").inc()
    return jsonify({"error": "database_unavailable",
                    "message": "the events could not be stored now; nothing was stored, send them again later"}), 503


def _checked_batch() -> tuple[list[dict], str]:
    config = current_app.config
    if request.mimetype != "application/json":
        raise Refusal(415, "unsupported_media_type",
                      f"Content-Type must be application/json, got {request.mimetype or 'none'!r}")
    try:
        body = request.get_data(cache=False)
    except RequestEntityTooLarge:
        raise Refusal(413, "too_large", f"body exceeds {config['MAX_CONTENT_LENGTH']} bytes; "
                      "send fewer events per request") from None
    try:
        replay_key = signing.verify(current_app.extensions["webhook_key"], request.headers, body,
                                    tolerance_seconds=config["TIMESTAMP_TOLERANCE_SECONDS"],
                                    now=config["CLOCK"]())
    except signing.SignatureError as exc:
        raise Refusal(401, exc.reason, exc.message) from None
    try:
        payload = json.loads(body)
    except UnicodeDecodeError:
        raise Refusal(400, "bad_json", "body is not UTF-8") from None
    except ValueError as exc:
        raise Refusal(400, "bad_json", f"body is not valid JSON: {exc}") from None
    if not isinstance(payload, dict):
        raise Refusal(400, "bad_shape", "body must be one event object or {\"events\": [...]}")
    if "events" in payload and "type" not in payload:
        batch = payload["events"]
        if not isinstance(batch, list):
            raise Refusal(400, "bad_shape", "\"events\" must be a list of event objects")
        if not batch:
            raise Refusal(400, "empty_batch", "\"events\" is empty: send at least one event")
        limit = config["MAX_BATCH_EVENTS"]
        if len(batch) > limit:
            raise Refusal(413, "batch_too_large", f"{len(batch)} events in one request; the limit is {limit}")
        labels = [f"events[{index}]" for index in range(len(batch))]
    else:
        batch, labels = [payload], ["event"]
    problems = []
    for event, label in zip(batch, labels):
        problems.extend(schema_check.problems(event, label))
    if problems:
        raise Refusal(400, "schema", f"{len(problems)} schema violation(s): nothing was stored", problems[:50])
    seen, repeated = set(), []
    for event in batch:
        if event["id"] in seen:
            repeated.append(event["id"])
        seen.add(event["id"])
    if repeated:
        raise Refusal(400, "duplicate_ids", "the same event id appears more than once in this request: "
                      + ", ".join(sorted(set(repeated))[:10]))
    return batch, replay_key


def _forget_old_webhook_ids(storage) -> None:
    """Keep the replay table small: prune it at most once a minute per worker."""
    now = time.monotonic()
    if now - _last_replay_cleanup[0] > 60:
        _last_replay_cleanup[0] = now
        storage.forget_webhook_ids()
