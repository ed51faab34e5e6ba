"""Configuration from the environment (`ATTENDANCE_*`), checked before anything starts.

A missing or malformed webhook secret stops the receiver with a message that says how to make
one: a receiver that cannot verify signatures must never accept events.
"""
from __future__ import annotations

import base64
import binascii
import os

GENERATE_SECRET_HINT = (
    "generate one with: python -c \"import secrets,base64;"
    "print('whsec_'+base64.b64encode(secrets.token_bytes(32)).decode())\""
)
MIN_SECRET_BYTES = 16  # 128 bits

class ConfigError(Exception):
    """A configuration mistake the operator must fix; the message says how."""


def decode_webhook_secret(secret: str | None) -> bytes:
    """The HMAC key of a `whsec_<base64>` secret (Standard Webhooks)."""
    if not secret:
        raise ConfigError(f"ATTENDANCE_WEBHOOK_SECRET is not set; {GENERATE_SECRET_HINT}")
    if not secret.startswith("whsec_"):
        raise ConfigError(f"ATTENDANCE_WEBHOOK_SECRET must start with 'whsec_'; {GENERATE_SECRET_HINT}")
    try:
        key = base64.b64decode(secret[len("whsec_"):], validate=True)
    except (binascii.Error, ValueError):
        raise ConfigError(f"ATTENDANCE_WEBHOOK_SECRET is not valid base64 after 'whsec_'; {GENERATE_SECRET_HINT}") from None
    if len(key) < MIN_SECRET_BYTES:
        raise ConfigError(f"ATTENDANCE_WEBHOOK_SECRET is too short ({len(key)} bytes, need at least "
                          f"{MIN_SECRET_BYTES}); {GENERATE_SECRET_HINT}")
    return key


def _int(name: str, value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {value!r}") from None


def from_environment(environ=os.environ) -> dict:
    """Flask config keys read from `ATTENDANCE_*` variables (missing ones keep their defaults)."""
    config: dict = {}
    if "ATTENDANCE_DATABASE_URL" in environ:
        config["DATABASE_URL"] = environ["ATTENDANCE_DATABASE_URL"]
    if "ATTENDANCE_WEBHOOK_SECRET" in environ:
        config["WEBHOOK_SECRET"] = environ["ATTENDANCE_WEBHOOK_SECRET"]
    if "ATTENDANCE_ADMIN_PASSWORD" in environ:
        config["ADMIN_PASSWORD"] = environ["ATTENDANCE_ADMIN_PASSWORD"]
    if "ATTENDANCE_SQLITE_SYNCHRONOUS" in environ:
        config["SQLITE_SYNCHRONOUS"] = environ["ATTENDANCE_SQLITE_SYNCHRONOUS"].strip().upper()
    if environ.get("ATTENDANCE_TIMEZONE", "").strip():
        from .localtime import UnknownZone, zone_named

        config["TIMEZONE"] = environ["ATTENDANCE_TIMEZONE"].strip()
        try:
            zone_named(config["TIMEZONE"])
        except UnknownZone as exc:
            raise ConfigError(f"ATTENDANCE_TIMEZONE: {exc}") from None
    if "ATTENDANCE_CLAIM_LABELS" in environ:
        config["CLAIM_LABELS"] = environ["ATTENDANCE_CLAIM_LABELS"]
    if environ.get("ATTENDANCE_METRICS_TOKEN"):
        config["METRICS_TOKEN"] = environ["ATTENDANCE_METRICS_TOKEN"]
    if "ATTENDANCE_METRICS_NETWORKS" in environ:
        config["METRICS_NETWORKS"] = environ["ATTENDANCE_METRICS_NETWORKS"]
    for name, key in (("ATTENDANCE_MAX_BATCH_EVENTS", "MAX_BATCH_EVENTS"),
                      ("ATTENDANCE_MAX_BODY_BYTES", "MAX_CONTENT_LENGTH"),
                      ("ATTENDANCE_TIMESTAMP_TOLERANCE_SECONDS", "TIMESTAMP_TOLERANCE_SECONDS"),
                      ("ATTENDANCE_REFRESH_INTERVAL_SECONDS", "REFRESH_INTERVAL_SECONDS"),
                      ("ATTENDANCE_PROXY_HOPS", "PROXY_HOPS"),
                      ("ATTENDANCE_SESSION_HOURS", "SESSION_HOURS"),
                      ("ATTENDANCE_SESSION_IDLE_MINUTES", "SESSION_IDLE_MINUTES")):
        if name in environ:
            config[key] = _int(name, environ[name])
    from .course_names import CourseNames
    from .rules import Settings

    try:
        config["SETTINGS"] = Settings.from_mapping({k: v for k, v in environ.items() if k.startswith("ATTENDANCE_")})
        config["COURSE_NAMES"] = CourseNames.from_environment(environ)
        if any(name.startswith("ATTENDANCE_MOODLE_") for name in environ):  # else no HTTP client is loaded
            from .moodle.settings import MoodleSettings

            config["MOODLE"] = MoodleSettings.from_environment(environ)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    return config
