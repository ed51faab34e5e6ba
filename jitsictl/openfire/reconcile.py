"""Desired-state configuration of Openfire for Jitsi, through the REST API plugin.

`desired_state(...)` builds plain data from values (no config objects, so any caller can use
it); `plan(client, desired)` reads Openfire and lists what differs; `apply(client, desired)`
makes those changes, after which `plan` is empty (a second `apply` changes nothing).

What is reconciled (one XMPP domain, see ARCHITECTURE.md §7):
- users `focus` (jicofo) and `jvb` (videobridge) with passwords from the secrets file;
- MUC services `conference` (the meetings) and `internal-muc` (hidden, for the brewery);
- the brewery room `jvbbrewery@internal-muc.<domain>`: members-only and hidden, focus owner,
  jvb member — anonymous guests get `<random>@<domain>`, so only membership keeps them out;
- system properties: BOSH/WebSocket CORS limited to the public origin, anonymous login for
  guests, and the attendance plugin's `attendance.url`, `attendance.secret`, `attendance.claims`,
  `attendance.jitsi.setup=true` (the plugin's one-domain setup for jicofo);
- optionally the `admin` password and `plugin.restapi.secret` (the latter changed last).

Passwords cannot be read back through the API. To converge without rotating on every run, the
user carries a property `jitsictl.password` holding a salted PBKDF2 fingerprint of the password
jitsictl last set; a password whose fingerprint does not match (or a user without one) is set
again. A password changed outside jitsictl is therefore not noticed until the secrets change.

Not reconcilable through the REST API (the attendance plugin does these, see openfire-plugin/):
MUC service sysadmins (focus must own every room) and restricting room creation per service
(Openfire keeps both in per-service MUC properties, not in system properties).

Secret values never appear in a Change: they show as "(secret changed)".
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import os
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Mapping, Optional, Sequence
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from .client import RestApiClient

ADMIN_USER = "admin"
RESTAPI_SECRET_PROPERTY = "plugin.restapi.secret"
FOCUS_USER = "focus"
JVB_USER = "jvb"
CONFERENCE_SERVICE = "conference"
BREWERY_SERVICE = "internal-muc"
BREWERY_ROOM = "jvbbrewery"
PASSWORD_FINGERPRINT_PROPERTY = "jitsictl.password"
# Read by openfire-plugin, which applies it to every conference room.
MAX_OCCUPANTS_PROPERTY = "attendance.jitsi.room.max.occupants"
_PBKDF2_ROUNDS = 20_000
SECRET_SHOWN_AS = "(secret changed)"

ROOM_BOOLEANS = ("persistent", "publicRoom", "registrationEnabled", "canAnyoneDiscoverJID",
                 "canOccupantsChangeSubject", "canOccupantsInvite", "canChangeNickname", "logEnabled",
                 "loginRestrictedToNickname", "membersOnly", "moderated")
ALL_ROLES = ("moderator", "participant", "visitor")
# Openfire reads these only at start: a change shows in plan/apply with this note.
RESTART_REQUIRED = frozenset({"httpbind.CORS.enabled"})


class DesiredStateError(ValueError):
    """A value from the configuration cannot describe a valid Openfire setup."""

    def __init__(self, message: str, hint: str = "fix the value in jitsictl.yaml or its secrets file") -> None:
        super().__init__(message)
        self.hint = hint


@dataclass(frozen=True)
class UserSpec:
    username: str
    password: str = field(repr=False)
    name: str = ""


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    description: str
    hidden: bool = False


@dataclass(frozen=True)
class RoomSpec:
    service: str
    name: str
    description: str
    flags: Mapping[str, bool]       # every entry of ROOM_BOOLEANS
    owners: tuple[str, ...] = ()
    admins: tuple[str, ...] = ()
    members: tuple[str, ...] = ()
    broadcast_presence_roles: tuple[str, ...] = ALL_ROLES
    max_users: int = 0
    allow_pm: str = "anyone"
    password: Optional[str] = field(default=None, repr=False)


@dataclass(frozen=True)
class PropertySpec:
    key: str
    value: str = field(repr=False)
    secret: bool = False


@dataclass(frozen=True)
class DesiredState:
    domain: str
    users: tuple[UserSpec, ...]
    services: tuple[ServiceSpec, ...]
    rooms: tuple[RoomSpec, ...]
    properties: tuple[PropertySpec, ...]


@dataclass(frozen=True)
class Change:
    """One difference between Openfire and the desired state. Never holds a secret value."""
    kind: str       # user | service | room | property
    action: str     # create | update
    target: str
    details: tuple[str, ...] = ()

    def __str__(self) -> str:
        text = f"{self.action} {self.kind} {self.target}"
        return f"{text}: {'; '.join(self.details)}" if self.details else text

    def to_dict(self) -> dict:
        data = asdict(self)
        data["details"] = list(self.details)
        return data


# -- desired state ------------------------------------------------------------------------------

def public_origin(public_url: str) -> str:
    """The browser's Origin for a public URL: scheme://host[:port], no path."""
    parts = urlsplit(public_url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise DesiredStateError(
            f"public_url {public_url!r} must be an absolute http(s) URL such as https://meet.example.org")
    default_port = {"http": 80, "https": 443}[parts.scheme]
    port = f":{parts.port}" if parts.port and parts.port != default_port else ""
    return f"{parts.scheme}://{parts.hostname}{port}"


def _require(name: str, value: Optional[str]) -> str:
    if not isinstance(value, str) or not value.strip():
        raise DesiredStateError(f"{name} is empty",
                                "run `jitsictl render` to generate missing secrets, or set it in the config")
    return value


def brewery_room(domain: str, *, service: str = BREWERY_SERVICE) -> RoomSpec:
    flags = dict.fromkeys(ROOM_BOOLEANS, False)
    flags.update(persistent=True, membersOnly=True, canAnyoneDiscoverJID=True, canChangeNickname=True)
    return RoomSpec(
        service=service, name=BREWERY_ROOM, description="Jitsi Videobridge brewery", flags=flags,
        owners=(f"{FOCUS_USER}@{domain}",), members=(f"{JVB_USER}@{domain}",),
        # an empty list would mean no presence is broadcast, and jicofo would never see a bridge
        broadcast_presence_roles=ALL_ROLES, allow_pm="none")


def desired_state(
    domain: str,
    public_url: str,
    focus_password: str,
    jvb_password: str,
    attendance_url: str,
    attendance_secret: str,
    claims: Sequence[str] = (),
    *,
    allow_guests: bool = True,
    conference_service: str = CONFERENCE_SERVICE,
    brewery_service: str = BREWERY_SERVICE,
    extra_properties: Optional[Mapping[str, str]] = None,
    admin_password: Optional[str] = None,
    restapi_secret: Optional[str] = None,
    max_room_occupants: int = 500,
) -> DesiredState:
    """Everything jitsictl wants Openfire to hold, from plain values.

    claims: names of JWT claims the attendance plugin copies into events (e.g. courseid),
    stored comma-separated in `attendance.claims`. extra_properties: further system properties
    (e.g. tuning of the attendance plugin), applied verbatim and never treated as secrets.
    admin_password: also converge Openfire's `admin` account password (set by autosetup).
    restapi_secret: also converge `plugin.restapi.secret`; to rotate it, run apply with the old
    secret on the client and the new one here — it is changed last, after everything else.
    max_room_occupants: capacity the attendance plugin gives every conference room (0 = no
    limit), `attendance.jitsi.room.max.occupants`.
    """
    domain = _require("domain", domain).strip().lower()
    origin = public_origin(public_url)
    if isinstance(claims, str):
        claims = [c.strip() for c in claims.split(",") if c.strip()]
    bad_claims = [c for c in claims if not c or "," in c or c != c.strip()]
    if bad_claims:
        raise DesiredStateError(f"claim names must be non-empty words without commas: {bad_claims!r}")
    if isinstance(max_room_occupants, bool) or not isinstance(max_room_occupants, int) \
            or max_room_occupants < 0:
        raise DesiredStateError(f"max_room_occupants must be 0 (no limit) or a positive whole number, "
                                f"not {max_room_occupants!r}")
    if not str(attendance_url).startswith(("http://", "https://")):
        raise DesiredStateError(f"attendance_url {attendance_url!r} must be an http(s) URL of the receiver")
    properties = [
        PropertySpec("httpbind.CORS.enabled", "true"),
        PropertySpec("httpbind.CORS.domains", origin),
        PropertySpec("xmpp.auth.anonymous", "true" if allow_guests else "false"),
        PropertySpec("attendance.url", attendance_url),
        PropertySpec("attendance.secret", _require("attendance_secret", attendance_secret), secret=True),
        PropertySpec("attendance.claims", ",".join(claims)),
        # openfire-plugin: make focus a sysadmin of every MUC service and relay focus.<domain>
        PropertySpec("attendance.jitsi.setup", "true"),
        PropertySpec(MAX_OCCUPANTS_PROPERTY, str(max_room_occupants)),
    ]
    if restapi_secret is not None:
        properties.append(PropertySpec(RESTAPI_SECRET_PROPERTY, _require("restapi_secret", restapi_secret),
                                       secret=True))
    known = {p.key for p in properties}
    for key, value in sorted((extra_properties or {}).items()):
        if key in known:
            raise DesiredStateError(f"extra property {key} would override a managed property")
        properties.append(PropertySpec(key, str(value)))
    users = [UserSpec(FOCUS_USER, _require("focus_password", focus_password), "Jitsi focus (jicofo)"),
             UserSpec(JVB_USER, _require("jvb_password", jvb_password), "Jitsi videobridge")]
    if admin_password is not None:
        users.append(UserSpec(ADMIN_USER, _require("admin_password", admin_password)))
    return DesiredState(
        domain=domain,
        users=tuple(users),
        services=(ServiceSpec(conference_service, "Jitsi meetings"),
                  ServiceSpec(brewery_service, "Jitsi internal (videobridge brewery)", hidden=True)),
        rooms=(brewery_room(domain, service=brewery_service),),
        properties=tuple(properties),
    )


# -- password fingerprints ---------------------------------------------------------------------------

def password_fingerprint(password: str, salt: Optional[bytes] = None) -> str:
    salt = salt if salt is not None else os.urandom(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, _PBKDF2_ROUNDS)
    b64 = lambda raw: base64.urlsafe_b64encode(raw).decode().rstrip("=")  # noqa: E731
    return f"pbkdf2-sha256${_PBKDF2_ROUNDS}${b64(salt)}${b64(digest)}"


def fingerprint_matches(password: str, fingerprint: Optional[str]) -> bool:
    try:
        scheme, rounds, salt, digest = (fingerprint or "").split("$")
        if scheme != "pbkdf2-sha256":
            return False
        pad = lambda s: s + "=" * (-len(s) % 4)  # noqa: E731
        expected = hashlib.pbkdf2_hmac("sha256", password.encode(), base64.urlsafe_b64decode(pad(salt)),
                                       int(rounds))
        return hmac.compare_digest(expected, base64.urlsafe_b64decode(pad(digest)))
    except (ValueError, TypeError):
        return False


# -- plan ------------------------------------------------------------------------------------------

def room_body(room: RoomSpec, current: Optional[dict] = None) -> dict:
    """A complete room entity for the upsert. POST /chatrooms resets every field it is not sent
    (booleans to false, maxUsers to 0, allowPM to anyone, broadcastPresenceRoles to none, owners
    to admin, affiliations, subject, password, creationDate...), so every one is sent; updating
    an existing room (`current`, as read from Openfire) keeps its creation date and subject."""
    current = current or {}
    body: dict = {"roomName": room.name, "naturalName": room.name, "description": room.description,
                  "subject": current.get("subject") or "",
                  "maxUsers": room.max_users, "allowPM": room.allow_pm,
                  "broadcastPresenceRoles": list(room.broadcast_presence_roles),
                  "owners": list(room.owners), "admins": list(room.admins), "members": list(room.members),
                  "outcasts": [], "ownerGroups": [], "adminGroups": [], "memberGroups": [],
                  "outcastGroups": []}
    for name in ROOM_BOOLEANS:
        body[name] = bool(room.flags.get(name, False))
    if room.password is not None:
        body["password"] = room.password
    if current.get("creationDate") is not None:
        body["creationDate"] = current["creationDate"]
    return body


def _room_diff(room: RoomSpec, current: dict) -> list[str]:
    from .client import as_list, room_flags

    diffs = []
    have_flags = room_flags(current, ROOM_BOOLEANS)
    for name in ROOM_BOOLEANS:
        want = bool(room.flags.get(name, False))
        if have_flags[name] != want:
            diffs.append(f"{name} {str(have_flags[name]).lower()} -> {str(want).lower()}")
    for label, want in (("owners", room.owners), ("admins", room.admins), ("members", room.members),
                        ("outcasts", ()), ("broadcastPresenceRoles", room.broadcast_presence_roles)):
        have = sorted(str(j).lower() for j in as_list(current, label))
        if have != sorted(w.lower() for w in want):
            diffs.append(f"{label} {have} -> {sorted(want)}")
    if (current.get("description") or "") != room.description:
        diffs.append("description")
    if int(current.get("maxUsers") or 0) != room.max_users:
        diffs.append(f"maxUsers {current.get('maxUsers')} -> {room.max_users}")
    if (current.get("allowPM") or "anyone") != room.allow_pm:
        diffs.append(f"allowPM {current.get('allowPM')} -> {room.allow_pm}")
    if (current.get("password") or None) != room.password:
        diffs.append(f"password {SECRET_SHOWN_AS}")
    return diffs


def plan(client: "RestApiClient", desired: DesiredState) -> list[Change]:
    """What `apply` would change, read-only. Order: users, services, properties, rooms
    (apply moves a change of the REST secret to the very end)."""
    from .client import user_properties

    changes: list[Change] = []
    for user in desired.users:
        current = client.get_user(user.username)
        if current is None:
            changes.append(Change("user", "create", user.username, ("new account",)))
            continue
        details = []
        fingerprint = user_properties(current).get(PASSWORD_FINGERPRINT_PROPERTY)
        if fingerprint is None:
            details.append("password not yet set by jitsictl")
        elif not fingerprint_matches(user.password, fingerprint):
            details.append(f"password {SECRET_SHOWN_AS}")
        if user.name and (current.get("name") or "") != user.name:
            details.append(f"name {current.get('name')!r} -> {user.name!r}")
        if details:
            changes.append(Change("user", "update", user.username, tuple(details)))

    existing_services = {str(s.get("serviceName", "")).lower() for s in client.list_chat_services()}
    for service in desired.services:
        if service.name.lower() not in existing_services:
            changes.append(Change("service", "create", service.name,
                                  ("hidden" if service.hidden else "listed",)))

    current_props = client.list_properties()
    for prop in desired.properties:
        have = current_props.get(prop.key)
        if prop.key == RESTAPI_SECRET_PROPERTY:
            # The secret this client was just accepted with is the one in force; newer plugin
            # versions may hide their own configuration from the property listing.
            have = prop.value if client.uses_secret(prop.value) else (have or "")
        if have == prop.value:
            continue
        note = " (takes effect after an Openfire restart)" if prop.key in RESTART_REQUIRED else ""
        if prop.secret:
            detail = ("set" if have is None else SECRET_SHOWN_AS) + note
        else:
            detail = (f"{prop.value!r}" if have is None else f"{have!r} -> {prop.value!r}") + note
        changes.append(Change("property", "create" if have is None else "update", prop.key, (detail,)))

    for room in desired.rooms:
        target = f"{room.name}@{room.service}"
        current = (client.get_chat_room(room.name, room.service)
                   if room.service.lower() in existing_services else None)
        if current is None:
            changes.append(Change("room", "create", target,
                                  ("members-only" if room.flags.get("membersOnly") else "open",)))
            continue
        diffs = _room_diff(room, current)
        if diffs:
            changes.append(Change("room", "update", target, tuple(diffs)))
    return changes


# -- apply -----------------------------------------------------------------------------------------

def apply(client: "RestApiClient", desired: DesiredState) -> list[Change]:
    """Make Openfire match `desired`; return the changes made (empty when it already did)."""
    from .client import user_properties

    changes = plan(client, desired)
    # changing the REST secret locks this client out: do it after everything else
    changes.sort(key=lambda c: c.kind == "property" and c.target == RESTAPI_SECRET_PROPERTY)
    users = {u.username: u for u in desired.users}
    services = {s.name: s for s in desired.services}
    props = {p.key: p for p in desired.properties}
    rooms = {f"{r.name}@{r.service}": r for r in desired.rooms}
    for change in changes:
        if change.kind == "user":
            user = users[change.target]
            fingerprint = {PASSWORD_FINGERPRINT_PROPERTY: password_fingerprint(user.password)}
            if change.action == "create":
                client.create_user(user.username, user.password, name=user.name or None,
                                   properties=fingerprint)
            else:
                current = client.get_user(user.username) or {}
                # PUT replaces all user properties: keep the ones others set
                merged = {**user_properties(current), **fingerprint}
                client.update_user(user.username, password=user.password, name=user.name or None,
                                   properties=merged)
        elif change.kind == "service":
            service = services[change.target]
            client.create_chat_service(service.name, service.description, service.hidden)
        elif change.kind == "property":
            prop = props[change.target]
            client.create_property(prop.key, prop.value)  # POST sets new and existing alike
        elif change.kind == "room":
            room = rooms[change.target]
            current = client.get_chat_room(room.name, room.service) if change.action == "update" else None
            client.upsert_chat_room(room.service, room_body(room, current))
    return changes
