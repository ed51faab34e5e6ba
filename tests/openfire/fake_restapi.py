"""A fake of Openfire 5.0.3 with the REST API plugin 1.12.0, for tests only (Openfire cannot run in
CI). Each behaviour below was read in the sources and is checked by tests/openfire/test_fake_contract.py
(which names the file for each) and by replaying the plugin's own Hurl tests (test_fake_vs_hurl.py).
Sources: igniterealtime/openfire-restAPI-plugin at 8bcd65c (v1.12.0), `src/java/org/jivesoftware/
openfire/plugin/rest/` below as `rest/`; igniterealtime/Openfire v5.0.3 `xmppserver/src/main/java/`.

- First boot as Openfire's autosetup does it (XMPPServer.runAutoSetup, finalSetupSteps): the
  domain, admin and users come from `<autosetup>`; every other XML property that is not XML-only
  is copied into the database.
- Start-up (`phase`): "console" — the admin console answers but the plugin has not loaded, so
  its exclude is not registered and admin/AuthCheckFilter redirects every plugin path, readiness
  included, to login.jsp (302); "starting" — the plugin answers, `/system/readiness` says 503
  until Openfire has started its plugins and listeners (rest/service/SystemService.java);
  "ready". A missing `adminConsole.access.allow-wildcards-in-excludes=true` keeps the 302 for good.
- Auth (rest/AuthFilter.java): status endpoints need none; plugin disabled -> 403; secret
  compared raw with `Authorization` (401 otherwise). The real plugin logs a wrong key at WARN;
  `wrong_secrets` counts those attempts.
- JSON is Jackson with JAXB names as fallback, nulls left out, dates as epoch milliseconds
  (rest/CustomJacksonMapperProvider.java); list wrappers `{"users"}`, `{"chatRooms"}`,
  `{"chatService"}`, `{"property"}` (rest/entity/*Entities.java, SystemProperties.java).
- Users (rest/controller/UserServiceController.java): POST 201 / 409 / 400 without password; PUT
  replaces ALL properties with those sent (none sent: all removed); search is a case-sensitive
  substring of the username (rest/utils/UserUtils.java).
- Chat rooms (rest/controller/MUCRoomController.java createRoom): POST is an upsert that resets
  every omitted field — booleans false, maxUsers 0 (= no limit, MUCRoom.java), allowPM "anyone",
  broadcastPresenceRoles none, owners admin@domain, affiliations replaced, subject, password,
  natural name and description null, creationDate and modificationDate now; creating a room
  (not updating) is refused with 403 when the service restricts room creation and the first
  owner is neither a sysadmin nor allowed to create (MultiUserChatServiceImpl.isAllowedToCreate);
  a missing service is created with its name as description.
- Chat services: POST 201 / 409 (rest/controller/MUCServiceController.java).
- System properties (rest/controller/SystemController.java): the listing holds every registered
  SystemProperty with its current value or default (no value when both are null) plus every
  database property; a single GET, PUT and DELETE see the database only (404 otherwise);
  `/system/liveness` is 503 once a non-dynamic property changed since start (restart needed).
- Errors (rest/exceptions/RESTExceptionMapper.java): `<error>`/`{"resource","message","exception"}`
  in the single concrete Accept type, else the request's Content-Type, else XML.
"""
from __future__ import annotations

import json
import threading
import time
import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Optional
from urllib.parse import parse_qs, quote, unquote, urlsplit

PREFIX = "/plugins/restapi/v1"
XML_ONLY = {"adminConsole.port", "adminConsole.securePort", "adminConsole.interface", "network.interface",
            "locale", "fqdn", "setup", "connectionProvider.className"}
ROOM_BOOLEANS = ("persistent", "publicRoom", "registrationEnabled", "canAnyoneDiscoverJID",
                 "canOccupantsChangeSubject", "canOccupantsInvite", "canChangeNickname", "logEnabled",
                 "loginRestrictedToNickname", "membersOnly", "moderated")
ROOM_TEXT = ("naturalName", "description", "password", "subject")
AFFILIATIONS = ("owners", "admins", "members", "outcasts")
GROUP_AFFILIATIONS = ("ownerGroups", "adminGroups", "memberGroups", "outcastGroups")
ROLES = ("moderator", "participant", "visitor")
PHASES = ("console", "starting", "ready")

# Registered SystemProperty<> objects a booted Openfire 5.0.3 with the REST API plugin lists:
# key -> (default as saved, dynamic). A few of the ~150; the ones jitsictl touches or reads.
REGISTERED = {
    # Openfire http/HttpBindManager.java
    "httpbind.CORS.enabled": ("true", False),
    "httpbind.CORS.domains": ("*", True),
    # Openfire sasl/AnonymousSaslServer.java
    "xmpp.auth.anonymous": ("false", True),
    # Openfire admin/AuthCheckFilter.java
    "adminConsole.access.allow-wildcards-in-excludes": ("false", True),
    # rest/controller/MUCRoomController.java
    "plugin.restapi.muc.case-insensitive-lookup.enabled": ("false", True),
    "plugin.restapi.muc.room-mutex.enabled": ("true", True),
}


class ApiError(Exception):
    def __init__(self, status: int, message: str = "", resource: str = "", exception: str = "") -> None:
        super().__init__(message)
        self.status, self.message, self.resource, self.exception = status, message, resource, exception


def now_ms() -> int:
    return int(time.time() * 1000)


def _bool(value: Any) -> bool:
    return value if isinstance(value, bool) else str(value).strip().lower() == "true"


def _date(value: Any) -> Optional[int]:
    """A date as Jackson reads it: epoch milliseconds (a number), or absent."""
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return int(value)
    return int(datetime.fromisoformat(str(value)).timestamp() * 1000)  # XML: xs:dateTime


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
    """State and behaviour; `FakeServer` exposes it over HTTP on 127.0.0.1."""

    def __init__(self, openfire_xml: str, *, phase: str = "ready") -> None:
        self.lock = threading.RLock()
        self.phase = phase
        self.requests: list[tuple[str, str]] = []  # (method, path) for assertions
        self.wrong_secrets = 0  # requests the real plugin logs at WARN, with the key they sent
        self.users: dict[str, dict] = {}
        self.services: dict[str, dict] = {}
        self.properties: dict[str, str] = {}  # what the database holds
        self._boot(openfire_xml)
        self.initial = {key: self.property_value(key) for key in REGISTERED}

    @property
    def ready(self) -> bool:
        return self.phase == "ready"

    @ready.setter
    def ready(self, value: bool) -> None:
        self.phase = "ready" if value else "starting"

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
        self.add_service("conference", "Public Chatrooms")

    def add_service(self, name: str, description: str, hidden: bool = False) -> dict:
        service = {"serviceName": name, "description": description, "hidden": hidden, "rooms": {},
                   "room_creation_restricted": False, "sysadmins": set(), "allowed_to_create": set()}
        self.services[name.lower()] = service
        return service

    def property_value(self, key: str) -> Optional[str]:
        """A property as the listing shows it: the database value, else a registered default."""
        if key in self.properties:
            return self.properties[key]
        return REGISTERED[key][0] if key in REGISTERED else None

    def restart_needed(self) -> bool:
        return any(not dynamic and self.property_value(key) != self.initial[key]
                   for key, (_, dynamic) in REGISTERED.items())

    # -- request handling -------------------------------------------------------------------------

    def handle(self, method: str, path: str, query: dict[str, str], headers: dict[str, str],
               body: bytes) -> tuple[int, Optional[tuple[str, Any]]]:
        """Return (status, entity) where entity is (root element name, data) or None.
        A redirect is (302, ("redirect", location))."""
        with self.lock:
            self.requests.append((method, path))
            if self.phase == "console" or self.properties.get(
                    "adminConsole.access.allow-wildcards-in-excludes") != "true":
                return 302, ("redirect", "/login.jsp?url=" + quote(PREFIX + path, safe=""))
            if path.startswith("/system/readiness"):
                return (200 if self.ready else 503), None
            if path.startswith("/system/liveness"):
                return (503 if self.restart_needed() and not path.endswith("/deadlock") else 200), None
            if self.properties.get("plugin.restapi.enabled") != "true":
                return 403, None
            auth = headers.get("authorization")
            if auth is None:
                return 401, None
            if self.properties.get("plugin.restapi.httpAuth") != "secret" \
                    or auth != self.properties.get("plugin.restapi.secret"):
                self.wrong_secrets += 1
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
                elif query.get("search") is not None:
                    found = [u for u in found if query["search"] in u["username"]]
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
            user["properties"] = dict(data.get("properties") or {})  # all replaced, even by nothing
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
            self.add_service(name, data.get("description"), _bool(data.get("hidden", False)))
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
                return 200, ("chatRooms", [_room_out(r) for r in rooms])
            if method == "POST":
                if service_name.lower() not in self.services:  # the plugin creates missing services
                    self.add_service(service_name.lower(), service_name)
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
            return 200, ("chatRoom", _room_out(room))
        if method == "PUT":
            if (data.get("roomName") or "").lower() != room["roomName"]:
                raise ApiError(400, "Could not update the channel. The room name is different to the "
                               "entity room name.", rest[0], "IllegalArgumentException")
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
        lists = {key: [str(j).lower() for j in (data.get(key) or [])] for key in AFFILIATIONS}
        if not lists["owners"]:
            lists["owners"] = [f"admin@{self.domain}"]
        every = [j for key in AFFILIATIONS for j in lists[key]]
        if len(every) != len(set(every)):
            raise ApiError(409, "Could not create the channel", name, "NotAllowedException")
        if name not in service["rooms"]:
            creator = lists["owners"][0].split("/")[0]
            if service["room_creation_restricted"] and creator not in service["sysadmins"] \
                    and creator not in service["allowed_to_create"]:
                raise ApiError(403, "Could not create the channel", name, "NotAllowedException")
        room: dict[str, Any] = {"roomName": name}
        for field in ROOM_TEXT:
            room[field] = None if data.get(field) is None else str(data[field])
        room["maxUsers"] = int(data.get("maxUsers") or 0)
        for field in ROOM_BOOLEANS:
            room[field] = _bool(data.get(field, False))  # omitted booleans become false
        room["allowPM"] = data.get("allowPM") or "anyone"
        roles = [str(r) for r in (data.get("broadcastPresenceRoles") or [])]
        unknown = [r for r in roles if r not in ROLES]
        if unknown:
            raise ApiError(400, f"Unknown role {unknown[0]}", name, "IllegalArgumentException")
        room["broadcastPresenceRoles"] = roles
        room.update(lists)
        for key in GROUP_AFFILIATIONS:
            room[key] = [str(g) for g in (data.get(key) or [])]
        room["creationDate"] = _date(data.get("creationDate")) or now_ms()
        room["modificationDate"] = _date(data.get("modificationDate")) or now_ms()
        service["rooms"][name] = room

    # system

    def _system(self, method, rest, query, data):
        if not rest or rest[0] != "properties" or len(rest) > 2:
            raise ApiError(404, "Not faked", "/".join(rest))
        if len(rest) == 1:
            if method == "GET":
                keys = sorted(set(self.properties) | set(REGISTERED))
                return 200, ("properties", [_property_out(k, self.property_value(k)) for k in keys])
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
            return 200, ("property", _property_out(key, self.properties[key]))
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


def _property_out(key: str, value: Optional[str]) -> dict:
    return {"key": key} if value is None else {"key": key, "value": value}


def _room_out(room: dict) -> dict:
    """A room entity as Jackson writes it: null fields (password, subject...) left out."""
    return {k: v for k, v in room.items() if v is not None}


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
              "outcasts": "outcast", "ownerGroups": "ownerGroup", "adminGroups": "adminGroup",
              "memberGroups": "memberGroup", "outcastGroups": "outcastGroup",
              "broadcastPresenceRoles": "broadcastPresenceRole"}
# JSON member names of collection entities (Jackson: @JsonProperty, else the JAXB element name)
_JSON_COLLECTION = {"users": "users", "chatServices": "chatService", "chatRooms": "chatRooms",
                    "properties": "property"}
_DATES = ("creationDate", "modificationDate")


def render_json(root: str, data: Any) -> bytes:
    if root in _JSON_COLLECTION:
        return json.dumps({_JSON_COLLECTION[root]: data}).encode()
    return json.dumps(data).encode()


def _to_xml(parent: ET.Element, tag: str, value: Any) -> None:
    if tag == "property" and isinstance(value, dict):
        ET.SubElement(parent, "property", {k: str(v) for k, v in value.items() if v is not None})
        return
    element = ET.SubElement(parent, tag)
    if tag in _DATES:  # JAXB writes xs:dateTime
        element.text = datetime.fromtimestamp(value / 1000, timezone.utc).isoformat(timespec="milliseconds")
        return
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
            time.sleep(self.server.delay)  # type: ignore[attr-defined]
        if not split.path.startswith(PREFIX):
            return self._send(404, "text/html", b"<html><body>Not found</body></html>")
        path = split.path[len(PREFIX):] or "/"
        query = {k: v[-1] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
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
        if root == "redirect":
            return self._send(status, None, b"", location=data)
        if "application/json" in accept:
            return self._send(status, "application/json", render_json(root, data))
        return self._send(status, "application/xml", render_xml(root, data))

    def _send(self, status: int, content_type: Optional[str], payload: bytes,
              location: Optional[str] = None) -> None:
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        if location:
            self.send_header("Location", location)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = _serve


def serve(fake: FakeOpenfire, address: tuple[str, int]) -> ThreadingHTTPServer:
    """An HTTP server for the fake (not yet serving)."""
    httpd = ThreadingHTTPServer(address, _Handler)
    httpd.daemon_threads = True
    httpd.fake = fake  # type: ignore[attr-defined]
    httpd.delay = 0.0  # type: ignore[attr-defined]
    return httpd


class FakeServer:
    """The fake on 127.0.0.1:<free port>, served from a thread; use as a context manager."""

    def __init__(self, fake: FakeOpenfire) -> None:
        self.fake = fake
        self.httpd = serve(fake, ("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                       name="fake-openfire", daemon=True)

    def set_delay(self, seconds: float) -> None:
        self.httpd.delay = seconds  # type: ignore[attr-defined]

    def __enter__(self) -> "FakeServer":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)
