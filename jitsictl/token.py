"""Mint HS256 JWTs in the layout Jitsi's `mod_auth_token` verifies.

Claims: `iss` (first accepted issuer, else the app id), `aud` (first accepted audience, else
`jitsi`, Jitsi's documented default), `sub` (the XMPP domain: with `enable_domain_verification` Jitsi compares it with the
domain, not with the public hostname), `room`, `context.user{id,name,email,moderator,affiliation}`,
`context.group`, the top-level `moderator`, `iat`/`nbf`/`exp`, and custom claims (courseid,
groupid…) at the top level, where the attendance plugins read them. A teacher is marked the way
Moodle's mod_jitsi (v4.3 and later) marks one: `moderator` true in both places and affiliation
`owner` (students: false and `member`), so the token works whichever form the server reads.
"""
from __future__ import annotations

import hashlib
import json
import re
import time
from typing import Any, Optional

from .config import Config, ConfigError

XMPP_DOMAIN = "meet.jitsi"
RESERVED_CLAIMS = frozenset({"iss", "aud", "sub", "room", "context", "moderator", "iat", "nbf", "exp",
                             "jti"})


def parse_claims(pairs: list[str]) -> dict[str, Any]:
    """`k=v` strings to claims; values that parse as JSON numbers or booleans keep that type."""
    claims: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        key = key.strip()
        if not sep or not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", key):
            raise ConfigError("--claim", f"{pair!r} is not of the form name=value", "e.g. --claim courseid=MATH101")
        if key in RESERVED_CLAIMS:
            raise ConfigError("--claim", f"{key!r} is set by jitsictl itself",
                              "use --room, --name, --email, --group, --moderator or --ttl")
        claims[key] = _typed(raw)
    return claims


def _typed(raw: str) -> Any:
    if raw in ("true", "false") or re.match(r"^-?\d+(\.\d+)?$", raw):
        return json.loads(raw)
    return raw


def mint(config: Config, secrets: dict[str, str], *, room: str, name: str,
         email: Optional[str] = None, user_id: Optional[str] = None, group: Optional[str] = None,
         moderator: bool = False, ttl: int = 3600, claims: Optional[dict[str, Any]] = None,
         now: Optional[int] = None) -> str:
    """A signed token for one participant of one room (`room='*'` admits to any room)."""
    if config.auth.type != "jwt":
        raise ConfigError("auth.type", f"is {config.auth.type!r}; tokens need jwt",
                          "run `jitsictl init --auth jwt --jwt-app-id APP --force` or edit jitsictl.yaml")
    secret = secrets.get("JWT_APP_SECRET")
    if not secret:
        raise ConfigError("JWT_APP_SECRET", "missing from jitsictl.secrets.yaml",
                          "run `jitsictl render` to generate it")
    if not room or not name:
        raise ConfigError("--room" if not room else "--name", "must not be empty", "")
    if ttl <= 0:
        raise ConfigError("--ttl", "must be a positive number of seconds", "e.g. --ttl 3600")
    import jwt

    issued = int(time.time()) if now is None else now
    jwt_config = config.auth.jwt
    user = {
        "id": user_id or _stable_id(email or name),
        "name": name,
        "moderator": moderator,
        "affiliation": "owner" if moderator else "member",
    }
    if email:
        user["email"] = email
    context: dict[str, Any] = {"user": user}
    if group:
        context["group"] = group
    payload: dict[str, Any] = dict(claims or {})
    payload.update({
        "iss": jwt_config.issuers[0] if jwt_config.issuers else jwt_config.app_id,
        "aud": jwt_config.audiences[0] if jwt_config.audiences else "jitsi",
        "sub": XMPP_DOMAIN,
        "room": room,
        "context": context,
        "moderator": moderator,
        "iat": issued,
        "nbf": issued - 10,  # tolerate a little clock skew between the minting host and Prosody
        "exp": issued + ttl,
    })
    return jwt.encode(payload, secret, algorithm="HS256")


def _stable_id(seed: str) -> str:
    """A user id that is the same each time for the same email or name (no PII in clear)."""
    return "u-" + hashlib.sha256(seed.strip().lower().encode()).hexdigest()[:16]
