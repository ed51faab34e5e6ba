"""A fake of Openfire 5 with the REST API plugin 1.12, for tests only (Openfire cannot run here).

Written from the plugin's documented behaviour (readme.md, entity and controller sources of
igniterealtime/openfire-restAPI-plugin) and Openfire's autosetup (XMPPServer.runAutoSetup):
- it boots from an `openfire.xml` the way Openfire's first boot does: `<autosetup>` creates the
  domain, admin and users; every other non-XML-only property becomes a system property; the
  REST API answers only when `plugin.restapi.enabled` is true (403 otherwise) and checks the
  `Authorization` header against `plugin.restapi.secret` (401 without or wrong);
- `/system/readiness*` and `/system/liveness*` need no authentication;
- XML by default, JSON with `Accept: application/json`; request bodies in JSON or XML;
- users: POST 201 / 409 exists / 400 without password, PUT replaces properties, 404 unknown;
- chat services: POST 201 / 409; chat rooms: POST is an upsert (booleans left out become false,
  no owner means admin@domain, unknown service is created), GET/PUT/DELETE 404 unknown;
- system properties: POST sets (201), PUT 404 unknown / 400 key mismatch, DELETE 404 unknown;
- errors are `<error>`/`{"resource","message","exception"}` in the Accept type, else the
  request's Content-Type, else XML (RESTExceptionMapper).
It is checked against the plugin's own Hurl tests in tests/openfire/test_fake_vs_hurl.py.
"""
from __future__ import annotations

import json
import threading
import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Optional
from urllib.parse import parse_qs, unquote, urlsplit

PREFIX = "/plugins/restapi/v1"
XML_ONLY = {"adminConsole.port", "adminConsole.securePort", "adminConsole.interface", "network.interface",
            "locale", "fqdn", "setup", "connectionProvider.className"}
ROOM_BOOLEANS = ("persistent", "publicRoom", "registrationEnabled", "canAnyoneDiscoverJID",
                 "canOccupantsChangeSubject", "canOccupantsInvite", "canChangeNickname", "logEnabled",
                 "loginRestrictedToNickname", "membersOnly", "moderated")
ROOM_TEXT = ("naturalName", "description", "password", "subject")
AFFILIATIONS = (("owners", "owner"), ("admins", "admin"), ("members", "member"), ("outcasts", "outcast"))


class ApiError(Exception):
    def __init__(self, status: int, message: str = "", resource: str = "", exception: str = "") -> None:
        super().__init__(message)
        self.status, self.message, self.resource, self.exception = status, message, resource, exception


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def _bool(value: Any) -> bool:
    return value if isinstance(value, bool) else str(value).strip().lower() == "true"


def xml_properties(element: ET.Element, prefix: str = "") -> dict[str, str]:
    """Every leaf of an openfire.xml as dotted path -> text, the way Openfire names XML properties."""
    out: dict[str, str] = {}
    for child in element:
        key = f"{prefix}.{child.tag}" if prefix else child.tag
        if len(child):
            out.update(xml_properties(child, key))
        else:
            out[key] = (child.text or "").strip()
    return out


class FakeOpenfire:
    """State and behaviour; `serve()` exposes it over HTTP on 127.0.0.1."""

    def __init__(self, openfire_xml: str) -> None:
        self.lock = threading.RLock()
        self.ready = True
        self.requests: list[tuple[str, str]] = []  # (method, path) for assertions
        self.users: dict[str, dict] = {}
        self.services: dict[str, dict] = {}
        self.properties: dict[str, str] = {}
        self._boot(openfire_xml)

    # -- first boot, as Openfire's autosetup does it ----------------------------------------------

    def _boot(self, openfire_xml: str) -> None:
        xml = xml_properties(ET.fromstring(openfire_xml.encode()))
        auto = {k[len("autosetup."):]: v for k, v in xml.items() if k.startswith("autosetup.")}
        if auto.get("run") != "true" or not auto.get("locale"):
            raise ValueError("openfire.xml has no runnable <autosetup> (run=true and a locale are required)")
        self.domain = auto["xmpp.domain"]
        self.properties["xmpp.domain"] = self.domain
        self.properties["xmpp.auth.anonymous"] = "true" if auto.get("xmpp.auth.anonymous") == "true" else "false"
        self.users["admin"] = {"username": "admin", "name": "Administrator",
                               "email": auto.get("admin.email"), "password": auto.get("admin.password"),
                               "properties": {}}
        index = 1
        while f"users.user{index}.username" in auto and f"users.user{index}.password" in auto:
            name = auto[f"users.user{index}.username"]
            self.users[name] = {"username": name, "name": auto.get(f"users.user{index}.name"),
                                "email": auto.get(f"users.user{index}.email"),
                                "password": auto[f"users.user{index}.password"], "properties": {}}
            index += 1
        for key, value in xml.items():
            if not key.startswith("autosetup.") and key not in XML_ONLY:
                self.properties.setdefault(key, value)
        self.services["conference"] = {"serviceName": "conference", "description": "Public Chatrooms",
                                       "hidden": False, "rooms": {}}

    # -- request handling -------------------------------------------------------------------------

    def handle(self, method: str, path: str, query: dict[str, str], headers: dict[str, str],
               body: bytes) -> tuple[int, Optional[tuple[str, Any]]]:
        """Return (status, entity) where entity is (root element name, data) or None."""
        with self.lock:
            self.requests.append((method, path))
            if path.startswith("/system/readiness") or path.startswith("/system/liveness"):
                return (200 if self.ready else 503), None
            if self.properties.get("plugin.restapi.enabled") != "true":
                return 403, None
            auth = headers.get("authorization")
            if auth is None or self.properties.get("plugin.restapi.httpAuth") != "secret" \
                    or auth != self.properties.get("plugin.restapi.secret"):
                return 401, None
            data = _parse_body(body, headers.get("content-type", ""))
            parts = [unquote(p) for p in path.strip("/").split("/")]
            route = getattr(self, f"_{parts[0]}", None) if parts and parts[0] else None
            if route is None:
                raise ApiError(404, "Not faked", path)
            return route(method, parts[1:], query, data)

    # users

    def _users(self, method, rest, query, data):
        if not rest:
            if method == "GET":
                found = sorted(self.users.values(), key=lambda u: u["username"])
                if "propertyKey" in query:
                    key, value = query["propertyKey"], query.get("propertyValue")
                    found = [u for u in found if key in u["properties"]
                             and (value is None or u["properties"][key] == value)]
                elif query.get("search"):
                    found = [u for u in found if query["search"].lower() in u["username"]]
                return 200, ("users", [self._user_out(u) for u in found])
            if method == "POST":
                name = (data.get("username") or "").strip()
                if not name:
                    raise ApiError(400, "Could not create new user", "users", "IllegalArgumentException")
                if data.get("password") is None:
                    raise ApiError(400, "Could not create new user, because password is null", name, "PasswordIsNull")
                if name.lower() in self.users:
                    raise ApiError(409, "Could not create new user", name, "UserAlreadyExistsException")
                self.users[name.lower()] = {"username": name.lower(), "name": data.get("name"),
                                            "email": data.get("email"), "password": data["password"],
                                            "properties": dict(data.get("properties") or {})}
                return 201, None
            raise ApiError(405, "Method not allowed", "users")
        user = self.users.get(rest[0].lower())
        if len(rest) > 1:
            raise ApiError(404, "Not faked", "/".join(rest))
        if user is None:
            raise ApiError(404, "Could not get user", rest[0], "UserNotFoundException")
        if method == "GET":
            return 200, ("user", self._user_out(user))
        if method == "PUT":
            if data.get("username") and data["username"] != rest[0]:
                raise ApiError(501, "Renaming is not faked", rest[0])
            for field in ("password", "name", "email"):
                if data.get(field) is not None:
                    user[field] = data[field]
            user["properties"] = dict(data.get("properties") or {})  # replaced, as the plugin does
            return 200, None
        if method == "DELETE":
            del self.users[user["username"]]
            return 200, None
        raise ApiError(405, "Method not allowed", rest[0])

    @staticmethod
    def _user_out(user: dict) -> dict:
        out = {k: user[k] for k in ("username", "name", "email") if user.get(k) is not None}
        out["properties"] = [{"key": k, "value": v} for k, v in sorted(user["properties"].items())]
        return out

    # chat services

    def _chatservices(self, method, rest, query, data):
        if rest:
            raise ApiError(404, "Not faked", "/".join(rest))
        if method == "GET":
            return 200, ("chatServices", [
                {k: s[k] for k in ("serviceName", "description", "hidden")} for s in self.services.values()])
        if method == "POST":
            name = (data.get("serviceName") or "").strip().lower()
            if not name:
                raise ApiError(400, "Could not create the chat service", "", "IllegalArgumentException")
            if name in self.services:
                raise ApiError(409, "Could not create the chat service", name, "AlreadyExistsException")
            self.services[name] = {"serviceName": name, "description": data.get("description") or "",
                                   "hidden": _bool(data.get("hidden", False)), "rooms": {}}
            return 201, None
        raise ApiError(405, "Method not allowed", "chatservices")

    # chat rooms

    def _service(self, name: str) -> dict:
        service = self.services.get(name.lower())
        if service is None:
            raise ApiError(404, "Chat service does not exist or is not accessible.", name,
                           "MUCServiceNotFoundException")
        return service

    def _chatrooms(self, method, rest, query, data):
        service_name = query.get("servicename", "conference")
        if not rest:
            if method == "GET":
                service = self._service(service_name)
                rooms = list(service["rooms"].values())
                if query.get("type", "public") != "all":
                    rooms = [r for r in rooms if r["publicRoom"]]
                if query.get("search"):
                    rooms = [r for r in rooms if query["search"].lower() in r["roomName"]]
                return 200, ("chatRooms", rooms)
            if method == "POST":
                if service_name.lower() not in self.services:  # the plugin creates missing services
                    self.services[service_name.lower()] = {"serviceName": service_name.lower(),
                                                           "description": service_name, "hidden": False,
                                                           "rooms": {}}
                self._upsert_room(self._service(service_name), data)
                return 201, None
            raise ApiError(405, "Method not allowed", "chatrooms")
        if len(rest) > 1:
            raise ApiError(404, "Not faked", "/".join(rest))
        service = self._service(service_name)
        room = service["rooms"].get(rest[0].lower())
        if room is None:
            raise ApiError(404, "Chat room does not exist or is not accessible.", rest[0], "RoomNotFoundException")
        if method == "GET":
            return 200, ("chatRoom", room)
        if method == "PUT":
            if (data.get("roomName") or rest[0]).lower() != room["roomName"]:
                raise ApiError(400, "Room name in path and entity differ", rest[0], "IllegalArgumentException")
            self._upsert_room(service, data)
            return 200, None
        if method == "DELETE":
            del service["rooms"][room["roomName"]]
            return 200, None
        raise ApiError(405, "Method not allowed", rest[0])

    def _upsert_room(self, service: dict, data: dict) -> None:
        name = (data.get("roomName") or "").strip().lower()
        if not name:
            raise ApiError(400, "Could not create the channel", "", "IllegalArgumentException")
        lists = {plural: [str(j).lower() for j in (data.get(plural) or [])] for plural, _ in AFFILIATIONS}
        if not lists["owners"]:
            lists["owners"] = [f"admin@{self.domain}"]
        every = [j for plural, _ in AFFILIATIONS for j in lists[plural]]
        if len(every) != len(set(every)):
            raise ApiError(409, "Could not create the channel", name, "NotAllowedException")
        existing = service["rooms"].get(name)
        room = {"roomName": name}
        for field in ROOM_TEXT:
            if data.get(field) is not None:
                room[field] = str(data[field])
        room["maxUsers"] = int(data.get("maxUsers") or 0)
        for field in ROOM_BOOLEANS:
            room[field] = _bool(data.get(field, False))  # omitted booleans become false
        room["allowPM"] = data.get("allowPM") or "anyone"
        room["broadcastPresenceRoles"] = list(data.get("broadcastPresenceRoles") or [])
        room.update(lists)
        room["creationDate"] = existing["creationDate"] if existing else _now()
        room["modificationDate"] = _now()
        service["rooms"][name] = room

    # system

    def _system(self, method, rest, query, data):
        if not rest or rest[0] != "properties" or len(rest) > 2:
            raise ApiError(404, "Not faked", "/".join(rest))
        if len(rest) == 1:
            if method == "GET":
                return 200, ("properties", [{"key": k, "value": v} for k, v in sorted(self.properties.items())])
            if method == "POST":
                if not data.get("key"):
                    raise ApiError(400, "Property key missing", "", "IllegalArgumentException")
                self.properties[data["key"]] = str(data.get("value", ""))
                return 201, None
            raise ApiError(405, "Method not allowed", "properties")
        key = rest[1]
        if method == "GET":
            if key not in self.properties:
                raise ApiError(404, "Could not find property", key, "PropertyNotFoundException")
            return 200, ("property", {"key": key, "value": self.properties[key]})
        if method == "PUT":
            if key not in self.properties:
                raise ApiError(404, "Could not find property for update", data.get("key", key),
                               "PropertyNotFoundException")
            if data.get("key") != key:
                raise ApiError(400, "Path property name and entity property name doesn't match", key,
                               "IllegalArgumentException")
            self.properties[key] = str(data.get("value", ""))
            return 200, None
        if method == "DELETE":
            if key not in self.properties:
                raise ApiError(404, "Could not find property", key, "PropertyNotFoundException")
            del self.properties[key]
            return 200, None
        raise ApiError(405, "Method not allowed", key)


# -- body parsing and rendering -------------------------------------------------------------------

def _parse_body(body: bytes, content_type: str) -> dict:
    if not body.strip():
        return {}
    if "json" in content_type:
        data = json.loads(body)
        if isinstance(data.get("properties"), list):  # user properties: [{key, value}]
            data["properties"] = {p["key"]: p.get("value") for p in data["properties"]}
        return data
    root = ET.fromstring(body)
    if root.tag == "property":
        return {"key": root.get("key"), "value": root.get("value")}
    data: dict[str, Any] = {}
    for child in root:
        if child.tag == "properties":
            data["properties"] = {p.get("key"): p.get("value") for p in child}
        elif len(child):
            data[child.tag] = [(c.text or "").strip() for c in child]
        else:
            data[child.tag] = (child.text or "").strip()
    return data


_LIST_ITEM = {"users": "user", "chatServices": "chatService", "chatRooms": "chatRoom",
              "properties": "property", "owners": "owner", "admins": "admin", "members": "member",
              "outcasts": "outcast", "broadcastPresenceRoles": "broadcastPresenceRole"}
# JSON member names of collection entities (Jackson with JAXB names as fallback)
_JSON_COLLECTION = {"users": "users", "chatServices": "chatService", "chatRooms": "chatRooms",
                    "properties": "property"}


def render_json(root: str, data: Any) -> bytes:
    if root in _JSON_COLLECTION:
        return json.dumps({_JSON_COLLECTION[root]: data}).encode()
    return json.dumps(data).encode()


def _to_xml(parent: ET.Element, tag: str, value: Any) -> None:
    if tag == "property" and isinstance(value, dict):
        ET.SubElement(parent, "property", {k: str(v) for k, v in value.items() if v is not None})
        return
    element = ET.SubElement(parent, tag)
    _fill(element, tag, value)


def _fill(element: ET.Element, tag: str, value: Any) -> None:
    if isinstance(value, list):
        for item in value:
            _to_xml(element, _LIST_ITEM.get(tag, "item"), item)
    elif isinstance(value, dict):
        for key, item in value.items():
            if item is not None:
                _to_xml(element, key, item)
    elif isinstance(value, bool):
        element.text = "true" if value else "false"
    else:
        element.text = str(value)


def render_xml(root: str, data: Any) -> bytes:
    if root == "property":
        element = ET.Element("property", {k: str(v) for k, v in data.items() if v is not None})
    else:
        element = ET.Element(root)
        _fill(element, root, data)
    return b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>' + ET.tostring(element)


class _Handler(BaseHTTPRequestHandler):
    fake: FakeOpenfire
    delay = 0.0

    def log_message(self, *args) -> None:  # keep test output clean
        pass

    def _serve(self) -> None:
        split = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        accept = headers.get("accept", "")
        if self.server.delay:  # type: ignore[attr-defined]
            import time
            time.sleep(self.server.delay)  # type: ignore[attr-defined]
        if not split.path.startswith(PREFIX):
            return self._send(404, "text/html", b"<html><body>Not found</body></html>")
        path = split.path[len(PREFIX):] or "/"
        query = {k: v[-1] for k, v in parse_qs(split.query).items()}
        try:
            status, entity = self.server.fake.handle(self.command, path, query, headers, body)  # type: ignore[attr-defined]
        except ApiError as err:
            status = err.status
            entity = ("error", {"resource": err.resource, "message": err.message, "exception": err.exception})
            # RESTExceptionMapper: a single concrete Accept wins, else the request's Content-Type
            if "json" not in accept and "xml" not in accept:
                accept = headers.get("content-type", "application/xml")
        except (ValueError, ET.ParseError) as err:
            status, entity = 400, ("error", {"message": f"Unparseable body: {err}"})
        if entity is None:
            return self._send(status, None, b"")
        root, data = entity
        if "application/json" in accept:
            return self._send(status, "application/json", render_json(root, data))
        return self._send(status, "application/xml", render_xml(root, data))

    def _send(self, status: int, content_type: Optional[str], payload: bytes) -> None:
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = _serve


class FakeServer:
    """The fake on 127.0.0.1:<free port>, served from a thread; use as a context manager."""

    def __init__(self, fake: FakeOpenfire) -> None:
        self.fake = fake
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.daemon_threads = True
        self.httpd.fake = fake  # type: ignore[attr-defined]
        self.httpd.delay = 0.0  # type: ignore[attr-defined]
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-openfire", daemon=True)

    def set_delay(self, seconds: float) -> None:
        self.httpd.delay = seconds  # type: ignore[attr-defined]

    def __enter__(self) -> "FakeServer":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)
