"""Logging in to the dashboard: server-side sessions, their lifetime, throttling, safe redirects."""
from __future__ import annotations

import hashlib
import hmac
import re
import subprocess
from urllib.parse import urlsplit

import pytest
from flask.sessions import SecureCookieSessionInterface

from attendance_logger import create_app
from attendance_logger.config import ConfigError, decode_webhook_secret
from logger_helpers import ADMIN_PASSWORD, CLI, WEBHOOK_SECRET, basic_auth, free_port, server_env

TEACHER_PASSWORD = "a long teacher password"


class Clock:
    """What "now" is for sessions and throttling (the app reads config["CLOCK"])."""

    def __init__(self):
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock(app):
    app.config["CLOCK"] = clock = Clock()
    return clock


def log_in(client, user="admin", password=ADMIN_PASSWORD, **kwargs):
    return client.post("/login", data={"user": user, "password": password}, **kwargs)


def session_cookie(response) -> str:
    [header] = [h for h in response.headers.getlist("Set-Cookie") if h.startswith("attendance_session=")]
    return header


def cookie_value(response) -> str:
    return session_cookie(response).split(";", 1)[0].split("=", 1)[1]


def dashboard_with(app, cookie: str):
    """The dashboard's front page asked by a browser that holds only `cookie`."""
    other = app.test_client()
    other.set_cookie("attendance_session", cookie)
    return other.get("/")


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_cookie_forged_with_the_webhook_secret_is_refused(app, client):
    """Every Jitsi host holds the webhook secret: it must not let them mint a dashboard session."""
    derived = hmac.new(decode_webhook_secret(WEBHOOK_SECRET), b"attendance-logger session cookies",
                       hashlib.sha256).digest()

    class Forger(SecureCookieSessionInterface):
        def forge(self):
            app.secret_key = derived
            return self.get_signing_serializer(app).dumps({"user": "admin"})

    forged = Forger().forge()
    client.set_cookie("session", forged)
    client.set_cookie("attendance_session", forged)
    response = client.get("/")
    assert response.status_code == 302 and urlsplit(response.location).path == "/login"


def test_logout_ends_the_session_on_the_server(app, client):
    response = log_in(client)
    assert response.status_code == 302
    copied = cookie_value(response)
    assert dashboard_with(app, copied).status_code == 200
    client.post("/logout")
    assert dashboard_with(app, copied).status_code == 302  # a copy of the cookie is worth nothing now


def test_a_password_change_ends_every_session_of_that_account(app, client):
    accounts = app.extensions["accounts"]
    accounts.add("ms.dupont", TEACHER_PASSWORD, role="teacher", courses=["MATH101"])
    teacher = cookie_value(log_in(client, "ms.dupont", TEACHER_PASSWORD))
    admin = cookie_value(log_in(app.test_client()))
    accounts.set_password("ms.dupont", TEACHER_PASSWORD + " changed")
    assert dashboard_with(app, teacher).status_code == 302
    assert dashboard_with(app, admin).status_code == 200  # other accounts keep theirs
    assert log_in(app.test_client(), "ms.dupont", TEACHER_PASSWORD).status_code == 401


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_new_admin_password_at_start_up_ends_the_old_sessions(app, database_url):
    old = cookie_value(log_in(app.test_client()))
    assert dashboard_with(app, old).status_code == 200
    restarted = create_app({"DATABASE_URL": database_url, "WEBHOOK_SECRET": WEBHOOK_SECRET, "TESTING": True,
                            "ADMIN_PASSWORD": "a brand new admin password", "REFRESH_INTERVAL_SECONDS": 0})
    assert dashboard_with(restarted, old).status_code == 302
    assert log_in(restarted.test_client(), password=ADMIN_PASSWORD).status_code == 401
    assert log_in(restarted.test_client(), password="a brand new admin password").status_code == 302
    # The same password again is no change: sessions made since survive the next start.
    kept = cookie_value(log_in(restarted.test_client(), password="a brand new admin password"))
    again = create_app({"DATABASE_URL": database_url, "WEBHOOK_SECRET": WEBHOOK_SECRET, "TESTING": True,
                        "ADMIN_PASSWORD": "a brand new admin password", "REFRESH_INTERVAL_SECONDS": 0})
    assert dashboard_with(again, kept).status_code == 200


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_the_session_cookie_is_httponly_lax_short_lived_and_secure_over_https(client):
    plain = session_cookie(log_in(client))
    assert "HttpOnly" in plain and "SameSite=Lax" in plain and "Path=/" in plain
    assert "Secure" not in plain  # plain http (the admin's 127.0.0.1 port): a Secure cookie would never come back
    assert int(re.search(r"Max-Age=(\d+)", plain).group(1)) == 12 * 3600
    secure = session_cookie(log_in(client, base_url="https://attendance.example"))
    assert "; Secure" in secure


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_session_ends_after_12_hours_or_2_idle_hours(app, client, clock):
    cookie = cookie_value(log_in(client))
    for _ in range(23):  # used every half hour: alive until the 12th hour
        clock.advance(1800)
        assert dashboard_with(app, cookie).status_code == 200
    clock.advance(1801)
    assert dashboard_with(app, cookie).status_code == 302

    cookie = cookie_value(log_in(client))
    clock.advance(2 * 3600 - 60)
    assert dashboard_with(app, cookie).status_code == 200
    clock.advance(2 * 3600 + 1)
    assert dashboard_with(app, cookie).status_code == 302


def test_wrong_passwords_are_throttled_per_account(app, clock):
    for attempt in range(5):
        address = f"198.51.100.{attempt}"  # a different address each time: the account counts
        response = log_in(app.test_client(), password="wrong guess", environ_base={"REMOTE_ADDR": address})
        assert response.status_code == 401, attempt
    refused = log_in(app.test_client(), environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert refused.status_code == 429
    retry_after = int(refused.headers["Retry-After"])
    assert 0 < retry_after <= 15 * 60
    assert "Too many failed logins" in refused.get_data(as_text=True)
    api = app.test_client().get("/v1/meetings", headers=basic_auth(), environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert api.status_code == 429 and api.headers["Retry-After"]
    assert "too many failed logins" in api.get_json()["message"]
    clock.advance(retry_after)
    assert log_in(app.test_client(), environ_base={"REMOTE_ADDR": "203.0.113.9"}).status_code == 302


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_wrong_passwords_are_throttled_per_client_address(app, clock):
    attacker = {"REMOTE_ADDR": "198.51.100.7"}
    for attempt in range(20):  # a different account name each time: the address counts
        response = log_in(app.test_client(), user=f"guess{attempt}", password="wrong guess", environ_base=attacker)
        assert response.status_code == 401, attempt
        clock.advance(1)
    assert log_in(app.test_client(), environ_base=attacker).status_code == 429
    assert app.test_client().get("/v1/meetings", headers=basic_auth("wrong"), environ_base=attacker).status_code == 429
    assert log_in(app.test_client(), environ_base={"REMOTE_ADDR": "198.51.100.8"}).status_code == 302


@pytest.mark.parametrize("password", ["x", "eleven char"])
def test_a_short_admin_password_stops_the_start(tmp_path, password):
    with pytest.raises(ConfigError, match=r"ATTENDANCE_ADMIN_PASSWORD is too short .* at least 12 characters"):
        create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'a.db'}", "WEBHOOK_SECRET": WEBHOOK_SECRET,
                    "ADMIN_PASSWORD": password})


@pytest.mark.parametrize("variable, value, complaint", [
    ("ATTENDANCE_ADMIN_PASSWORD", "pw-x7", "ATTENDANCE_ADMIN_PASSWORD is too short (5 characters): use at least 12"),
    ("ATTENDANCE_SESSION_HOURS", "0", "ATTENDANCE_SESSION_HOURS must be at least 1 (hours)"),
    ("ATTENDANCE_SESSION_IDLE_MINUTES", "soon", "ATTENDANCE_SESSION_IDLE_MINUTES must be a whole number"),
    ("ATTENDANCE_PROXY_HOPS", "-1", "ATTENDANCE_PROXY_HOPS must be 0 (no proxy) or the number of proxies"),
    ("ATTENDANCE_METRICS_TOKEN", "tok-q9z", "ATTENDANCE_METRICS_TOKEN is too short (7 characters)"),
    ("ATTENDANCE_METRICS_NETWORKS", "10.0.0.0/33", "ATTENDANCE_METRICS_NETWORKS: '10.0.0.0/33' does not appear to be"),
])
def test_serve_explains_a_bad_security_setting(tmp_path, variable, value, complaint):
    result = subprocess.run([CLI, "serve", "--dev", "--port", str(free_port())], env=server_env(tmp_path, **{variable: value}),
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert complaint in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    if variable in ("ATTENDANCE_ADMIN_PASSWORD", "ATTENDANCE_METRICS_TOKEN"):
        assert value not in result.stderr  # a secret, even a bad one, is never shown


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
@pytest.mark.parametrize("target", ["/%09/evil.example", "//evil.example", "/\\evil.example", "https://evil.example/",
                                    "/%0d%0a/evil.example", "\\\\evil.example", "/%20/evil.example", "javascript:alert(1)",
                                    "evil.example"])
def test_no_redirect_to_another_site_after_login(client, target):
    response = client.post(f"/login?next={target}", data={"user": "admin", "password": ADMIN_PASSWORD})
    assert response.status_code == 302
    assert response.location == "/"


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_login_returns_to_the_page_asked_for(client):
    asked = client.get("/meetings/abc?x=1")
    assert asked.status_code == 302
    login_page = client.get(asked.location)
    assert login_page.status_code == 200
    response = client.post(asked.location, data={"user": "admin", "password": ADMIN_PASSWORD})
    assert response.location == "/meetings/abc?x=1"


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_forms_posted_from_another_site_are_refused(client):
    """SameSite=Lax keeps the cookie off a cross-site POST; Origin also stops a forced login."""
    refused = log_in(client, headers={"Origin": "https://evil.example"})
    assert refused.status_code == 403 and "another site" in refused.get_data(as_text=True)
    assert "Set-Cookie" not in refused.headers
    assert log_in(client, headers={"Origin": "null"}).status_code == 403
    assert log_in(client, headers={"Origin": "http://localhost"}).status_code == 302
