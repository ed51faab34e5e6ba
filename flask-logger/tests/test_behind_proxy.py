"""The dashboard under the site's HTTPS at /attendance/, through a real nginx in front of `serve`.

The server block stands in for the web container's: docker-jitsi-meet's nginx terminates TLS and
includes the locations jitsictl renders into `nginx-custom/` (the real template, here), which
proxy `/attendance/` to the logger service with the prefix stripped; here TLS uses a throwaway
certificate and the logger is `attendance-logger serve` on loopback with ATTENDANCE_PROXY_HOPS=1. Ingest and metrics are for
the compose network only: the proxy answers 404 for them.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
import ssl
from http.client import HTTPResponse, HTTPSConnection

import pytest

from logger_helpers import ADMIN_PASSWORD, RunningServer, basic_auth, http
from tests.support import vectors
from tests.support.nginx import Nginx, free_port, self_signed_certificate

pytestmark = pytest.mark.slow  # real nginx in front of the receiver under gunicorn

BASE = dt.datetime.now(dt.timezone.utc).replace(microsecond=0) - dt.timedelta(hours=5)


def attendance_locations(logger: str) -> str:
    """The locations jitsictl renders for the web container (templates/web/attendance.conf.j2),
    pointed at `logger` instead of the compose service `logger:8080`."""
    from jitsictl import render

    snippet = render._environment().get_template("web/attendance.conf.j2").render(
        logger_url=logger, attendance_path=render.ATTENDANCE_PATH)
    assert snippet.count(logger) == 1
    return snippet


@pytest.fixture
def site(tmp_path):
    """(https base URL of the site, the logger behind it)."""
    logger = RunningServer("gunicorn-default", tmp_path, ATTENDANCE_PROXY_HOPS="1")
    for name in ("14-statuses", "12-breakout-room"):
        status, body = logger.post_events({"events": vectors.load(vectors.VECTORS_DIR / f"{name}.json").materialize(BASE)})
        assert status == 200, body
    cert, key = self_signed_certificate(tmp_path)
    port = free_port()
    nginx = Nginx(tmp_path / "nginx", port, f"""
        listen 127.0.0.1:{port} ssl;
        ssl_certificate {cert};
        ssl_certificate_key {key};
        {attendance_locations(logger.url)}
        location / {{ return 200 "jitsi meet"; }}
""")
    nginx.start()
    yield f"https://127.0.0.1:{port}", logger
    nginx.stop()
    logger.stop()


def request(base: str, method: str, path: str, *, body: bytes | None = None, headers: dict | None = None,
            source: str = "127.0.0.1") -> HTTPResponse:
    """One HTTPS request to the site from the loopback address `source`."""
    host, port = base.removeprefix("https://").split(":")
    connection = HTTPSConnection(host, int(port), timeout=30, source_address=(source, 0),
                                             context=ssl._create_unverified_context())
    connection.request(method, path, body=body, headers=headers or {})
    response = connection.getresponse()
    response.body = response.read()
    connection.close()
    return response


def test_ingest_and_metrics_are_not_served_through_the_site(site):
    base, logger = site
    for path in ("/attendance/v1/events", "/attendance//v1/events", "/attendance/v1/events/", "/attendance/metrics",
                 "/attendance/%6detrics", "/attendance/metrics?x=1"):
        answer = request(base, "POST" if "events" in path else "GET", path, body=b"{}" if "events" in path else None,
                         headers={"Content-Type": "application/json"})
        assert answer.status == 404, path
        assert b"attendance_" not in answer.body
    assert http(logger.url + "/metrics")[0] == 200  # still there for the compose network's loopback


def test_links_redirects_and_cookies_carry_the_prefix(site):
    base, _ = site
    assert request(base, "GET", "/attendance").getheader("Location") == "/attendance/"
    asked = request(base, "GET", "/attendance/")
    assert asked.status == 302 and asked.getheader("Location") == "/attendance/login?next=/"
    page = request(base, "GET", "/attendance/login?next=/").body.decode()
    assert 'href="/attendance/static/style.css"' in page
    logged_in = request(base, "POST", "/attendance/login?next=/",
                        body=f"user=admin&password={ADMIN_PASSWORD}".encode(),
                        headers={"Content-Type": "application/x-www-form-urlencoded", "Origin": base})
    assert logged_in.status == 302 and logged_in.getheader("Location") == "/attendance/"
    cookie = logged_in.getheader("Set-Cookie")
    assert "Path=/attendance" in cookie and "; Secure" in cookie and "HttpOnly" in cookie
    front = request(base, "GET", "/attendance/", headers={"Cookie": cookie.split(";", 1)[0]}).body.decode()
    assert 'action="/attendance/logout"' in front and 'href="/attendance/meetings/' in front


def test_throttling_and_logs_see_the_visitor_not_the_proxy(site):
    base, logger = site
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    for attempt in range(20):  # what a visitor writes in X-Forwarded-For changes nothing
        answer = request(base, "POST", "/attendance/login", body=f"user=guess{attempt}&password=wrong".encode(),
                         headers={**form, "X-Forwarded-For": f"192.0.2.{attempt}"}, source="127.0.0.2")
        assert answer.status == 401
    body = f"user=admin&password={ADMIN_PASSWORD}".encode()
    assert request(base, "POST", "/attendance/login", body=body, headers=form, source="127.0.0.2").status == 429
    assert request(base, "POST", "/attendance/login", body=body, headers=form, source="127.0.0.3").status == 302
    logs = logger.logs()
    assert "failed dashboard login from 127.0.0.2" in logs
    assert "from 192.0.2." not in logs and "failed dashboard login from 127.0.0.1" not in logs


def test_a_teacher_uses_the_dashboard_through_the_site(site, browser, tmp_path, artifacts):
    base, logger = site
    page = browser.new_page(accept_downloads=True, ignore_https_errors=True, viewport={"width": 1200, "height": 800})
    blocked = []
    page.on("console", lambda message: blocked.append(message.text) if "Content Security Policy" in message.text else None)
    page.goto(base + "/attendance/")
    assert page.url == base + "/attendance/login?next=/"
    page.fill("input[name=user]", "admin")
    page.fill("input[name=password]", ADMIN_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("table.meetings")
    assert page.url == base + "/attendance/"
    assert page.evaluate("getComputedStyle(document.querySelector('header')).display") == "flex"  # the stylesheet came

    _, listing = http(logger.url + "/v1/meetings", headers=basic_auth())
    meeting = next(m for m in json.loads(listing)["meetings"] if m["participants"] == 4)
    page.click(f"a[href='/attendance/meetings/{meeting['id']}']")
    page.wait_for_selector(".timeline .lane")
    assert page.url == f"{base}/attendance/meetings/{meeting['id']}"
    widths = page.eval_on_selector_all(".timeline .bar", "bars => bars.map(b => b.getBoundingClientRect().width)")
    assert widths and all(w > 0 for w in widths)  # placed by style attributes the policy allows
    page.screenshot(path=str(artifacts / "dashboard-behind-proxy.png"), full_page=True)

    with page.expect_download() as download_info:
        page.click("#csv")
    saved = tmp_path / download_info.value.suggested_filename
    download_info.value.save_as(saved)
    rows = list(csv.DictReader(io.StringIO(saved.read_bytes().decode("utf-8-sig"), newline="")))
    assert len(rows) == 4

    cookie = next(c for c in page.context.cookies() if c["name"] == "attendance_session")
    assert cookie["secure"] and cookie["httpOnly"] and cookie["path"] == "/attendance" and cookie["sameSite"] == "Lax"
    page.click("text=Log out")
    page.wait_for_selector("input[name=password]")
    assert page.url == base + "/attendance/login"
    page.goto(base + "/attendance/")
    assert page.url.startswith(base + "/attendance/login")
    assert blocked == []
