"""Openfire configuration from jitsictl.yaml and its secrets file: the glue between
`jitsictl.config`/`jitsictl.secrets` and the reconciler, used by `jitsictl openfire plan|apply`
and by `jitsictl up --xmpp openfire` (jitsictl.stack.configure_openfire).

Names and URLs come from jitsictl.render, so what the compose project expects (one XMPP domain,
`conference` and `internal-muc` services, the receiver's events URL) is what gets configured.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Mapping, Optional

from .reconcile import Change, DesiredState, DesiredStateError, desired_state

if TYPE_CHECKING:
    from ..config import Config
    from .client import RestApiClient

DEFAULT_URL = "http://127.0.0.1:9090"
PREVIOUS_RESTAPI_SECRET = "PREVIOUS_OPENFIRE_RESTAPI_SECRET"  # kept by jitsictl.secrets.rotate
# What a rotation keeps for Openfire (jitsictl.secrets.STORED_BY_OPENFIRE); obsolete once an
# apply has installed the new values.
PREVIOUS_VALUES = (PREVIOUS_RESTAPI_SECRET, "PREVIOUS_OPENFIRE_ADMIN_PASSWORD")
REQUIRED_SECRETS = ("JICOFO_AUTH_PASSWORD", "JVB_AUTH_PASSWORD", "ATTENDANCE_WEBHOOK_SECRET",
                    "OPENFIRE_ADMIN_PASSWORD", "OPENFIRE_RESTAPI_SECRET")


def _service_name(muc_domain: str, domain: str) -> str:
    suffix = "." + domain
    if not muc_domain.endswith(suffix):
        raise ValueError(f"MUC domain {muc_domain} is not a subdomain of {domain}")
    return muc_domain[: -len(suffix)]


def desired_from_config(config: "Config", secrets: Mapping[str, str]) -> DesiredState:
    """The desired Openfire state for a loaded config and its secret values."""
    from ..render import LOGGER_EVENTS_URL, OPENFIRE_DOMAINS

    domain = OPENFIRE_DOMAINS["domain"]
    if config.xmpp != "openfire":
        raise DesiredStateError(f"the config uses xmpp: {config.xmpp}, not openfire",
                                "set xmpp: openfire in jitsictl.yaml (and re-render) to use Openfire")
    missing = [n for n in REQUIRED_SECRETS if not secrets.get(n)]
    if missing:
        raise DesiredStateError(f"the secrets file lacks {', '.join(missing)}",
                                "run `jitsictl render` once to generate them")
    return desired_state(
        domain=domain,
        public_url=config.effective_public_url,
        focus_password=secrets["JICOFO_AUTH_PASSWORD"],
        jvb_password=secrets["JVB_AUTH_PASSWORD"],
        attendance_url=LOGGER_EVENTS_URL,
        attendance_secret=secrets["ATTENDANCE_WEBHOOK_SECRET"],
        claims=list(config.attendance.claims),
        # same rule as the seed openfire.xml (jitsictl.render.openfire_xml)
        allow_guests=config.auth.type == "none",
        conference_service=_service_name(OPENFIRE_DOMAINS["muc"], domain),
        brewery_service=_service_name(OPENFIRE_DOMAINS["internal_muc"], domain),
        admin_password=secrets.get("OPENFIRE_ADMIN_PASSWORD"),
        restapi_secret=secrets.get("OPENFIRE_RESTAPI_SECRET"),
        max_room_occupants=config.openfire.max_room_occupants,
    )


def make_client(url: str, secret: str, timeout: float = 10.0) -> "RestApiClient":
    from .client import RestApiClient

    return RestApiClient(url, secret, timeout=timeout)


def configure(config: "Config", secrets: Mapping[str, str], *, url: str,
              secret: Optional[str] = None, timeout: float = 10.0, wait: float = 180.0,
              dry_run: bool = False, secrets_path: Optional[Path] = None) -> list[Change]:
    """Wait until Openfire is ready (up to `wait` seconds), then plan (dry_run) or apply.

    Authenticates with `secret` when given. Otherwise, after a rotation, with the previous REST
    secret first (PREVIOUS_OPENFIRE_RESTAPI_SECRET: Openfire holds it until this apply installs
    the new one, last of all changes), then with OPENFIRE_RESTAPI_SECRET; trying the new one
    first would have the REST plugin log it, as a wrong key, at WARN. Once an apply succeeded
    the previous values are dropped from `secrets_path`, so no stale secret is sent again.
    Raises jitsictl.openfire.client.OpenfireError (with a hint) on any failure.
    """
    from . import reconcile
    from .client import OpenfireError

    desired = desired_from_config(config, secrets)
    if secret:
        candidates = [secret]
    else:
        candidates = [value for value in (secrets.get(PREVIOUS_RESTAPI_SECRET),
                                          secrets["OPENFIRE_RESTAPI_SECRET"]) if value]
        candidates = list(dict.fromkeys(candidates))
    if wait > 0:
        make_client(url, candidates[-1], timeout).wait_ready(timeout=wait)  # no secret sent
    for attempt, candidate in enumerate(candidates, start=1):
        client = make_client(url, candidate, timeout)
        try:
            changes = reconcile.plan(client, desired) if dry_run else reconcile.apply(client, desired)
        except OpenfireError as exc:
            if exc.status != 401 or attempt == len(candidates):
                raise
            continue
        if not dry_run and not secret and secrets_path is not None:
            forget_previous_values(secrets_path)
        return changes
    raise AssertionError("unreachable")


def forget_previous_values(secrets_path: Path) -> list[str]:
    """Drop the values a rotation kept for Openfire from the secrets file; returns their names."""
    from .. import secrets as secrets_mod

    values, _ = secrets_mod.read(secrets_path)
    dropped = [name for name in PREVIOUS_VALUES if name in values]
    if dropped:
        secrets_mod.write(secrets_path, {k: v for k, v in values.items() if k not in dropped})
    return dropped
