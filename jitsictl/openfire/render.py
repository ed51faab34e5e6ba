"""Render the `openfire.xml` that makes an Openfire container's first boot unattended.

Openfire runs the `<autosetup>` block once on an empty data volume (domain, embedded database,
admin account, anonymous login, optional users), removes it, and copies every other property of
the file into its database. We use that to switch the REST API plugin on with a shared secret
before first boot, so everything else can be configured through the API (`reconcile.py`).
"""
from __future__ import annotations

import re
from typing import Sequence

from .. import sources

TEMPLATE_DIR = sources.root() / "templates" / "openfire"  # the checkout's, or the wheel's copy
TEMPLATE_NAME = "openfire.xml.j2"

# XML 1.0 forbids these characters even when escaped; the file would not parse.
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_DOMAIN = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$")
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]*$")


class OpenfireXmlError(ValueError):
    """A value that cannot go into openfire.xml; the message names the field and the fix."""


def _text(field: str, value: str, *, secret: bool = False) -> str:
    if not isinstance(value, str) or value == "":
        raise OpenfireXmlError(f"{field} must be a non-empty string")
    if _XML_INVALID.search(value):
        raise OpenfireXmlError(f"{field} contains a control character that XML cannot carry")
    if value != value.strip():
        # Openfire trims XML property text, so a padded secret would silently differ.
        shown = "the value" if secret else repr(value)
        raise OpenfireXmlError(f"{field}: {shown} has leading or trailing whitespace; remove it")
    return value


def _domain(field: str, value: str) -> str:
    _text(field, value)
    if not _DOMAIN.match(value):
        raise OpenfireXmlError(
            f"{field} {value!r} is not a lower-case DNS name (letters, digits, '-' and '.')")
    return value


def render_openfire_xml(
    *,
    domain: str,
    fqdn: str,
    admin_email: str,
    admin_password: str,
    restapi_secret: str,
    anonymous_login: bool = True,
    locale: str = "en",
    users: Sequence[tuple[str, str]] = (),
    max_room_occupants: int = 500,
) -> str:
    """Return the seed openfire.xml as text.

    domain: the XMPP domain (the single Jitsi domain); fqdn: the host name Openfire announces
    (in compose, the service's network alias). users: optional (username, password) pairs
    created during setup, e.g. focus and jvb so jicofo and jvb can log in before the first
    `jitsictl openfire apply`. max_room_occupants: the attendance plugin's room capacity
    (`attendance.jitsi.room.max.occupants`, 0 = no limit), in place from the first boot.
    All values are XML-escaped; the result contains secrets, so write it with mode 0600.
    """
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    if isinstance(max_room_occupants, bool) or not isinstance(max_room_occupants, int) \
            or max_room_occupants < 0:
        raise OpenfireXmlError(f"max_room_occupants must be 0 (no limit) or a positive whole number, "
                               f"not {max_room_occupants!r}")
    seen: set[str] = set()
    checked_users = []
    for index, pair in enumerate(users, start=1):
        try:
            username, password = pair
        except (TypeError, ValueError):
            raise OpenfireXmlError(f"users[{index}] must be a (username, password) pair") from None
        _text(f"users[{index}].username", username)
        if not _USERNAME.match(username):
            raise OpenfireXmlError(
                f"users[{index}].username {username!r} must be lower-case letters, digits, '.', '_' or '-'")
        if username in seen:
            raise OpenfireXmlError(f"users[{index}].username {username!r} is listed twice")
        seen.add(username)
        checked_users.append({"username": username,
                              "password": _text(f"users[{index}].password", password, secret=True)})

    env = Environment(
        loader=FileSystemLoader(str(TEMPLATE_DIR)),
        autoescape=True,  # escapes & < > " ' — enough for XML element text
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )
    return env.get_template(TEMPLATE_NAME).render(
        domain=_domain("domain", domain),
        fqdn=_domain("fqdn", fqdn),
        admin_email=_text("admin_email", admin_email),
        admin_password=_text("admin_password", admin_password, secret=True),
        restapi_secret=_text("restapi_secret", restapi_secret, secret=True),
        anonymous_login=bool(anonymous_login),
        locale=_text("locale", locale),
        users=checked_users,
        max_room_occupants=max_room_occupants,
    )
