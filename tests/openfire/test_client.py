"""REST client behaviour against the fake REST API (see test_fake_vs_hurl.py for how the fake is
checked against the plugin's own tests) and against real sockets for network failures."""
from __future__ import annotations

import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from jitsictl.openfire.client import (NO_ANSWER_HINT, NOT_LOADED_HINT, STARTING_HINT, NotFound,
                                      OpenfireError, RestApiClient)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_wrong_secret_is_a_readable_401_that_does_not_echo_the_secret(openfire):
    _, server = openfire
    client = RestApiClient(server.url, "not-the-secret-value", timeout=5)
    with pytest.raises(OpenfireError) as info:
        client.list_users()
    text = str(info.value)
    assert info.value.status == 401
    assert "secret" in info.value.hint and "plugin.restapi.httpAuth" in info.value.hint
    assert "not-the-secret-value" not in text


def test_disabled_plugin_is_403_with_hint(openfire, restapi_secret):
    fake, server = openfire
    fake.properties["plugin.restapi.enabled"] = "false"
    with pytest.raises(OpenfireError) as info:
        RestApiClient(server.url, restapi_secret, timeout=5).list_properties()
    assert info.value.status == 403 and "plugin.restapi.enabled" in info.value.hint


def test_connection_refused_says_openfire_is_not_reachable():
    client = RestApiClient(f"http://127.0.0.1:{_closed_port()}", "x", timeout=2)
    with pytest.raises(OpenfireError) as info:
        client.list_users()
    assert info.value.status is None
    assert "cannot connect" in str(info.value) and "9090" in info.value.hint


def test_timeout_is_reported_with_the_limit(openfire, restapi_secret):
    _, server = openfire
    server.set_delay(1.0)
    client = RestApiClient(server.url, restapi_secret, timeout=0.2)
    with pytest.raises(OpenfireError) as info:
        client.list_users()
    assert "within 0.2s" in str(info.value)


def test_not_found_carries_the_plugins_error_entity(openfire, restapi_secret):
    _, server = openfire
    client = RestApiClient(server.url, restapi_secret, timeout=5)
    assert client.get_user("nobody") is None
    assert client.get_chat_room("nope", "conference") is None
    assert client.get_property("no.such.key") is None
    with pytest.raises(NotFound) as info:
        client.update_property("no.such.key", "v")
    assert info.value.exception == "PropertyNotFoundException"
    assert "Could not find property" in str(info.value)


def test_crud_round_trip_in_json(openfire, restapi_secret):
    fake, server = openfire
    client = RestApiClient(server.url + "/plugins/restapi/v1/", restapi_secret, timeout=5)
    client.create_user("alice", "pw1", name="Alice", properties={"k": "v"})
    with pytest.raises(OpenfireError) as info:
        client.create_user("alice", "pw2")
    assert info.value.status == 409 and info.value.exception == "UserAlreadyExistsException"
    assert client.get_user("alice")["name"] == "Alice"
    assert {u["username"] for u in client.list_users()} >= {"admin", "alice"}
    client.create_chat_service("extra", "Extra", hidden=True)
    with pytest.raises(OpenfireError) as info:
        client.create_chat_service("extra")
    assert info.value.status == 409
    assert "extra" in {s["serviceName"] for s in client.list_chat_services()}
    client.upsert_chat_room("extra", {"roomName": "r1", "naturalName": "r1", "description": "d",
                                      "membersOnly": True, "persistent": True})
    assert client.get_chat_room("r1", "extra")["membersOnly"] is True
    assert [r["roomName"] for r in client.list_chat_rooms("extra")] == ["r1"]
    client.delete_chat_room("r1", "extra")
    assert client.get_chat_room("r1", "extra") is None
    client.create_property("a.b", "1")
    client.update_property("a.b", "2")
    assert client.get_property("a.b") == "2" and client.list_properties()["a.b"] == "2"
    client.delete_property("a.b")
    assert client.get_property("a.b") is None
    assert all(m in {"GET", "POST", "PUT", "DELETE"} for m, _ in fake.requests)


def test_wait_ready_polls_without_auth_until_ready(openfire):
    fake, server = openfire
    fake.ready = False
    threading.Timer(0.3, lambda: setattr(fake, "ready", True)).start()
    started = time.monotonic()
    RestApiClient(server.url, "wrong-secret-is-fine-here", timeout=2).wait_ready(timeout=5, interval=0.05)
    assert time.monotonic() - started >= 0.25


def test_wait_ready_gives_up_with_a_clear_error(openfire):
    fake, server = openfire
    fake.ready = False
    with pytest.raises(OpenfireError) as info:
        RestApiClient(server.url, "x", timeout=2).wait_ready(timeout=0.3, interval=0.05)
    assert "not ready within 0.3s (last answer HTTP 503)" in str(info.value)
    assert info.value.status == 503 and info.value.hint == STARTING_HINT


def test_wait_ready_says_the_plugin_has_not_loaded_when_the_console_answers(openfire):
    fake, server = openfire
    fake.phase = "console"
    with pytest.raises(OpenfireError) as info:
        RestApiClient(server.url, "x", timeout=2).wait_ready(timeout=0.3, interval=0.05)
    assert info.value.status == 302 and info.value.hint == NOT_LOADED_HINT
    assert "has not loaded yet" in NOT_LOADED_HINT and "allow-wildcards-in-excludes" in NOT_LOADED_HINT


def test_wait_ready_without_any_answer_says_nothing_listens():
    client = RestApiClient(f"http://127.0.0.1:{_closed_port()}", "x", timeout=1)
    with pytest.raises(OpenfireError) as info:
        client.wait_ready(timeout=0.3, interval=0.05)
    assert info.value.status is None and "(no answer)" in str(info.value)
    assert info.value.hint == NO_ANSWER_HINT


def test_wait_ready_follows_the_start_up_phases(openfire):
    fake, server = openfire
    fake.phase = "console"
    threading.Timer(0.2, lambda: setattr(fake, "phase", "starting")).start()
    threading.Timer(0.4, lambda: setattr(fake, "phase", "ready")).start()
    RestApiClient(server.url, "x", timeout=2).wait_ready(timeout=5, interval=0.05)
    readiness = [path for method, path in fake.requests if path == "/system/readiness"]
    assert len(readiness) >= 4


def test_user_methods_match_the_users_endpoints(openfire, restapi_secret, caplog):
    """create_user, list_users, set_password, delete_user: what `jitsictl users` is built on."""
    fake, server = openfire
    client = RestApiClient(server.url, restapi_secret, timeout=5)
    caplog.set_level("DEBUG")
    client.create_user("teacher1", "first-password", name="Ada Teacher", email="ada@example.org",
                       properties={"jitsictl.role": "teacher"})
    listed = {u["username"]: u for u in client.list_users()}
    assert listed["teacher1"] == {"username": "teacher1", "name": "Ada Teacher", "email": "ada@example.org",
                                  "properties": [{"key": "jitsictl.role", "value": "teacher"}]}
    assert [u["username"] for u in client.list_users(search="teach")] == ["teacher1"]
    client.set_password("teacher1", "second-password")
    assert fake.users["teacher1"]["password"] == "second-password"
    # the PUT replaces every property: set_password sends them back
    assert fake.users["teacher1"]["properties"] == {"jitsictl.role": "teacher"}
    assert fake.users["teacher1"]["name"] == "Ada Teacher"
    client.delete_user("teacher1")
    assert client.get_user("teacher1") is None
    with pytest.raises(NotFound):
        client.delete_user("teacher1")
    with pytest.raises(NotFound):
        client.set_password("teacher1", "third-password")
    for password in ("first-password", "second-password", "third-password"):
        assert password not in caplog.text


def test_admin_console_redirect_is_explained():
    class Redirect(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            self.send_response(302)
            self.send_header("Location", "/login.jsp?url=%2Fplugins%2Frestapi%2Fv1%2Fusers")
            self.send_header("Content-Length", "0")
            self.end_headers()

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        client = RestApiClient(f"http://127.0.0.1:{httpd.server_address[1]}", "s", timeout=2)
        with pytest.raises(OpenfireError) as info:
            client.list_users()
        assert info.value.status == 302
        assert "allow-wildcards-in-excludes" in info.value.hint
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_url_must_be_http():
    with pytest.raises(ValueError, match="http"):
        RestApiClient("openfire:9090", "s")
