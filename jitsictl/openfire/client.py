"""A client for the Openfire REST API plugin (1.12.x, Openfire 5).

Facts it relies on (plugin readme and sources, igniterealtime/openfire-restAPI-plugin):
- base `http://host:9090/plugins/restapi/v1/`; shared-secret auth is the raw secret in the
  `Authorization` header; XML is the default, so every request sends `Accept: application/json`;
- `/system/readiness` and `/system/liveness` need no authentication;
- errors carry `{resource, message, exception}`; 401 = wrong secret, 403 = plugin disabled;
- with `adminConsole.access.allow-wildcards-in-excludes` unset the plugin's paths redirect to
  the admin console login page, so redirects are never followed here.

The secret is never logged, printed or put in an exception.
"""
from __future__ import annotations

import json
import logging
import time
from typing import Any, Iterable, Optional
from urllib.parse import quote

import requests

log = logging.getLogger(__name__)

API_PATH = "/plugins/restapi/v1"
DEFAULT_TIMEOUT = 10.0


class OpenfireError(Exception):
    """A failed REST call, with what Openfire said and a hint on how to fix it."""

    def __init__(self, what: str, *, status: Optional[int] = None, message: str = "",
                 exception: str = "", hint: str = "") -> None:
        self.what = what
        self.status = status
        self.message = message
        self.exception = exception
        self.hint = hint
        super().__init__(str(self))

    def __str__(self) -> str:
        """One line without the hint (the CLI prints `hint:` on its own line; see describe())."""
        parts = [self.what]
        if self.status is not None:
            parts.append(f"HTTP {self.status}")
        if self.message:
            parts.append(self.message + (f" ({self.exception})" if self.exception else ""))
        return ": ".join(parts)

    def describe(self) -> str:
        return f"{self}\n  hint: {self.hint}" if self.hint else str(self)


class NotFound(OpenfireError):
    """The resource (user, room, service, property) does not exist."""


def _hint_for(status: int) -> str:
    return {
        401: ("the REST API rejected the secret: check that --secret / the secrets file matches "
              "plugin.restapi.secret and that plugin.restapi.httpAuth is 'secret'"),
        403: "the REST API plugin is disabled: set plugin.restapi.enabled=true",
        404: "no such resource, or the REST API plugin is not installed (restAPI.jar in plugins/)",
        409: "it already exists",
        503: "Openfire is still starting; wait for /system/readiness",
    }.get(status, "")


def _parse_error_body(response: requests.Response) -> dict[str, str]:
    """The plugin's error entity, as JSON or XML (it answers in XML when it ignores Accept)."""
    text = response.text or ""
    try:
        body = response.json()
        if isinstance(body, dict):
            return {k: str(body.get(k) or "") for k in ("resource", "message", "exception")}
    except ValueError:
        pass
    if text.lstrip().startswith("<"):
        import xml.etree.ElementTree as ET
        try:
            root = ET.fromstring(text)
        except ET.ParseError:
            return {}
        if root.tag == "error":
            return {k: (root.findtext(k) or "") for k in ("resource", "message", "exception")}
    return {}


def as_list(container: Any, *keys: str) -> list:
    """Items of a collection entity: `{"users": [...]}` or, from older serialisers, a single
    object instead of a one-element list, or the XML element name as key."""
    if container is None:
        return []
    if isinstance(container, list):
        return container
    for key in keys:
        if isinstance(container, dict) and key in container:
            value = container[key]
            if value is None:
                return []
            return value if isinstance(value, list) else [value]
    return []


class RestApiClient:
    """Thin, typed access to the endpoints jitsictl uses. Returns plain dicts as the API sends them."""

    def __init__(self, url: str, secret: str, *, timeout: float = DEFAULT_TIMEOUT,
                 session: Optional[requests.Session] = None) -> None:
        url = url.rstrip("/")
        if url.endswith(API_PATH):
            url = url[: -len(API_PATH)]
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"Openfire URL {url!r} must start with http:// or https://")
        self.root = url
        self.base = url + API_PATH
        self._secret = secret
        self.timeout = timeout
        self.session = session or requests.Session()

    def __repr__(self) -> str:  # never show the secret
        return f"RestApiClient({self.root!r})"

    def uses_secret(self, secret: str) -> bool:
        """Whether this client authenticates with `secret` (without exposing its own)."""
        import hmac

        return hmac.compare_digest(self._secret.encode(), secret.encode())

    # -- transport -------------------------------------------------------------------------

    def _request(self, method: str, path: str, *, params: Optional[dict] = None,
                 body: Any = None, auth: bool = True, what: str = "") -> requests.Response:
        headers = {"Accept": "application/json"}
        if auth:
            headers["Authorization"] = self._secret
        data = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            data = json.dumps(body)
        url = self.base + path
        what = what or f"{method} {path}"
        log.debug("openfire %s %s", method, path)
        try:
            response = self.session.request(method, url, params=params, data=data, headers=headers,
                                            timeout=self.timeout, allow_redirects=False)
        except requests.exceptions.Timeout:
            raise OpenfireError(
                f"{what}: no answer from {self.root} within {self.timeout:g}s",
                hint="Openfire may still be starting or overloaded; retry, or raise --timeout") from None
        except requests.exceptions.ConnectionError:
            raise OpenfireError(
                f"{what}: cannot connect to {self.root}",
                hint=("Openfire is not running or its admin port 9090 is not published/reachable; "
                      "check `jitsictl status` and the --url")) from None
        except requests.exceptions.RequestException as exc:
            raise OpenfireError(f"{what}: request failed ({type(exc).__name__})") from None
        if 300 <= response.status_code < 400:
            raise OpenfireError(
                what, status=response.status_code,
                message=f"redirected to {response.headers.get('Location', '?')}",
                hint=("the admin console intercepted the REST API: set "
                      "adminConsole.access.allow-wildcards-in-excludes=true (in openfire.xml before first boot)"))
        if response.status_code >= 400:
            err = _parse_error_body(response)
            cls = NotFound if response.status_code == 404 else OpenfireError
            raise cls(what, status=response.status_code, message=err.get("message", ""),
                      exception=err.get("exception", ""), hint=_hint_for(response.status_code))
        return response

    def _json(self, response: requests.Response) -> Any:
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise OpenfireError(
                f"{response.request.method} {response.url}: expected JSON, got "
                f"{response.headers.get('Content-Type', 'no content type')}",
                hint="is this the REST API plugin? check the --url") from None

    # -- health ------------------------------------------------------------------------------

    def is_ready(self) -> bool:
        try:
            self._request("GET", "/system/readiness", auth=False)
            return True
        except OpenfireError:
            return False

    def wait_ready(self, timeout: float = 180.0, interval: float = 1.0) -> None:
        """Poll `/system/readiness` (no auth) until Openfire and its plugins are up."""
        deadline = time.monotonic() + timeout
        last: Optional[OpenfireError] = None
        while True:
            try:
                self._request("GET", "/system/readiness", auth=False, what="readiness check")
                return
            except OpenfireError as exc:
                last = exc
            if time.monotonic() + interval > deadline:
                raise OpenfireError(
                    f"Openfire at {self.root} was not ready within {timeout:g}s",
                    status=last.status if last else None,
                    message=last.what if last else "",
                    hint=(last.hint if last and last.hint else
                          "see `jitsictl logs openfire`; first boot with autosetup takes a minute"))
            time.sleep(interval)

    # -- users ------------------------------------------------------------------------------

    def get_user(self, username: str) -> Optional[dict]:
        try:
            return self._json(self._request("GET", f"/users/{quote(username, safe='')}",
                                            what=f"get user {username}"))
        except NotFound:
            return None

    def list_users(self, search: Optional[str] = None) -> list[dict]:
        params = {"search": search} if search else None
        return as_list(self._json(self._request("GET", "/users", params=params, what="list users")),
                       "users", "user")

    def create_user(self, username: str, password: str, *, name: Optional[str] = None,
                    email: Optional[str] = None, properties: Optional[dict[str, str]] = None) -> None:
        self._request("POST", "/users", body=_user_body(username, password, name, email, properties),
                      what=f"create user {username}")

    def update_user(self, username: str, *, password: Optional[str] = None, name: Optional[str] = None,
                    email: Optional[str] = None, properties: Optional[dict[str, str]] = None) -> None:
        """PUT replaces the user's properties with the ones sent: always send all of them."""
        self._request("PUT", f"/users/{quote(username, safe='')}",
                      body=_user_body(username, password, name, email, properties),
                      what=f"update user {username}")

    def delete_user(self, username: str) -> None:
        self._request("DELETE", f"/users/{quote(username, safe='')}", what=f"delete user {username}")

    # -- chat services --------------------------------------------------------------------------

    def list_chat_services(self) -> list[dict]:
        return as_list(self._json(self._request("GET", "/chatservices", what="list chat services")),
                       "chatServices", "chatService", "services")

    def create_chat_service(self, name: str, description: str = "", hidden: bool = False) -> None:
        self._request("POST", "/chatservices",
                      body={"serviceName": name, "description": description, "hidden": hidden},
                      what=f"create chat service {name}")

    # -- chat rooms ---------------------------------------------------------------------------

    def get_chat_room(self, room: str, service: str) -> Optional[dict]:
        try:
            return self._json(self._request("GET", f"/chatrooms/{quote(room, safe='')}",
                                            params={"servicename": service},
                                            what=f"get room {room}@{service}"))
        except NotFound:
            return None

    def list_chat_rooms(self, service: str) -> list[dict]:
        return as_list(self._json(self._request("GET", "/chatrooms",
                                                params={"servicename": service, "type": "all"},
                                                what=f"list rooms of {service}")),
                       "chatRooms", "chatRoom")

    def upsert_chat_room(self, service: str, room: dict) -> None:
        """POST /chatrooms creates or updates; any boolean left out becomes false, so callers must
        send complete room definitions (see reconcile.room_body)."""
        self._request("POST", "/chatrooms", params={"servicename": service}, body=room,
                      what=f"create/update room {room.get('roomName')}@{service}")

    def delete_chat_room(self, room: str, service: str) -> None:
        self._request("DELETE", f"/chatrooms/{quote(room, safe='')}", params={"servicename": service},
                      what=f"delete room {room}@{service}")

    # -- system properties ----------------------------------------------------------------------

    def list_properties(self) -> dict[str, Optional[str]]:
        body = self._json(self._request("GET", "/system/properties", what="list system properties"))
        return {p["key"]: p.get("value") for p in as_list(body, "properties", "property")
                if isinstance(p, dict) and "key" in p}

    def get_property(self, key: str) -> Optional[str]:
        try:
            body = self._json(self._request("GET", f"/system/properties/{quote(key, safe='')}",
                                            what=f"get property {key}"))
        except NotFound:
            return None
        return body.get("value") if isinstance(body, dict) else None

    def create_property(self, key: str, value: str) -> None:
        """POST sets the property whether or not it exists (201)."""
        self._request("POST", "/system/properties", body={"key": key, "value": value},
                      what=f"set property {key}")

    def update_property(self, key: str, value: str) -> None:
        """PUT only updates an existing property (404 otherwise)."""
        self._request("PUT", f"/system/properties/{quote(key, safe='')}",
                      body={"key": key, "value": value}, what=f"update property {key}")

    def delete_property(self, key: str) -> None:
        self._request("DELETE", f"/system/properties/{quote(key, safe='')}",
                      what=f"delete property {key}")


def _user_body(username: str, password: Optional[str], name: Optional[str], email: Optional[str],
               properties: Optional[dict[str, str]]) -> dict:
    body: dict[str, Any] = {"username": username}
    if password is not None:
        body["password"] = password
    if name is not None:
        body["name"] = name
    if email is not None:
        body["email"] = email
    if properties is not None:
        body["properties"] = [{"key": k, "value": v} for k, v in sorted(properties.items())]
    return body


def user_properties(user: dict) -> dict[str, str]:
    """A user entity's properties as a dict (JSON: list of {key, value}, or the older
    `{"property": [...]}` wrapping)."""
    return {p["key"]: p.get("value", "") for p in as_list(user.get("properties"), "property")
            if isinstance(p, dict) and "key" in p}


def room_flags(room: dict, names: Iterable[str]) -> dict[str, bool]:
    """Room booleans as Python bools (JSON may carry them as "true"/"false" strings)."""
    out = {}
    for name in names:
        value = room.get(name, False)
        out[name] = value if isinstance(value, bool) else str(value).lower() == "true"
    return out
