"""Standard Webhooks verification (schema/README.md, "Signing").

Each failure has its own reason, so an operator reading a 401 knows whether the clock, the
secret or the sender is at fault.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time


class SignatureError(Exception):
    """The request is not authentic; `reason` is a short machine-readable label."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason
        self.message = message


def sign(key: bytes, webhook_id: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(key, f"{webhook_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def verify(key: bytes, headers, body: bytes, *, tolerance_seconds: int = 300, now: float | None = None) -> str:
    """Check the three webhook headers against the raw body; returns the request's replay key.

    The key is `{webhook-id}.{webhook-timestamp}`: senders keep the webhook-id on every retry but
    re-sign it with a fresh timestamp (schema/README.md), so only a request sent again exactly as
    it was signed is a replay; a retry whose first answer was lost is answered as duplicates.
    """
    webhook_id = headers.get("webhook-id")
    timestamp = headers.get("webhook-timestamp")
    signatures = headers.get("webhook-signature")
    for name, value in (("webhook-id", webhook_id), ("webhook-timestamp", timestamp),
                        ("webhook-signature", signatures)):
        if not value:
            raise SignatureError("missing_header", f"missing {name} header (Standard Webhooks signing)")
    if len(webhook_id) > 240:
        raise SignatureError("bad_header", "webhook-id header is longer than 240 characters")
    if not timestamp.isascii() or not timestamp.isdigit() or len(timestamp) > 12:
        raise SignatureError("bad_timestamp", "webhook-timestamp must be Unix seconds (at most 12 digits)")
    now = time.time() if now is None else now
    skew = int(timestamp) - now
    if skew < -tolerance_seconds:
        raise SignatureError("timestamp_too_old", f"webhook-timestamp is {int(-skew)} s in the past "
                             f"(tolerance {tolerance_seconds} s): check the sender's clock or re-sign on retry")
    if skew > tolerance_seconds:
        raise SignatureError("timestamp_too_new", f"webhook-timestamp is {int(skew)} s in the future "
                             f"(tolerance {tolerance_seconds} s): check the sender's clock")
    expected = base64.b64decode(sign(key, webhook_id, timestamp, body)[3:])
    for candidate in signatures.split(" "):
        version, _, value = candidate.partition(",")
        if version != "v1" or not value:
            continue
        try:
            given = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            continue
        if hmac.compare_digest(expected, given):
            return f"{webhook_id}.{timestamp}"
    raise SignatureError("bad_signature", "webhook-signature does not match: the sender uses another secret "
                         "or the body was changed")
