"""The deployment described by `jitsictl.yaml`: load, validate, write.

The file holds no secrets (those live in `jitsictl.secrets.yaml`, see `jitsictl.secrets`).
Every validation error names the key path and how to fix it, so the CLI can print it as one
line without a traceback.
"""
from __future__ import annotations

import dataclasses
import difflib
import ipaddress
import json
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

CONFIG_FILENAME = "jitsictl.yaml"

DEFAULT_IMAGE_REPOSITORY = "ghcr.io/jitsi"
DEFAULT_IMAGE_VERSION = "stable-11146-2"
DEFAULT_OPENFIRE_IMAGE = "ghcr.io/igniterealtime/openfire:v5.0.3"
# The logger keeps its SQLite file in its own volume, mounted at /data in the container.
DEFAULT_DATABASE_URL = "sqlite:////data/attendance.db"

XMPP_SERVERS = ("prosody", "openfire")
AUTH_TYPES = ("none", "internal", "jwt")

_HOSTNAME_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_CLAIM_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_IMAGE_REF = re.compile(r"^[a-z0-9]+([._/:-][a-z0-9]+)*(:[A-Za-z0-9_.-]{1,128})?$")
_IMAGE_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")

# Keys older versions wrote and this one ignores: a warning names them, loading goes on.
RETIRED_KEYS = {
    "images.openfire_restapi_sha256": (
        "the Openfire image now builds the REST API plugin from its public source at a pinned "
        "commit, verified by git"),
}
MAX_ROOM_OCCUPANTS_LIMIT = 100_000

log = logging.getLogger(__name__)


class ConfigError(ValueError):
    """A user mistake in the configuration: `key` is the dotted path, `hint` says how to fix it."""

    def __init__(self, key: str, problem: str, hint: str = "") -> None:
        self.key = key
        self.problem = problem
        self.hint = hint
        message = f"{key}: {problem}" if key else problem
        if hint:
            message += f" — {hint}"
        super().__init__(message)


@dataclass
class Images:
    repository: str = DEFAULT_IMAGE_REPOSITORY
    version: str = DEFAULT_IMAGE_VERSION
    openfire: str = DEFAULT_OPENFIRE_IMAGE


@dataclass
class JwtAuth:
    app_id: str = ""
    issuers: list[str] = field(default_factory=list)
    audiences: list[str] = field(default_factory=list)
    # Teachers (moderator or owner in the token) become moderators, students do not; false makes
    # every token holder a moderator (jicofo's default with JWT).
    moderators_from_token: bool = True


@dataclass
class Auth:
    type: str = "none"
    # auth internal: people without an account may join rooms an account holder has opened.
    guests: bool = False
    jwt: JwtAuth = field(default_factory=JwtAuth)


@dataclass
class Ports:
    http: int = 8000
    https: int = 8443
    jvb_udp: int = 10000
    attendance: int = 8090


@dataclass
class LetsEncrypt:
    enabled: bool = False
    domain: str = ""
    email: str = ""


@dataclass
class Thresholds:
    """Rendered as the receiver's ATTENDANCE_* variables of the same names (whole numbers)."""

    reconnect_grace_seconds: int = 60
    late_after_seconds: int = 300
    left_early_seconds: int = 300
    present_min_percent: int = 75
    partial_min_percent: int = 25


@dataclass
class Moodle:
    """The receiver's sync into Moodle's Attendance activity (flask-logger docs/moodle.md); the
    web-service token is ATTENDANCE_MOODLE_TOKEN in jitsictl.secrets.yaml."""

    url: str = ""  # empty: no sync
    ca_file: str = ""  # the school's CA for Moodle's certificate (a path on this server)
    statuses: dict[str, str] = field(default_factory=dict)  # outcome -> Attendance status acronym
    attendance: dict[str, int] = field(default_factory=dict)  # course shortname -> activity id (view.php?id=)
    auto_sync: bool = True


@dataclass
class Attendance:
    claims: list[str] = field(default_factory=lambda: ["courseid", "groupid"])
    # Headings of claim columns on the dashboard and in exports ({claim: heading}); empty: the
    # receiver's own (its language's words for courseid and groupid).
    claim_labels: dict[str, str] = field(default_factory=dict)
    database_url: str = DEFAULT_DATABASE_URL
    thresholds: Thresholds = field(default_factory=Thresholds)
    # The course (and group) in room names, for tokens without a course claim (stock mod_jitsi).
    room_pattern: str = ""
    room_courses: dict[str, str] = field(default_factory=dict)  # room's course -> course
    moodle: Moodle = field(default_factory=Moodle)


@dataclass
class Openfire:
    # Most occupants of one conference room (Openfire's room maxUsers; owners such as the focus
    # are not counted against it); 0 means no limit. Openfire's own default is 30.
    max_room_occupants: int = 500


@dataclass
class Config:
    domain: str = "localhost"
    public_url: str = ""
    xmpp: str = "prosody"
    timezone: str = "UTC"
    jvb_advertise_ips: list[str] = field(default_factory=list)
    images: Images = field(default_factory=Images)
    auth: Auth = field(default_factory=Auth)
    ports: Ports = field(default_factory=Ports)
    letsencrypt: LetsEncrypt = field(default_factory=LetsEncrypt)
    attendance: Attendance = field(default_factory=Attendance)
    openfire: Openfire = field(default_factory=Openfire)

    @property
    def effective_public_url(self) -> str:
        """The URL users open: `public_url` when set, else derived from domain and HTTPS port."""
        if self.public_url:
            return self.public_url.rstrip("/")
        port = "" if self.ports.https == 443 else f":{self.ports.https}"
        return f"https://{self.domain}{port}"

    @property
    def letsencrypt_domain(self) -> str:
        return self.letsencrypt.domain or self.domain


# --- reading -------------------------------------------------------------------------------


def from_dict(data: Any) -> Config:
    """Build and validate a Config from parsed YAML; raises ConfigError naming the bad key."""
    if data is None:
        data = {}
    config = _build(Config, data, "")
    validate(config)
    return config


def load(path: str | Path) -> Config:
    """Read and validate `jitsictl.yaml`."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            "", f"{path} not found", "create it with `jitsictl init` (or pass --config PATH)"
        ) from None
    import yaml

    try:
        # libyaml's loader when PyYAML has it (same safe subset, faster start of every command)
        data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigError("", f"{path} is not valid YAML{where}", "fix the syntax") from None
    if data is not None and not isinstance(data, dict):
        raise ConfigError("", f"{path} must hold a mapping of keys", "see `jitsictl init`")
    return from_dict(data)


def _build(cls: type, data: Any, prefix: str):
    if not isinstance(data, dict):
        raise ConfigError(prefix.rstrip("."), "must be a mapping", "indent its keys under it")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    values = {}
    for key, value in data.items():
        path = f"{prefix}{key}"
        if path in RETIRED_KEYS:
            log.warning("warning: %s is no longer used and is ignored: %s; remove it from "
                        "jitsictl.yaml", path, RETIRED_KEYS[path])
            continue
        if key not in fields:
            close = difflib.get_close_matches(str(key), list(fields), n=1)
            if re.search(r"secret|password|token", str(key), re.I):
                hint = "secrets belong in jitsictl.secrets.yaml, never in jitsictl.yaml"
            elif close:
                hint = f"did you mean {prefix}{close[0]}?"
            else:
                hint = "known keys here: " + ", ".join(fields)
            raise ConfigError(path, "unknown key", hint)
        values[key] = _coerce(fields[key], value, path)
    return cls(**values)


def _coerce(f: dataclasses.Field, value: Any, path: str):
    default = f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
    if dataclasses.is_dataclass(default):
        return _build(type(default), value if value is not None else {}, path + ".")
    if value is None:
        return default
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise ConfigError(path, f"must be true or false, not {value!r}")
        return value
    if isinstance(default, int):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(path, f"must be a whole number, not {value!r}")
        return value
    if isinstance(default, dict):
        if not isinstance(value, dict) or not all(isinstance(k, (str, int)) and not isinstance(k, bool)
                                                  and isinstance(v, (str, int)) and not isinstance(v, bool)
                                                  for k, v in value.items()):
            raise ConfigError(path, "must be a mapping of names to values",
                              "e.g. {courseid: Course} or {mat-1a: MAT-1A}")
        return {str(k): v for k, v in value.items()}
    if isinstance(default, list):
        if isinstance(value, str):
            value = [item.strip() for item in value.split(",") if item.strip()]
        if not isinstance(value, list) or not all(isinstance(v, (str, int)) for v in value):
            raise ConfigError(path, "must be a list of strings", 'e.g. ["a", "b"]')
        return [str(v) for v in value]
    if not isinstance(value, (str, int, float)) or isinstance(value, bool):
        raise ConfigError(path, f"must be a string, not {value!r}")
    return str(value)


# --- validation ----------------------------------------------------------------------------


def is_hostname(name: str) -> bool:
    if not name or len(name) > 253:
        return False
    return all(_HOSTNAME_LABEL.match(label) for label in name.split("."))


def validate(config: Config) -> None:
    """Check cross-field rules; raise ConfigError on the first problem found."""
    if not is_hostname(config.domain):
        raise ConfigError(
            "domain",
            f"{config.domain!r} is not a hostname",
            "use the public DNS name, lower case, e.g. meet.example.org",
        )
    if config.public_url:
        parts = urlsplit(config.public_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(
                "public_url",
                f"{config.public_url!r} is not an http(s) URL",
                "e.g. https://meet.example.org (include the port when it is not 443)",
            )
        if parts.path not in ("", "/") or parts.query or parts.fragment:
            raise ConfigError("public_url", "must not have a path, query or fragment",
                              "give only scheme, host and port")
    if config.xmpp not in XMPP_SERVERS:
        raise ConfigError("xmpp", f"{config.xmpp!r} is not supported", "use prosody or openfire")
    _validate_timezone(config.timezone)
    for index, entry in enumerate(config.jvb_advertise_ips):
        _validate_advertise_ip(entry, f"jvb_advertise_ips[{index}]")
    _validate_images(config.images)
    _validate_auth(config)
    _validate_ports(config)
    _validate_letsencrypt(config)
    _validate_attendance(config.attendance)
    _validate_openfire(config.openfire)


def _validate_timezone(name: str) -> None:
    from zoneinfo import ZoneInfo

    try:
        if not name or "\n" in name:
            raise ValueError(name)
        ZoneInfo(name)
    except (ValueError, OSError, LookupError):
        raise ConfigError(
            "timezone", f"{name!r} is not an IANA time zone", "e.g. UTC or Europe/Paris"
        ) from None


def _validate_advertise_ip(entry: str, path: str) -> None:
    address, _, port = entry.partition("#")
    try:
        ipaddress.ip_address(address)
    except ValueError:
        raise ConfigError(
            path, f"{entry!r} is not an IP address",
            "list the addresses clients reach the JVB on, e.g. 203.0.113.7 (optionally #port)",
        ) from None
    if port and not (port.isdigit() and 0 < int(port) < 65536):
        raise ConfigError(path, f"port {port!r} is not a UDP port number", "use 1-65535")


def _validate_images(images: Images) -> None:
    if not re.match(r"^[a-z0-9]+([._/:-][a-z0-9]+)*$", images.repository):
        raise ConfigError("images.repository", f"{images.repository!r} is not an image repository",
                          "e.g. ghcr.io/jitsi")
    if not _IMAGE_TAG.match(images.version):
        raise ConfigError("images.version", f"{images.version!r} is not an image tag",
                          "e.g. stable-11146-2")
    if not _IMAGE_REF.match(images.openfire):
        raise ConfigError("images.openfire", f"{images.openfire!r} is not an image reference",
                          "e.g. ghcr.io/igniterealtime/openfire:v5.0.3")


def _validate_auth(config: Config) -> None:
    auth = config.auth
    if auth.type not in AUTH_TYPES:
        raise ConfigError("auth.type", f"{auth.type!r} is not supported", "use none, internal or jwt")
    if auth.guests:
        if auth.type != "internal":
            raise ConfigError("auth.guests", f"needs auth.type internal, not {auth.type}",
                              "with none everyone is a guest already; with jwt everyone needs a "
                              "token from the LMS: set guests: false")
        if config.xmpp == "openfire":
            raise ConfigError(
                "auth.guests", "is not available with xmpp: openfire",
                "Openfire has one XMPP domain, so jicofo cannot tell guests from account holders "
                "(guests would become moderators): set guests: false, or use xmpp: prosody")
    if auth.type != "jwt":
        return
    if config.xmpp == "openfire":
        raise ConfigError(
            "auth.type", "jwt is not available with xmpp: openfire (Openfire cannot verify Jitsi tokens)",
            "use auth.type none or internal with Openfire, or xmpp: prosody for JWT",
        )
    if not auth.jwt.app_id:
        raise ConfigError(
            "auth.jwt.app_id", "required when auth.type is jwt",
            "set it with --jwt-app-id or in jitsictl.yaml",
        )
    if not re.match(r"^[A-Za-z0-9_.-]{1,128}$", auth.jwt.app_id):
        raise ConfigError("auth.jwt.app_id", f"{auth.jwt.app_id!r} has characters Jitsi rejects",
                          "use letters, digits, '.', '_' or '-'")
    for key in ("issuers", "audiences"):
        for index, value in enumerate(getattr(auth.jwt, key)):
            if not value or "," in value or '"' in value:
                raise ConfigError(f"auth.jwt.{key}[{index}]", f"{value!r} is not a usable value",
                                  "give non-empty strings without commas or quotes")


def _validate_ports(config: Config) -> None:
    ports = config.ports
    seen: dict[int, str] = {}
    for name in ("http", "https", "attendance"):
        value = getattr(ports, name)
        if not 0 < value < 65536:
            raise ConfigError(f"ports.{name}", f"{value} is not a TCP port", "use 1-65535")
        if value in seen:
            raise ConfigError(f"ports.{name}", f"{value} is already used by ports.{seen[value]}",
                              "give each published TCP port its own number")
        seen[value] = name
    if not 0 < ports.jvb_udp < 65536:
        raise ConfigError("ports.jvb_udp", f"{ports.jvb_udp} is not a UDP port", "use 1-65535")


def _validate_letsencrypt(config: Config) -> None:
    le = config.letsencrypt
    if not le.enabled:
        return
    if not le.email or not _EMAIL.match(le.email):
        raise ConfigError("letsencrypt.email", "a valid address is required when letsencrypt.enabled is true",
                          "set it with --letsencrypt-email or in jitsictl.yaml")
    domain = config.letsencrypt_domain
    if not is_hostname(domain) or "." not in domain or _is_ip(domain):
        raise ConfigError("letsencrypt.domain", f"{domain!r} cannot get a public certificate",
                          "use the server's public DNS name")
    if config.ports.http != 80:
        raise ConfigError("ports.http", "must be 80 when letsencrypt.enabled is true",
                          "Let's Encrypt validates over port 80: set ports.http: 80")


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
        return True
    except ValueError:
        return False


def _validate_attendance(attendance: Attendance) -> None:
    for index, claim in enumerate(attendance.claims):
        if not _CLAIM_NAME.match(claim):
            raise ConfigError(f"attendance.claims[{index}]", f"{claim!r} is not a claim name",
                              "use letters, digits and '_', e.g. courseid")
    if len(set(attendance.claims)) != len(attendance.claims):
        raise ConfigError("attendance.claims", "lists a claim twice", "remove the duplicate")
    for claim, label in attendance.claim_labels.items():
        if claim not in attendance.claims:
            raise ConfigError(f"attendance.claim_labels.{claim}", "is not one of attendance.claims",
                              "add the claim there, or remove its label")
        if not label.strip() or any(c in label for c in ",=") or len(label) > 64:
            raise ConfigError(f"attendance.claim_labels.{claim}", f"{label!r} cannot be a heading",
                              "use up to 64 characters without ',' or '=', e.g. Course")
    url = attendance.database_url
    if not re.match(r"^(sqlite:///.+|postgresql(\+psycopg)?://.+)$", url):
        raise ConfigError("attendance.database_url", f"{_redact_url(url)!r} is not supported",
                          "use sqlite:////data/attendance.db or postgresql+psycopg://user@host/db")
    if _redact_url(url) != url:
        raise ConfigError("attendance.database_url", "must not contain a password (jitsictl.yaml holds no secrets)",
                          "put the whole URL in jitsictl.secrets.yaml as ATTENDANCE_DATABASE_URL instead")
    thresholds = attendance.thresholds
    for name in ("reconnect_grace_seconds", "late_after_seconds", "left_early_seconds"):
        if getattr(thresholds, name) < 0:
            raise ConfigError(f"attendance.thresholds.{name}", "must not be negative", "use 0 or more")
    for name in ("present_min_percent", "partial_min_percent"):
        if not 0 <= getattr(thresholds, name) <= 100:
            raise ConfigError(f"attendance.thresholds.{name}", "must be between 0 and 100", "")
    if thresholds.partial_min_percent > thresholds.present_min_percent:
        raise ConfigError("attendance.thresholds.partial_min_percent",
                          "must not exceed present_min_percent", "lower it or raise present_min_percent")
    _validate_room_pattern(attendance.room_pattern)
    _validate_names("attendance.room_courses", attendance.room_courses, "e.g. {mat-1a: MAT-1A}")
    _validate_moodle(attendance.moodle)


ROOM_FIELDS = ("course", "group", "activity")  # the receiver's room_pattern.ROOM_FIELDS
OUTCOMES = ("present", "late", "partial", "absent")  # the receiver's moodle.sync.OUTCOMES


def _validate_room_pattern(pattern: str) -> None:
    """The receiver checks it again at start; here the mistake shows before anything is rendered."""
    if not pattern:
        return
    try:
        names = set(re.compile(pattern).groupindex)
    except re.error as exc:
        raise ConfigError("attendance.room_pattern", f"is not a regular expression: {exc}",
                          "e.g. '(?P<course>[a-z0-9-]+)_(?P<activity>[0-9]+)(?:_[a-z0-9-]*)?' for mod_jitsi "
                          "with separator _") from None
    if "course" not in names or names - set(ROOM_FIELDS):
        raise ConfigError("attendance.room_pattern", "needs a named group course, and no others than "
                          f"{', '.join(ROOM_FIELDS)}", "write the course's part as (?P<course>...)")


def _validate_names(key: str, mapping: dict, example: str) -> None:
    for name, value in mapping.items():
        if not name or not str(value) or re.search(r"[,=\s]", f"{name}{value}"):
            raise ConfigError(f"{key}.{name}", f"{name!r}: {value!r} is not usable",
                              f"names and values without commas, '=' or spaces, {example}")


def _validate_moodle(moodle: Moodle) -> None:
    if not moodle.url:
        if moodle.ca_file or moodle.statuses or moodle.attendance:
            raise ConfigError("attendance.moodle.url", "is empty but other attendance.moodle settings are given",
                              "set it to the Moodle site's address, e.g. https://moodle.school.example")
        return
    parts = urlsplit(moodle.url)
    if parts.scheme != "https" or not parts.hostname or parts.username or parts.password or parts.query \
            or parts.fragment:
        raise ConfigError("attendance.moodle.url", f"{moodle.url!r} is not the https address of a Moodle site",
                          "e.g. https://moodle.school.example (the token goes in jitsictl.secrets.yaml)")
    if moodle.ca_file and not moodle.ca_file.startswith("/"):
        raise ConfigError("attendance.moodle.ca_file", "must be an absolute path on this server",
                          "e.g. /etc/ssl/certs/school-ca.pem")
    unknown = sorted(set(moodle.statuses) - set(OUTCOMES))
    if unknown:
        raise ConfigError(f"attendance.moodle.statuses.{unknown[0]}", "is not an outcome",
                          f"the outcomes are {', '.join(OUTCOMES)}")
    _validate_names("attendance.moodle.statuses", moodle.statuses, "e.g. {partial: L}")
    for shortname, activity in moodle.attendance.items():
        if not isinstance(activity, int) or activity <= 0:
            raise ConfigError(f"attendance.moodle.attendance.{shortname}", f"{activity!r} is not an activity id",
                              "the id= of the Attendance activity's address, mod/attendance/view.php?id=412")
    _validate_names("attendance.moodle.attendance", moodle.attendance, "e.g. {MAT-1A: 412}")


def _validate_openfire(openfire: Openfire) -> None:
    occupants = openfire.max_room_occupants
    if not 0 <= occupants <= MAX_ROOM_OCCUPANTS_LIMIT:
        raise ConfigError("openfire.max_room_occupants",
                          f"{occupants} is not a room size",
                          f"give the most people one class may bring (e.g. 500), up to "
                          f"{MAX_ROOM_OCCUPANTS_LIMIT}, or 0 for no limit")


def _redact_url(url: str) -> str:
    """Hide a password embedded in a database URL before showing it."""
    return re.sub(r"://([^:/@]+):[^@]*@", r"://\1:***@", url)


# --- writing -------------------------------------------------------------------------------


def _q(value: Any) -> str:
    """A YAML scalar: JSON strings are valid YAML double-quoted scalars."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(_q(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def _mapping(values: dict) -> str:
    """A YAML flow mapping."""
    return "{" + ", ".join(f"{_q(k)}: {_q(v)}" for k, v in values.items()) + "}"


def to_yaml(config: Config) -> str:
    """The commented `jitsictl.yaml` text for a config (deterministic, no secrets)."""
    c = config
    t = c.attendance.thresholds
    return f"""\
# jitsictl.yaml: the Jitsi classroom stack jitsictl renders (`jitsictl render`, `jitsictl up`).
# Secrets are not kept here: they live in jitsictl.secrets.yaml (mode 0600) beside this file.

# Public DNS name of the server.
domain: {_q(c.domain)}
# URL users open; empty means https://<domain>[:<ports.https>].
public_url: {_q(c.public_url)}
# XMPP server: prosody (docker-jitsi-meet's) or openfire.
xmpp: {_q(c.xmpp)}
# IANA time zone of the containers, and of the times on the attendance dashboard and exports.
timezone: {_q(c.timezone)}
# Addresses clients reach the video bridge on (public IP behind NAT); empty lets JVB guess.
# A wrong value breaks calls with more than two participants.
jvb_advertise_ips: {_q(c.jvb_advertise_ips)}

images:
  # docker-jitsi-meet images: <repository>/<web|prosody|jicofo|jvb>:<version>
  repository: {_q(c.images.repository)}
  version: {_q(c.images.version)}
  # Base image of the Openfire service (xmpp: openfire).
  openfire: {_q(c.images.openfire)}

auth:
  # none: anyone may open a room; internal: accounts (`jitsictl users add`) open rooms and are
  # moderators; jwt: tokens from your LMS.
  type: {_q(c.auth.type)}
  # internal only: people without an account join as guests once an account holder has opened
  # the room (a class: the teacher has an account, the students are guests).
  guests: {_q(c.auth.guests)}
  jwt:
    # The JWT secret is JWT_APP_SECRET in jitsictl.secrets.yaml.
    app_id: {_q(c.auth.jwt.app_id)}
    issuers: {_q(c.auth.jwt.issuers)}
    audiences: {_q(c.auth.jwt.audiences)}
    # true: teachers (context.user.moderator true in the token, or the older top-level
    # moderator claim) become moderators, students do not; context.user.affiliation is not
    # trusted (mod_jitsi signs it from a URL parameter). false: every token holder moderates.
    moderators_from_token: {_q(c.auth.jwt.moderators_from_token)}

ports:
  http: {_q(c.ports.http)}
  https: {_q(c.ports.https)}
  # Media (UDP) port of the video bridge: open it in the firewall.
  jvb_udp: {_q(c.ports.jvb_udp)}
  # Attendance receiver, published on this server's 127.0.0.1 only (for admins); teachers use
  # https://<domain>/attendance/ through the web container.
  attendance: {_q(c.ports.attendance)}

letsencrypt:
  # Needs ports.http: 80 and a public DNS name.
  enabled: {_q(c.letsencrypt.enabled)}
  # Empty means the value of domain.
  domain: {_q(c.letsencrypt.domain)}
  email: {_q(c.letsencrypt.email)}

attendance:
  # Custom JWT claims copied into attendance records (allow-list).
  claims: {_q(c.attendance.claims)}
  # Headings of those claims' columns on the dashboard and in exports, e.g. {{courseid: Course,
  # groupid: Group}}; empty: the dashboard's own words, in each teacher's language.
  claim_labels: {_q(c.attendance.claim_labels)}
  # SQLite in the receiver's volume by default, or postgresql+psycopg://user@host/db
  # (a URL with a password goes in jitsictl.secrets.yaml as ATTENDANCE_DATABASE_URL instead).
  database_url: {_q(c.attendance.database_url)}
  thresholds:
    # Gaps shorter than this between two presences count as present (reconnects).
    reconnect_grace_seconds: {_q(t.reconnect_grace_seconds)}
    # Joining this long after the meeting started flags the participant late.
    late_after_seconds: {_q(t.late_after_seconds)}
    # Leaving this long before the meeting ended flags the participant as left early.
    left_early_seconds: {_q(t.left_early_seconds)}
    # Status by percent of the meeting attended: present >= present_min_percent,
    # partial >= partial_min_percent, else absent.
    present_min_percent: {_q(t.present_min_percent)}
    partial_min_percent: {_q(t.partial_min_percent)}
  # The course (and group) in room names, for tokens that carry no course claim (stock mod_jitsi):
  # a regular expression with the named groups course, group, activity. mod_jitsi with its
  # separator set to _: '(?P<course>[a-z0-9-]+)_(?P<activity>[0-9]+)(?:_[a-z0-9-]*)?'.
  room_pattern: {_q(c.attendance.room_pattern)}
  # A room's course -> the course it means, where class lists cannot tell, e.g. {{mat-1a: MAT-1A}}.
  room_courses: {_mapping(c.attendance.room_courses)}
  moodle:
    # The Moodle site the attendance is written into (its Attendance activity); empty: no sync.
    # The web-service token goes in jitsictl.secrets.yaml as ATTENDANCE_MOODLE_TOKEN.
    url: {_q(c.attendance.moodle.url)}
    # PEM file (on this server) of the CA that signed Moodle's certificate, if it is your own.
    ca_file: {_q(c.attendance.moodle.ca_file)}
    # Status acronym written for each outcome; defaults {{present: P, late: L, partial: L, absent: A}}.
    statuses: {_mapping(c.attendance.moodle.statuses)}
    # Courses with several Attendance activities: the one to use (id= of its address), e.g. {{MAT-1A: 412}}.
    attendance: {_mapping(c.attendance.moodle.attendance)}
    # true: each meeting is synced when it ends; false: only `attendance-logger moodle sync`.
    auto_sync: {_q(c.attendance.moodle.auto_sync)}

openfire:
  # Used with xmpp: openfire. Most people in one conference room (the focus is not counted);
  # 0 means no limit. Openfire's own default of 30 is too small for a class.
  max_room_occupants: {_q(c.openfire.max_room_occupants)}
"""


def write(config: Config, path: str | Path) -> None:
    validate(config)
    Path(path).write_text(to_yaml(config), encoding="utf-8")
