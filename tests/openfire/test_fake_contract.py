"""JSON contract of the REST API plugin 1.12.0, checked on the fake (tests/openfire/fake_restapi.py).

Each test names the source it was written from: igniterealtime/openfire-restAPI-plugin at commit
8bcd65c1edfcd2abff2d8b14a0d693b5049dfb55 (v1.12.0), paths below `src/java/org/jivesoftware/
openfire/plugin/rest/` written `rest/`, and igniterealtime/Openfire v5.0.3, paths below
`xmppserver/src/main/java/org/jivesoftware/` written `openfire:`. The plugin's own Hurl tests
cover only XML and never create or update a room or service (test_fake_vs_hurl.py replays them);
these cover what jitsictl depends on. The fake boots from the seed openfire.xml jitsictl renders.
"""
from __future__ import annotations

import time

import pytest
import requests

from tests.openfire.conftest import DOMAIN

JSON = {"Accept": "application/json", "Content-Type": "application/json"}


@pytest.fixture
def api(openfire, restapi_secret):
    fake, server = openfire
    session = requests.Session()
    session.headers.update({**JSON, "Authorization": restapi_secret})

    def call(method: str, path: str, **kwargs) -> requests.Response:
        return session.request(method, f"{server.url}/plugins/restapi/v1{path}", timeout=5,
                               allow_redirects=False, **kwargs)

    yield fake, call
    session.close()


def test_list_wrappers(api):
    """rest/entity/UserEntities.java (@JsonProperty "users"), MUCRoomEntities.java
    (@JsonProperty "chatRooms"), MUCServiceEntities.java (no Jackson name: the JAXB element
    "chatService"), SystemProperties.java (JAXB element "property")."""
    _, call = api
    assert call("POST", "/chatrooms", json={"roomName": "r", "publicRoom": True}).status_code == 201
    assert list(call("GET", "/users").json()) == ["users"]
    assert list(call("GET", "/chatrooms").json()) == ["chatRooms"]
    assert list(call("GET", "/chatservices").json()) == ["chatService"]
    assert list(call("GET", "/system/properties").json()) == ["property"]
    service = call("GET", "/chatservices").json()["chatService"][0]
    assert service == {"serviceName": "conference", "description": "Public Chatrooms", "hidden": False}


def test_dates_are_epoch_milliseconds(api):
    """rest/CustomJacksonMapperProvider.java: a plain ObjectMapper, so java.util.Date fields of
    rest/entity/MUCRoomEntity.java are written as numbers (Jackson's default)."""
    _, call = api
    before = int(time.time() * 1000)
    call("POST", "/chatrooms", json={"roomName": "r"})
    room = call("GET", "/chatrooms/r").json()
    assert isinstance(room["creationDate"], int) and isinstance(room["modificationDate"], int)
    assert before <= room["creationDate"] <= int(time.time() * 1000)


def test_room_upsert_resets_every_omitted_field(api):
    """rest/controller/MUCRoomController.java createRoom(): every setter is called with the
    entity's value, so what is left out becomes false/0/null; getAllowPM() answers "anyone" for
    null; broadcastPresenceRoles null -> an empty list; no owners -> admin@<domain>; setRoles()
    replaces the affiliations; creation and modification dates null -> now."""
    _, call = api
    full = {"roomName": "maths", "naturalName": "Maths", "description": "d", "subject": "s",
            "password": "p", "maxUsers": 40, "allowPM": "moderators", "persistent": True,
            "publicRoom": True, "membersOnly": True, "moderated": True, "canChangeNickname": True,
            "broadcastPresenceRoles": ["moderator", "participant"], "owners": [f"focus@{DOMAIN}"],
            "members": [f"jvb@{DOMAIN}"], "creationDate": 1_600_000_000_000}
    assert call("POST", "/chatrooms", json=full).status_code == 201
    assert call("GET", "/chatrooms/maths").json()["creationDate"] == 1_600_000_000_000
    assert call("POST", "/chatrooms", json={"roomName": "maths"}).status_code == 201
    room = call("GET", "/chatrooms/maths?type=all").json()
    assert not any(room[flag] for flag in ("persistent", "publicRoom", "membersOnly", "moderated",
                                           "canChangeNickname"))
    assert room["maxUsers"] == 0 and room["allowPM"] == "anyone"
    assert room["broadcastPresenceRoles"] == []
    assert room["owners"] == [f"admin@{DOMAIN}"] and room["members"] == []
    for gone in ("subject", "password", "naturalName", "description"):
        assert gone not in room  # null, and Jackson leaves nulls out
    assert room["creationDate"] > 1_600_000_000_000


def test_room_creation_can_be_forbidden(api):
    """rest/controller/MUCRoomController.java createChatRoom() maps NotAllowedException to 403;
    openfire: openfire/muc/spi/MultiUserChatServiceImpl.java getChatRoom(name, owner) throws it
    for a new room when creation is restricted and the first owner is neither sysadmin nor
    allowed to create. Updating an existing room does not ask."""
    fake, call = api
    service = fake.services["conference"]
    call("POST", "/chatrooms", json={"roomName": "existing"})
    service["room_creation_restricted"] = True
    service["sysadmins"].add(f"focus@{DOMAIN}")
    refused = call("POST", "/chatrooms", json={"roomName": "new"})
    assert refused.status_code == 403
    assert refused.json() == {"resource": "new", "message": "Could not create the channel",
                              "exception": "NotAllowedException"}
    assert call("POST", "/chatrooms", json={"roomName": "new", "owners": [f"focus@{DOMAIN}"]}).status_code == 201
    assert call("POST", "/chatrooms", json={"roomName": "existing"}).status_code == 201


def test_missing_service_is_created_by_room_upsert(api):
    """rest/controller/MUCRoomController.java createRoom(): an unregistered service is created
    with createMultiUserChatService(serviceName, serviceName, false)."""
    _, call = api
    assert call("POST", "/chatrooms?servicename=lectures", json={"roomName": "r"}).status_code == 201
    services = call("GET", "/chatservices").json()["chatService"]
    assert {"serviceName": "lectures", "description": "lectures", "hidden": False} in services


def test_chat_service_creation(api):
    """rest/service/MUCServiceService.java POST (201), rest/controller/MUCServiceController.java
    createChatService(): AlreadyExistsException -> 409."""
    _, call = api
    body = {"serviceName": "internal-muc", "description": "bridges", "hidden": True}
    assert call("POST", "/chatservices", json=body).status_code == 201
    again = call("POST", "/chatservices", json=body)
    assert again.status_code == 409 and again.json()["exception"] == "AlreadyExistsException"
    assert body in call("GET", "/chatservices").json()["chatService"]


def test_properties_listing_has_registered_defaults_single_get_has_not(api):
    """rest/controller/SystemController.java getSystemProperties(): every registered
    SystemProperty with getValueAsSaved() (the default when unset), then the database ones;
    getSystemProperty() reads JiveGlobals.getProperty (the database) and 404s otherwise.
    Defaults from openfire: openfire/http/HttpBindManager.java, openfire/sasl/AnonymousSaslServer.java."""
    _, call = api
    listed = {p["key"]: p.get("value") for p in call("GET", "/system/properties").json()["property"]}
    assert listed["httpbind.CORS.enabled"] == "true" and listed["httpbind.CORS.domains"] == "*"
    assert listed["plugin.restapi.enabled"] == "true"  # copied from openfire.xml at setup
    assert call("GET", "/system/properties/httpbind.CORS.enabled").status_code == 404
    assert call("GET", "/system/properties/plugin.restapi.enabled").json() == {
        "key": "plugin.restapi.enabled", "value": "true"}


def test_liveness_fails_once_a_restart_is_needed(api):
    """rest/service/SystemService.java liveness() and SystemController.java
    hasSystemPropertyRequiringRestart(); `httpbind.CORS.enabled` is not dynamic
    (openfire: openfire/http/HttpBindManager.java)."""
    _, call = api
    assert call("GET", "/system/liveness").status_code == 200
    call("POST", "/system/properties", json={"key": "httpbind.CORS.enabled", "value": "false"})
    assert call("GET", "/system/liveness").status_code == 503
    assert call("GET", "/system/readiness").status_code == 200


def test_startup_answers_302_then_503_then_200(api):
    """Before the plugin has loaded its exclude is not registered (rest/RESTServicePlugin.java
    initializePlugin -> AuthCheckFilter.addExclude), so openfire: admin/AuthCheckFilter.java
    redirects to login.jsp; then rest/service/SystemService.java readiness() is 503 until
    XMPPServer is started, plugins executed and listeners up."""
    fake, call = api
    fake.phase = "console"
    response = call("GET", "/system/readiness")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login.jsp?url=")
    assert call("GET", "/users").status_code == 302
    fake.phase = "starting"
    assert call("GET", "/system/readiness").status_code == 503
    assert call("GET", "/users").status_code == 200  # the API itself answers already
    fake.phase = "ready"
    assert call("GET", "/system/readiness").status_code == 200


def test_without_wildcard_excludes_the_console_redirects_for_good(api):
    """openfire: admin/AuthCheckFilter.java honours the plugin's "restapi/*" exclude only with
    adminConsole.access.allow-wildcards-in-excludes (default false)."""
    fake, call = api
    del fake.properties["adminConsole.access.allow-wildcards-in-excludes"]
    assert call("GET", "/system/readiness").status_code == 302


def test_user_update_replaces_all_properties(api):
    """rest/controller/UserServiceController.java updateUser() -> addProperties(): clears the
    user's properties, then adds those sent (none when the entity has none)."""
    fake, call = api
    body = {"username": "alice", "password": "pw", "properties": [{"key": "a", "value": "1"}]}
    assert call("POST", "/users", json=body).status_code == 201
    assert call("PUT", "/users/alice", json={"username": "alice", "password": "new"}).status_code == 200
    assert call("GET", "/users/alice").json() == {"username": "alice", "properties": []}
    assert fake.users["alice"]["password"] == "new"


def test_user_search_is_a_case_sensitive_substring(api):
    """rest/utils/UserUtils.java convertUsersToUserEntities(): username.contains(search)."""
    _, call = api
    call("POST", "/users", json={"username": "teacher1", "password": "x"})
    found = [u["username"] for u in call("GET", "/users?search=each").json()["users"]]
    assert found == ["teacher1"]
    assert call("GET", "/users?search=EACH").json()["users"] == []


def test_wrong_secret_is_401_and_counted_as_the_plugin_logs_it(api):
    """rest/AuthFilter.java: a wrong shared secret is logged at WARN with the key sent, 401."""
    fake, call = api
    response = call("GET", "/users", headers={"Authorization": "stale-secret"})
    assert response.status_code == 401 and fake.wrong_secrets == 1
    assert call("GET", "/users").status_code == 200 and fake.wrong_secrets == 1
