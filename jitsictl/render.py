"""Render a docker-jitsi-meet compose project from a Config and its Secrets.

Output (default `./stack`):

    docker-compose.yml     services web, prosody|openfire, jicofo, jvb, logger; no secrets
    .env                   CONFIG, JITSICTL_SOURCE and the secrets (mode 0600)
    config/                the ${CONFIG} tree: per-service config, storage/ and tmp/ volumes
    .jitsictl-files        the files this render owns, so the next render removes stale ones

Rendering is a pure function of (config, secrets, jitsictl's sources): no timestamps, sorted
listings, fixed file modes, so the same inputs give byte-identical output. The images jitsictl
builds itself (logger, openfire) use jitsictl's sources (`jitsictl.sources.root()`: the checkout,
or the copy inside an installed wheel) as build context through `JITSICTL_SOURCE` in `.env`, and
are tagged with a digest of what they are built from, so a changed source is built anew.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from . import __version__, sources
from .config import Config, ConfigError
from .secrets import Rotation, Secrets, XMPP_PASSWORDS

MANIFEST = ".jitsictl-files"

# Where the receiver listens inside its container (compose/logger/Dockerfile) and the path the
# XMPP plugins post signed events to.
LOGGER_PORT = 8080
LOGGER_URL = f"http://logger:{LOGGER_PORT}"
LOGGER_EVENTS_URL = f"{LOGGER_URL}/v1/events"
# Where the web container's nginx serves the receiver's dashboard and read API to teachers
# (templates/web/attendance.conf.j2); the receiver learns it from X-Forwarded-Prefix.
ATTENDANCE_PATH = "/attendance"
# Proxies in front of the receiver whose X-Forwarded-* headers it trusts: the web container.
ATTENDANCE_PROXY_HOPS = 1
# The receiver's one login (flask-logger attendance_logger/auth.py), password ATTENDANCE_ADMIN_PASSWORD.
ATTENDANCE_ADMIN_USER = "admin"

# Our Prosody module that turns the token's teacher/student marks into MUC roles
# (prosody-plugin/mod_token_moderators.lua).
TOKEN_MODERATORS_MODULE = "token_moderators"
OPENFIRE_HTTP_BASE = "http://openfire:7070"
OPENFIRE_SEED_XML = "/opt/jitsictl/openfire.xml"

# Internal XMPP domains. Prosody: docker-jitsi-meet's defaults. Openfire: one domain for users,
# auth and MUCs (ARCHITECTURE §7), the brewery on a MUC service of its own.
PROSODY_DOMAINS = {
    "domain": "meet.jitsi",
    "auth": "auth.meet.jitsi",
    "muc": "muc.meet.jitsi",
    "internal_muc": "internal-muc.meet.jitsi",
    "guest": "guest.meet.jitsi",
}
OPENFIRE_DOMAINS = {
    "domain": "meet.jitsi",
    "auth": "meet.jitsi",
    "muc": "conference.meet.jitsi",
    "internal_muc": "internal-muc.meet.jitsi",
    "guest": "meet.jitsi",
}

# Directories the containers write to, with the uid that writes them: docker-jitsi-meet's
# stable-11146 images run as uid 1000 and refuse to start unless their storage is writable;
# the receiver image (compose/logger/Dockerfile) runs as uid 10001.
CONTAINER_UID = 1000
LOGGER_UID = 10001
_COMMON_WRITABLE = {"storage/web": CONTAINER_UID, "storage/transcripts": CONTAINER_UID,
                    "tmp/web-load-test": CONTAINER_UID, "storage/logger": LOGGER_UID}
WRITABLE_DIRS = {
    "prosody": {"storage/prosody": CONTAINER_UID, **_COMMON_WRITABLE},
    # Openfire's entrypoint runs as root and chowns its data volume to its own user.
    "openfire": {"storage/openfire": CONTAINER_UID, **_COMMON_WRITABLE},
}
READ_DIRS = {
    "prosody": ("web", "web/nginx-custom", "jicofo", "jvb", "prosody/config",
                "prosody/prosody-plugins-custom"),
    "openfire": ("web", "web/nginx-custom", "jicofo", "jvb", "openfire/conf"),
}
# Where the compose project mounts nginx snippets: docker-jitsi-meet's web image copies
# ${CONFIG}/web to /run/web/config and meet.conf includes nginx-custom/*.conf in both servers
# (web/rootfs/etc/s6-overlay/scripts/config, web/rootfs/defaults/meet.conf).
NGINX_CUSTOM = "config/web/nginx-custom"
NGINX_SNIPPETS = {
    f"{NGINX_CUSTOM}/jitsictl-attendance.conf": "web/attendance.conf.j2",
}


@dataclass
class RenderResult:
    out_dir: Path
    files: list[str]  # relative paths, sorted
    notes: list[str] = field(default_factory=list)
    # Set by render_config_file: what was loaded, and the rotation when secrets were rotated.
    config: Config | None = None
    secrets: Secrets | None = None
    rotation: "Rotation | None" = None


def render_config_file(config_path: str | Path, out_dir: str | Path, *, rotate_secrets: bool = False) -> RenderResult:
    """The `jitsictl render` verb: load jitsictl.yaml, keep (or rotate) its secrets, render."""
    from . import config as config_mod
    from . import secrets as secrets_mod

    config = config_mod.load(config_path)
    secrets_path = secrets_mod.path_for(config_path)
    rotation = None
    if rotate_secrets:
        secrets, rotation = secrets_mod.rotate(secrets_path, config)
    else:
        # A stack rendered before keeps its secrets: the file may add new ones, never change
        # or lose those the stack was given.
        env_path = Path(out_dir).resolve() / ".env"
        secrets = secrets_mod.ensure(secrets_path, config, rendered=secrets_mod.read_env(env_path),
                                     rendered_path=env_path)
    result = render(config, secrets, out_dir, rotated=rotation.names if rotation else ())
    result.config, result.secrets, result.rotation = config, secrets, rotation
    if secrets.repaired_mode:
        result.notes.insert(0, f"{secrets_path} was readable by other users; its mode is now 0600 — "
                               "consider `jitsictl render --rotate-secrets`")
    if rotation:
        result.notes[:0] = rotation.notes
    return result


def _yaml_string(value: object, *, interpolate: bool = False) -> str:
    """A YAML double-quoted scalar (JSON strings are valid YAML); `$` escaped for compose."""
    text = str(value)
    if not interpolate:
        text = text.replace("$", "$$")
    return json.dumps(text, ensure_ascii=False)


def _environment():
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    env = Environment(
        loader=FileSystemLoader(str(sources.require(sources.TEMPLATES))),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
    )
    env.filters["q"] = _yaml_string
    env.filters["qi"] = lambda value: _yaml_string(value, interpolate=True)
    return env


def _lua_string(value: str) -> str:
    # Lua accepts JSON-style escapes for the characters that can occur here.
    return json.dumps(value)


# docker-jitsi-meet splits GLOBAL_CONFIG on the two characters backslash and n (not a newline)
# into lines of prosody.cfg.lua's global section.
GLOBAL_CONFIG_SEPARATOR = "\\n"


def prosody_global_config(config: Config) -> str:
    """GLOBAL_CONFIG: the module's options, global so that both components loading it (main MUC
    and breakout rooms) read them; module:get_option falls back from a component to global."""
    claims = "; ".join(_lua_string(claim) for claim in config.attendance.claims)
    lines = [
        f"presence_logger_url = {_lua_string(LOGGER_EVENTS_URL)}",
        'presence_logger_secret = "${ATTENDANCE_WEBHOOK_SECRET:?missing in .env - run jitsictl render}"',
        f"presence_logger_claims = {{ {claims} }}" if claims else "presence_logger_claims = {}",
    ]
    for line in lines:
        assert GLOBAL_CONFIG_SEPARATOR not in line and "\n" not in line, line
    return GLOBAL_CONFIG_SEPARATOR.join(lines)


def prosody_muc_modules(config: Config) -> list[str]:
    """XMPP_MUC_MODULES and XMPP_BREAKOUT_MUC_MODULES: attendance everywhere; with JWT and
    moderators_from_token, our module that gives teachers (and only them) the moderator role."""
    modules = ["presence_logger"]
    if config.auth.type == "jwt" and config.auth.jwt.moderators_from_token:
        modules.append(TOKEN_MODERATORS_MODULE)
    return modules


def jicofo_roles(config: Config) -> dict[str, str]:
    """jicofo environment that decides who jicofo makes room owner.

    docker-jitsi-meet's jicofo.conf (stable-11146-2 jicofo/rootfs/defaults/jicofo.conf) turns
    JICOFO_ENABLE_AUTH (default: ENABLE_AUTH) into `jicofo.authentication.enabled` and
    ENABLE_AUTO_OWNER into `jicofo.conference.enable-auto-owner`. With authentication jicofo
    grants owner to every authenticated user (AuthenticationRoleManager); without it, and with
    auto-owner (reference.conf default true), to the first one (AutoOwnerRoleManager; jicofo
    JitsiMeetConferenceImpl.joinTheRoom). When the token decides, jicofo must do neither.
    Prosody still verifies every token and only jicofo (an admin) may create rooms
    (restrict_room_creation), so dropping jicofo's own check admits no one new.
    """
    if config.auth.type == "jwt" and config.auth.jwt.moderators_from_token:
        return {"JICOFO_ENABLE_AUTH": "0", "ENABLE_AUTO_OWNER": "0"}
    return {}


def image_tags(config: Config) -> dict[str, str]:
    """Content-addressed names of the images the project builds (see jitsictl.sources)."""
    return {
        "logger": f"jitsictl-logger:{sources.content_tag(sources.BUILD_CONTEXTS['logger'])}",
        "openfire": "jitsictl-openfire:" + sources.content_tag(
            sources.BUILD_CONTEXTS["openfire"], openfire_build_args(config)),
    }


def openfire_build_args(config: Config) -> dict[str, str]:
    """The openfire service's build arguments, as templates/docker-compose.yml.j2 writes them."""
    return {"OPENFIRE_IMAGE": config.images.openfire}


def context(config: Config, secrets: Secrets) -> dict:
    """Everything the templates use (documented in templates/README.md)."""
    domains = OPENFIRE_DOMAINS if config.xmpp == "openfire" else PROSODY_DOMAINS
    needed = secret_names_for_env(config, secrets)
    missing = [name for name in needed if name not in secrets.values]
    if missing:
        raise ConfigError(str(secrets.path), f"lacks {', '.join(missing)}",
                          "run `jitsictl render`, which generates missing secrets")
    ca_file = config.attendance.moodle.ca_file
    if config.attendance.moodle.url and ca_file and not os.access(ca_file, os.R_OK):
        raise ConfigError("attendance.moodle.ca_file", f"cannot read {ca_file}",
                          "give the PEM file of the CA that signed Moodle's certificate, readable by jitsictl")
    tags = image_tags(config)
    return {
        "jitsictl_version": __version__,
        "xmpp": config.xmpp,
        "images": config.images,
        "auth": config.auth,
        "auth_type": config.auth.type,
        "enable_auth": "0" if config.auth.type == "none" else "1",
        "enable_guests": "1" if config.auth.guests else "0",
        "jicofo_roles": jicofo_roles(config),
        "ports": config.ports,
        "timezone": config.timezone,
        "public_url": config.effective_public_url,
        "jvb_advertise_ips": config.jvb_advertise_ips,
        "letsencrypt": config.letsencrypt,
        "letsencrypt_domain": config.letsencrypt_domain,
        "attendance": config.attendance,
        "xmpp_domains": domains,
        "xmpp_bosh_url_base": OPENFIRE_HTTP_BASE if config.xmpp == "openfire" else "http://xmpp.meet.jitsi:5280",
        "openfire_http_base": OPENFIRE_HTTP_BASE,
        "openfire_seed_xml": OPENFIRE_SEED_XML,
        "prosody_modules": ",".join(prosody_muc_modules(config)),
        "prosody_global_config": prosody_global_config(config),
        "logger_port": LOGGER_PORT,
        "logger_url": LOGGER_URL,
        "attendance_path": ATTENDANCE_PATH,
        "attendance_proxy_hops": ATTENDANCE_PROXY_HOPS,
        "logger_image_name": tags["logger"],
        "openfire_image_name": tags["openfire"],
        "source_dir": str(sources.root()),
        "secrets": [(name, secrets.values[name]) for name in sorted(needed)],
        "database_url_in_secrets": "ATTENDANCE_DATABASE_URL" in needed,
        "logger_settings": logger_settings(config),
        "moodle_ca_mount": MOODLE_CA_MOUNT if config.attendance.moodle.ca_file else "",
    }


# Where the logger container sees attendance.moodle.ca_file (mounted read-only).
MOODLE_CA_MOUNT = "/etc/attendance/moodle-ca.pem"


def logger_settings(config: Config) -> list[tuple[str, str]]:
    """The receiver's ATTENDANCE_* variables for local times, claim headings, course names and
    the Moodle sync (flask-logger README), besides the token, which comes from the secrets file."""
    attendance = config.attendance
    settings = [("ATTENDANCE_TIMEZONE", config.timezone)]
    if attendance.claim_labels:
        settings.append(("ATTENDANCE_CLAIM_LABELS", _pairs(attendance.claim_labels)))
    if attendance.room_pattern:
        settings.append(("ATTENDANCE_ROOM_PATTERN", attendance.room_pattern))
    if attendance.room_courses:
        settings.append(("ATTENDANCE_ROOM_COURSES", _pairs(attendance.room_courses)))
    moodle = attendance.moodle
    if moodle.url:
        settings.append(("ATTENDANCE_MOODLE_URL", moodle.url))
        if moodle.ca_file:
            settings.append(("ATTENDANCE_MOODLE_CA_FILE", MOODLE_CA_MOUNT))
        if moodle.statuses:
            settings.append(("ATTENDANCE_MOODLE_STATUSES", _pairs(moodle.statuses)))
        if moodle.attendance:
            settings.append(("ATTENDANCE_MOODLE_ATTENDANCE", _pairs(moodle.attendance)))
        settings.append(("ATTENDANCE_MOODLE_AUTO_SYNC", "1" if moodle.auto_sync else "0"))
    return settings


def _pairs(mapping: dict) -> str:
    return ",".join(f"{key}={value}" for key, value in mapping.items())


def secret_names_for_env(config: Config, secrets: Secrets | None = None) -> list[str]:
    from .secrets import DATABASE_URL_NAME, MOODLE_TOKEN_NAME, required_names

    names = set(required_names(config))
    if secrets is not None and DATABASE_URL_NAME in secrets.values:
        names.add(DATABASE_URL_NAME)
    if config.attendance.moodle.url:
        if secrets is not None and MOODLE_TOKEN_NAME not in secrets.values:
            raise ConfigError(str(secrets.path), f"has no {MOODLE_TOKEN_NAME}, which attendance.moodle.url needs",
                              f'add the line {MOODLE_TOKEN_NAME}: "<token>" with the web-service token made in '
                              "Moodle (Site administration > Server > Web services > Manage tokens; see "
                              "flask-logger/docs/moodle.md)")
        names.add(MOODLE_TOKEN_NAME)
    return sorted(names)


def _prosody_plugin_files() -> list[tuple[Path, str]]:
    """The modules and the helper libraries they `module:require` (specs and docs stay behind)."""
    directory = sources.require(sources.PROSODY_PLUGIN)
    sources.require(f"{sources.PROSODY_PLUGIN}/mod_presence_logger.lua")
    return [(directory / relative, relative) for relative in sources.prosody_module_files()]


def _write(path: Path, data: bytes, mode: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        os.fchmod(fd, mode)
        os.write(fd, data)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def _make_writable_for_containers(path: Path, uid: int, notes: list[str]) -> None:
    """Let the container's uid write here: chown when we are root, else 0777 unless we are it."""
    path.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        os.chown(path, uid, uid)
        os.chmod(path, 0o755)
    elif os.geteuid() == uid:
        os.chmod(path, 0o755)
    else:
        os.chmod(path, 0o777)
        note = ("container storage directories are mode 0777 because jitsictl does not run as root; "
                "as root, `jitsictl render` gives them to the container users with mode 0755")
        if note not in notes:
            notes.append(note)


def render(config: Config, secrets: Secrets, out_dir: str | Path, rotated: Iterable[str] = ()) -> RenderResult:
    """Write the compose project into out_dir; returns the files written (relative, sorted)."""
    out = Path(out_dir).resolve()
    try:
        return _render(config, secrets, out, rotated)
    except OSError as exc:
        where = exc.filename or out
        raise ConfigError("--out", f"cannot write {where}: {exc.strerror or exc}",
                          "choose a directory you can write to (or run as its owner)") from None


def _render(config: Config, secrets: Secrets, out: Path, rotated: Iterable[str]) -> RenderResult:
    out.mkdir(parents=True, exist_ok=True)
    ctx = context(config, secrets)
    env = _environment()
    notes: list[str] = []

    outputs: dict[str, tuple[bytes, int]] = {
        "docker-compose.yml": (env.get_template("docker-compose.yml.j2").render(ctx).encode(), 0o644),
        ".env": (env.get_template("env.j2").render(ctx).encode(), 0o600),
    }
    if config.xmpp == "prosody":
        for source, relative in _prosody_plugin_files():
            outputs[f"config/prosody/prosody-plugins-custom/{relative}"] = (source.read_bytes(), 0o644)
    else:
        outputs[f"{NGINX_CUSTOM}/jitsictl-openfire.conf"] = (
            env.get_template("web/openfire-xmpp.conf.j2").render(ctx).encode(), 0o644)
        # Holds the Openfire admin password and REST secret: 0600 (read by the root entrypoint).
        outputs["config/openfire/conf/openfire.xml"] = (openfire_xml(config, secrets), 0o600)
    for relative, template in NGINX_SNIPPETS.items():
        outputs[relative] = (env.get_template(template).render(ctx).encode(), 0o644)

    for relative in READ_DIRS[config.xmpp]:
        (out / "config" / relative).mkdir(parents=True, exist_ok=True)
        os.chmod(out / "config" / relative, 0o755)
    for relative, uid in sorted(WRITABLE_DIRS[config.xmpp].items()):
        _make_writable_for_containers(out / "config" / relative, uid, notes)

    for relative, (data, mode) in sorted(outputs.items()):
        _write(out / relative, data, mode)
    _fix_directory_modes(out, [*READ_DIRS[config.xmpp], *WRITABLE_DIRS[config.xmpp]], outputs)

    _remove_stale(out, set(outputs))
    manifest = "".join(f"{name}\n" for name in sorted(outputs))
    _write(out / MANIFEST, manifest.encode(), 0o644)

    rotated = set(rotated)
    if rotated & set(XMPP_PASSWORDS) and config.xmpp == "prosody":
        notes += _forget_prosody_accounts(out, rotated)
    return RenderResult(out_dir=out, files=sorted(outputs), notes=notes)


def _fix_directory_modes(out: Path, dirs: Iterable[str], outputs: Iterable[str]) -> None:
    """0755 for every directory the render made, whatever the umask (output must not vary).

    The container-writable directories themselves keep what `_make_writable_for_containers`
    gave them; their contents belong to the containers and are never touched.
    """
    writable = {out / "config" / d for d in [*WRITABLE_DIRS["prosody"], *WRITABLE_DIRS["openfire"]]}
    parents = {out / "config"}
    for relative in dirs:
        path = out / "config" / relative
        parents.update(p for p in [path, *path.parents] if p.is_relative_to(out / "config"))
    for relative in outputs:
        path = (out / relative).parent
        parents.update(p for p in [path, *path.parents] if p.is_relative_to(out) and p != out)
    for path in sorted(parents - writable):
        os.chmod(path, 0o755)


def openfire_xml(config: Config, secrets: Secrets) -> bytes:
    """The seed openfire.xml (jitsictl.openfire.render) for Openfire's unattended first boot.

    It is mounted read-only into the container at OPENFIRE_SEED_XML; Openfire's image initialises
    its data volume (conf/, plugins/) on first start, so the seed cannot be dropped into that
    volume beforehand: compose/openfire's entrypoint copies it in while no setup has run.
    """
    from .openfire.render import render_openfire_xml

    return render_openfire_xml(
        domain=OPENFIRE_DOMAINS["domain"],
        fqdn="xmpp.meet.jitsi",
        admin_email=config.letsencrypt.email or f"admin@{config.domain}",
        admin_password=secrets.values["OPENFIRE_ADMIN_PASSWORD"],
        restapi_secret=secrets.values["OPENFIRE_RESTAPI_SECRET"],
        anonymous_login=config.auth.type == "none",
        max_room_occupants=config.openfire.max_room_occupants,
        users=[("focus", secrets.values["JICOFO_AUTH_PASSWORD"]),
               ("jvb", secrets.values["JVB_AUTH_PASSWORD"])],
    ).encode()


def _remove_stale(out: Path, current: set[str]) -> None:
    """Delete files an earlier render wrote that this one does not (e.g. after switching xmpp)."""
    manifest = out / MANIFEST
    if not manifest.exists():
        return
    for name in manifest.read_text(encoding="utf-8").split():
        if name in current or name.startswith("/") or ".." in Path(name).parts:
            continue
        stale = out / name
        if stale.is_file():
            stale.unlink()


def _forget_prosody_accounts(out: Path, rotated: set[str]) -> list[str]:
    """Remove the focus/jvb account files so Prosody re-registers them with the new passwords.

    docker-jitsi-meet registers the accounts with `user create`, which leaves an existing
    account's password unchanged; without this jicofo and jvb could not log in after rotation.
    """
    accounts = out / "config" / "storage" / "prosody" / "data" / "auth%2emeet%2ejitsi" / "accounts"
    removed = []
    for user, name in (("focus", "JICOFO_AUTH_PASSWORD"), ("jvb", "JVB_AUTH_PASSWORD")):
        account = accounts / f"{user}.dat"
        if name in rotated and account.exists():
            account.unlink()
            removed.append(user)
    if removed:
        return [f"removed the Prosody accounts {', '.join(removed)}: prosody re-creates them "
                "with the new passwords when it restarts"]
    return []
