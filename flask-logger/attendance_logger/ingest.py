"""POST /v1/events: signed, validated, idempotent, durable.

Order of checks: content type, size, signature (the body is never parsed before it is known to
be authentic), JSON, shape, schema, duplicate ids, then one transaction that also claims the
request's replay key (webhook-id and timestamp). Any refusal stores nothing.

Every delivery of every Jitsi server comes here, so no framework stands in front of it: under
gunicorn the event loop of asgi.py answers it (`respond_async`), and under Flask's development
server or test client `IngestEndpoint`, plain WSGI, does (`respond`). Flask's request context,
session and hooks would cost as much CPU as verifying and storing a single event.
"""
from __future__ import annotations

import json
import logging
import threading
import time

import orjson

from flask import Blueprint, Response, current_app, request
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wsgi import get_input_stream

from . import metrics, schema_check, signing
from .storage import ReplayError, database_error_name, parse_time_ms
from .writer_process import StoreUnavailable

bp = Blueprint("ingest", __name__)
log = logging.getLogger("attendance_logger.ingest")
_last_replay_cleanup = [0.0]


class Refusal(Exception):
    def __init__(self, status: int, reason: str, message: str, errors: list[str] | None = None):
        super().__init__(message)
        self.status, self.reason, self.message, self.errors = status, reason, message, errors


class ClientGone(Exception):
    """The sender closed the connection before its body arrived: nobody to answer."""


PATH = "/v1/events"
REQUEST_SECONDS = metrics.REQUEST_SECONDS.labels(PATH)
REASONS = {200: "OK", 400: "BAD REQUEST", 401: "UNAUTHORIZED", 413: "REQUEST ENTITY TOO LARGE",
           415: "UNSUPPORTED MEDIA TYPE", 500: "INTERNAL SERVER ERROR", 503: "SERVICE UNAVAILABLE"}
_JSON_HEADERS = [("Content-Type", "application/json")]


def prepare(app) -> None:
    """Build what every delivery uses before gunicorn forks its workers, not in each worker's
    first deliveries; a schema the validity check was not written for stops the start here."""
    schema_check.fast_validator()
    app.extensions["storage"].prepare_ingest()


class IngestEndpoint:
    """WSGI middleware answering `POST /v1/events` itself; everything else goes to Flask."""

    def __init__(self, app):
        self.flask_app = app
        self.next = app.wsgi_app
        prepare(app)

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO") != PATH or environ.get("REQUEST_METHOD") != "POST":
            return self.next(environ, start_response)
        started = time.perf_counter()
        status, body = respond(self.flask_app, environ)
        start_response(f"{status} {REASONS.get(status, '')}".rstrip(),
                       _JSON_HEADERS + [("Content-Length", str(len(body)))])
        REQUEST_SECONDS.observe(time.perf_counter() - started)
        return [body]


@bp.post(PATH)
def receive_events():
    """Reached only without IngestEndpoint in front (it answers these first)."""
    status, body = respond(current_app._get_current_object(), request.environ)
    return Response(body, status=status, mimetype="application/json")


class _EnvironHeaders:
    """The request headers signing.verify reads, straight from the WSGI environ."""
    __slots__ = ("environ",)

    def __init__(self, environ):
        self.environ = environ

    def get(self, name: str):
        return self.environ.get("HTTP_" + name.upper().replace("-", "_"))


def _encode(answer: dict) -> bytes:
    return json.dumps(answer, separators=(",", ":"), sort_keys=True).encode() + b"\n"


def respond(app, environ) -> tuple[int, bytes]:
    """Handle one delivery from a WSGI environ: (HTTP status, JSON body)."""
    app.extensions["attendance"].start_background_refresh(app.config["REFRESH_INTERVAL_SECONDS"])
    try:
        check_content_type(environ.get("CONTENT_TYPE", ""))
        limit = app.config["MAX_CONTENT_LENGTH"]
        try:
            body = get_input_stream(environ, max_content_length=limit).read()
        except RequestEntityTooLarge:
            raise too_large(limit) from None
        batch, replay_key = checked_batch(app, _EnvironHeaders(environ), body)
        outcome = app.extensions["committer"].store(batch, replay_key)
    except Exception as exc:
        return _failed(exc, environ.get("REMOTE_ADDR"))
    return _stored(app, outcome)


async def respond_async(app, content_type: str, headers, read_body, client: str | None) -> tuple[int, bytes]:
    """`respond` for the event loop: `read_body(limit)` is awaited for the body, and the commit is
    awaited while the loop serves other requests."""
    app.extensions["attendance"].start_background_refresh(app.config["REFRESH_INTERVAL_SECONDS"])
    try:
        check_content_type(content_type)
        body = await read_body(app.config["MAX_CONTENT_LENGTH"])
        batch, replay_key = checked_batch(app, headers, body)
        outcome = await app.extensions["committer"].store_async(batch, replay_key)
    except ClientGone:
        raise
    except Exception as exc:
        return _failed(exc, client)
    return _stored(app, outcome)


def _stored(app, outcome: tuple[int, int]) -> tuple[int, bytes]:
    accepted, duplicates = outcome
    if accepted:  # each counter update writes a shared memory-mapped file under gunicorn
        metrics.EVENTS_ACCEPTED.inc(accepted)
    if duplicates:
        metrics.EVENTS_DUPLICATE.inc(duplicates)
    _forget_old_webhook_ids(app.extensions["storage"])
    return 200, _encode({"accepted": accepted, "duplicates": duplicates})


def _failed(exc: Exception, client: str | None) -> tuple[int, bytes]:
    if isinstance(exc, ReplayError):
        exc = Refusal(401, "replayed", "this exact request (webhook-id and webhook-timestamp) was already "
                      "accepted and its events are stored: re-sign a retry with a fresh timestamp")
    if isinstance(exc, Refusal):
        return _refuse(exc, client)
    if isinstance(exc, DBAPIError):
        return _database_unavailable(database_error_name(exc))
    if isinstance(exc, StoreUnavailable):  # from the writer process: a database error, or it is gone
        return _database_unavailable(str(exc))
    # Answered like Flask would, without the body (personal data) in the log.
    log.error("could not handle an event delivery", exc_info=exc)
    return 500, _encode({"error": "internal_error", "message": "the events could not be stored; "
                         "nothing was stored, send them again later"})


def _refuse(refusal: Refusal, client: str | None) -> tuple[int, bytes]:
    metrics.REQUESTS_REJECTED.labels(refusal.reason).inc()
    log.info("refused events from %s: %s (%s)", client, refusal.reason, refusal.message)
    body = {"error": refusal.reason, "message": refusal.message}
    if refusal.errors:
        body["errors"] = refusal.errors
    return refusal.status, _encode(body)


def _database_unavailable(error_type: str) -> tuple[int, bytes]:
    log.error("could not store events: database error %s", error_type)
    metrics.REQUESTS_REJECTED.labels("database_unavailable").inc()
    return 503, _encode({"error": "database_unavailable",
                         "message": "the events could not be stored now; nothing was stored, send them again later"})


def check_content_type(content_type: str) -> None:
    mimetype = content_type.split(";", 1)[0].strip().lower()
    if mimetype != "application/json":
        raise Refusal(415, "unsupported_media_type",
                      f"Content-Type must be application/json, got {mimetype or 'none'!r}")


def too_large(limit: int) -> Refusal:
    return Refusal(413, "too_large", f"body exceeds {limit} bytes; send fewer events per request")


def checked_batch(app, headers, body: bytes) -> tuple[list[dict], str]:
    """The authentic, valid events of a request body, and its replay key; or a Refusal."""
    config = app.config
    try:
        replay_key = signing.verify(app.extensions["webhook_key"], headers, body,
                                    tolerance_seconds=config["TIMESTAMP_TOLERANCE_SECONDS"],
                                    now=config["CLOCK"]())
    except signing.SignatureError as exc:
        raise Refusal(401, exc.reason, exc.message) from None
    try:
        payload = _parse(body)
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
    if not problems:
        problems = [f"{label}.time: {event['time']!r} is no moment of the calendar (RFC 3339, UTC)"
                    for event, label in zip(batch, labels) if not _real_time(event["time"])]
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


# A run of 19 digits may be an integer orjson would read as a float (it keeps integers only up to
# 64 bits); json keeps it exact. Found by mapping every digit to "0" (a regular expression took
# ~7 us per kB, a third of a delivery's CPU).
_DIGITS_AS_ZERO = bytes(0x30 if 0x30 <= c <= 0x39 else 0x20 for c in range(256))
_LONG_DIGIT_RUN = b"0" * 19


def _real_time(value: str) -> bool:
    """The schema's pattern takes 2025-02-31, year 0000, a final newline and non-ASCII digits
    (Python's `$` and `\\d`, which the reference validator uses): storage could not place such a
    time, and a 5xx would have the plugin send it again forever."""
    try:
        parse_time_ms(value)
    except ValueError:
        return False
    return True


def _parse(body: bytes):
    """The body's JSON. orjson (~4x faster) reads every well-formed body; whatever it refuses or
    might change goes to Python's json, which gives the reason or reads it exactly.

    NaN and Infinity, which Python's json would take, are not JSON (RFC 8259), and storage could
    not keep them as sent (storage.compact_json). Nor can it keep a lone UTF-16 surrogate, escaped
    (`"\\ud800"`) or encoded, which is no character in UTF-8: refused here with a reason, since a 5xx
    would have the plugin send the same batch again forever."""
    if _LONG_DIGIT_RUN not in body.translate(_DIGITS_AS_ZERO):
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError:
            pass
    payload = json.loads(body, parse_constant=_not_json)
    if _has_lone_surrogate(payload):
        raise ValueError("a string holds a lone UTF-16 surrogate, which is not a character")
    return payload


def _has_lone_surrogate(value) -> bool:
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False
    if isinstance(value, dict):
        return any(_has_lone_surrogate(k) or _has_lone_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_lone_surrogate(item) for item in value)
    return False


def _not_json(constant: str):
    raise ValueError(f"{constant} is not a JSON number (RFC 8259); send null or a string")


def _forget_old_webhook_ids(storage) -> None:
    """Keep the replay table small: prune it at most once a minute per worker, in a thread of its
    own, so that neither the event loop nor the delivery that happens to be due waits for it."""
    now = time.monotonic()
    if now - _last_replay_cleanup[0] > 60:
        _last_replay_cleanup[0] = now
        threading.Thread(target=_prune_webhook_ids, args=(storage,), name="attendance-prune", daemon=True).start()


def _prune_webhook_ids(storage) -> None:
    try:
        storage.forget_webhook_ids()
    except DBAPIError as exc:  # next minute's delivery tries again
        log.warning("could not prune old webhook ids: database error %s", database_error_name(exc))
