"""Security headers on every answer, and who may read /metrics."""
from __future__ import annotations

import pytest

from attendance_logger import create_app
from logger_helpers import ADMIN_PASSWORD, WEBHOOK_SECRET, basic_auth

pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)

PAGES = [  # (path, logged in)
    ("/login", False), ("/", False), ("/", True), ("/meetings/nope", True), ("/v1/meetings", False),
    ("/v1/meetings", True), ("/v1/meetings/nope/attendance", True), ("/v1/meetings/nope/attendance.csv", True),
    ("/v1/courses/MATH101/attendance.csv", True), ("/healthz", False), ("/metrics", False), ("/no-such-page", False),
]


@pytest.mark.parametrize("path, logged_in", PAGES)
def test_every_answer_carries_the_security_headers(client, path, logged_in):
    response = client.get(path, headers=basic_auth() if logged_in else {})
    headers = response.headers
    policy = dict(part.strip().split(" ", 1) for part in headers["Content-Security-Policy"].split(";"))
    assert policy["default-src"] == "'none'"
    assert policy["script-src"] == "'self'"  # a same-origin script file may come later; never inline script
    assert policy["frame-ancestors"] == "'none'" and policy["form-action"] == "'self'"
    assert "unsafe-inline" not in policy["style-src"] and "unsafe" not in policy["script-src"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["Cache-Control"] == "no-store"


def test_the_stylesheet_may_be_cached(client):
    response = client.get("/static/style.css")
    assert response.status_code == 200
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "no-store" not in response.headers.get("Cache-Control", "")


def metrics_app(database_url, **config):
    return create_app({"DATABASE_URL": database_url, "WEBHOOK_SECRET": WEBHOOK_SECRET, "ADMIN_PASSWORD": ADMIN_PASSWORD,
                       "TESTING": True, "REFRESH_INTERVAL_SECONDS": 0, **config})


def test_metrics_answer_loopback_only_by_default(database_url):
    client = metrics_app(database_url).test_client()
    assert client.get("/metrics").status_code == 200  # 127.0.0.1: `docker compose exec logger` and the like
    for address in ("172.18.0.5", "10.0.0.8", "203.0.113.9", "::ffff:10.0.0.8"):
        refused = client.get("/metrics", environ_base={"REMOTE_ADDR": address})
        assert refused.status_code == 401, address
        assert "ATTENDANCE_METRICS_TOKEN" in refused.get_json()["message"]
        assert b"attendance_events_accepted_total" not in refused.data


def test_metrics_with_a_token(database_url):
    client = metrics_app(database_url, METRICS_TOKEN="t" * 32).test_client()
    outside = {"REMOTE_ADDR": "172.18.0.5"}
    ok = client.get("/metrics", headers={"Authorization": "Bearer " + "t" * 32}, environ_base=outside)
    assert ok.status_code == 200 and b"attendance_events_accepted_total" in ok.data
    for authorization in ("Bearer " + "t" * 31, "Basic " + "t" * 32, "Bearer", ""):
        refused = client.get("/metrics", headers={"Authorization": authorization}, environ_base=outside)
        assert refused.status_code == 401, authorization
        assert refused.headers["WWW-Authenticate"].startswith("Bearer")


def test_metrics_networks_are_configurable(database_url):
    client = metrics_app(database_url, METRICS_NETWORKS="172.16.0.0/12").test_client()
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "172.18.0.5"}).status_code == 200
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "127.0.0.1"}).status_code == 401


def test_metrics_through_the_proxy_count_the_forwarded_client(database_url):
    """Behind the web container the proxy is on the internal network; the visitor is not."""
    client = metrics_app(database_url, PROXY_HOPS=1, METRICS_NETWORKS="172.16.0.0/12").test_client()
    proxy = {"REMOTE_ADDR": "172.18.0.2"}
    assert client.get("/metrics", environ_base=proxy,
                      headers={"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Prefix": "/attendance"}).status_code == 401
    assert client.get("/metrics", environ_base=proxy).status_code == 200  # Prometheus on the network, no proxy


def test_a_short_metrics_token_stops_the_start(database_url):
    from attendance_logger.config import ConfigError

    with pytest.raises(ConfigError, match="ATTENDANCE_METRICS_TOKEN is too short"):
        metrics_app(database_url, METRICS_TOKEN="short")
