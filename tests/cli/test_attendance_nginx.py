"""Teachers reach attendance at https://<site>/attendance/: the rendered nginx snippet run in a real
nginx (Debian's nginx-light) in a server block laid out like docker-jitsi-meet stable-11146-2's.

The web image cannot run here, so around the snippet stand the parts of its configuration that
decide where a request goes: `web/rootfs/defaults/default` (an HTTP server on 8000 and a TLS one
on 8443, both including meet.conf), `meet.conf` (nginx-custom/*.conf included at server level,
then its regex locations: one-segment paths are rooms, and with ENABLE_SUBDOMAINS (default on)
`/<tenant>/<path>` is rewritten to `/<path>`) and `nginx.conf`'s `resolver` (NGINX_RESOLVER, from
the container's resolv.conf). A recording HTTP server stands in for the receiver (`logger:8080`).
"""
from __future__ import annotations

import http.client
import signal
import socket
import ssl
import subprocess
import threading
import time
from pathlib import Path

import pytest

from jitsictl import render as render_mod

from tests.support import real_components
from tests.support.nginx import NGINX, free_port

from .test_openfire_nginx import Recorder
from .test_render_golden import render_variant

pytestmark = pytest.mark.slow  # real nginx

SNIPPET = "config/web/nginx-custom/jitsictl-attendance.conf"


class Web:
    """nginx with the rendered snippet, an HTTP and an HTTPS server."""

    def __init__(self, run: Path, snippet_dir: Path, resolver: str):
        self.run = run
        run.mkdir()
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                        "-subj", "/CN=localhost", "-keyout", str(run / "key.pem"),
                        "-out", str(run / "cert.pem")], check=True, capture_output=True)
        for _ in range(3):  # a free port may be taken by someone else before nginx binds it
            if self._start(snippet_dir, resolver):
                return
        raise AssertionError(f"nginx did not start: {self.process.stderr.read().decode()}")

    def _start(self, snippet_dir: Path, resolver: str) -> bool:
        run = self.run
        self.http, self.https = free_port(), free_port()
        meet = f"""
            include {snippet_dir}/*.conf;
            location ~ ^/(libs|css|static|images|fonts|lang|sounds)/(.*)$ {{ return 200 "web: $1/$2"; }}
            location ~ ^/([^/?&:'"]+)$ {{ try_files $uri @root_path; }}
            location @root_path {{ return 200 "web: index.html"; }}
            location ~ ^/([^/?&:'"]+)/(.*)$ {{ rewrite ^/([^/?&:'"]+)/(.*)$ /$2; }}
            location / {{ return 200 "web: $uri"; }}
        """
        (run / "nginx.conf").write_text(f"""
worker_processes 1;
error_log {run}/error.log;
pid {run}/nginx.pid;
events {{ worker_connections 64; }}
http {{
    access_log off;
    resolver {resolver};
    client_body_temp_path {run}/body; proxy_temp_path {run}/proxy;
    fastcgi_temp_path {run}/fastcgi; uwsgi_temp_path {run}/uwsgi; scgi_temp_path {run}/scgi;
    server {{ listen 127.0.0.1:{self.http}; {meet} }}
    server {{
        listen 127.0.0.1:{self.https} ssl;
        ssl_certificate {run}/cert.pem; ssl_certificate_key {run}/key.pem;
        {meet}
    }}
}}
""")
        check = subprocess.run([NGINX, "-t", "-p", str(run), "-c", str(run / "nginx.conf")],
                               capture_output=True, text=True)
        assert check.returncode == 0, check.stderr
        real_components.starting("nginx")
        self.process = subprocess.Popen([NGINX, "-p", str(run), "-c", str(run / "nginx.conf"),
                                         "-g", "daemon off;"], stderr=subprocess.PIPE)
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.https), timeout=0.2).close()
                return True
            except OSError:
                if self.process.poll() is not None:
                    return False
                assert time.monotonic() < deadline, "nginx did not start within 30 s"
                time.sleep(0.05)

    def request(self, method: str, path: str, *, tls: bool = True, headers: dict | None = None,
                body: bytes | None = None) -> http.client.HTTPResponse:
        if tls:
            connection = http.client.HTTPSConnection(
                "127.0.0.1", self.https, timeout=10, context=ssl._create_unverified_context())
        else:
            connection = http.client.HTTPConnection("127.0.0.1", self.http, timeout=10)
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        response.body = response.read()
        connection.close()
        return response

    def stop(self) -> None:
        self.process.send_signal(signal.SIGQUIT)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


@pytest.fixture
def site(tmp_path):
    if not Path(NGINX).exists():
        pytest.skip("nginx is not installed (scripts/install-system-deps installs nginx-light)")
    receiver = Recorder()  # records what reaches the receiver, answers "ok"
    out = render_variant("prosody-none", tmp_path)
    snippet = out / SNIPPET
    text = snippet.read_text()
    assert text.count(render_mod.LOGGER_URL) == 1
    snippet.write_text(text.replace(render_mod.LOGGER_URL, receiver.base))
    web = Web(tmp_path / "nginx", snippet.parent, resolver="127.0.0.1")
    yield web, receiver
    web.stop()
    receiver.shutdown()


def test_the_dashboard_is_served_under_attendance_with_the_prefix_stripped(site):
    web, receiver = site
    answer = web.request("GET", "/attendance/", headers={"Host": "meet.example.org:8443"})
    assert (answer.status, answer.body) == (200, b"ok")
    [seen] = receiver.requests
    assert seen["path"] == "/"
    assert seen["headers"]["x-forwarded-prefix"] == "/attendance"
    assert seen["headers"]["x-forwarded-proto"] == "https"
    assert seen["headers"]["x-forwarded-host"] == "meet.example.org:8443"
    assert seen["headers"]["x-forwarded-for"] == "127.0.0.1"
    assert seen["headers"]["host"] == "meet.example.org:8443"


def test_the_read_api_keeps_its_path_and_query(site):
    web, receiver = site
    for path, upstream in (("/attendance/v1/meetings?room=maths-3b&from=2026-09-01", "/v1/meetings?room=maths-3b&from=2026-09-01"),
                           ("/attendance/v1/meetings/m%2F1/attendance.csv", "/v1/meetings/m%2F1/attendance.csv"),
                           ("/attendance/meetings/abc", "/meetings/abc"),
                           ("/attendance/login?next=%2F", "/login?next=%2F")):
        assert web.request("GET", path).status == 200, path
        assert receiver.requests[-1]["path"] == upstream
    login = web.request("POST", "/attendance/login", body=b"password=x",
                        headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert login.status == 200 and receiver.requests[-1]["body"] == b"password=x"


def test_over_plain_http_the_receiver_is_told_so(site):
    web, receiver = site
    assert web.request("GET", "/attendance/", tls=False).status == 200
    assert receiver.requests[-1]["headers"]["x-forwarded-proto"] == "http"


def test_what_a_client_claims_in_forwarded_headers_is_replaced(site):
    web, receiver = site
    web.request("GET", "/attendance/", headers={"X-Forwarded-For": "203.0.113.9",
                                                "X-Forwarded-Prefix": "/elsewhere",
                                                "X-Forwarded-Proto": "gopher"})
    headers = receiver.requests[-1]["headers"]
    assert (headers["x-forwarded-for"], headers["x-forwarded-prefix"], headers["x-forwarded-proto"]) \
        == ("127.0.0.1", "/attendance", "https")


def test_attendance_without_the_slash_redirects_to_the_dashboard(site):
    web, receiver = site
    answer = web.request("GET", "/attendance")
    assert answer.status == 301 and answer.getheader("Location") == "/attendance/"
    assert receiver.requests == []


@pytest.mark.parametrize("path", [
    "/attendance/v1/events", "/attendance/v1/events/", "/attendance//v1/events",
    "/attendance/v1/%65vents", "/attendance/x/../v1/events", "/attendance/./v1/events?x=1",
    "/attendance/v1/meetings/..%2Fevents", "/attendance/metrics", "/attendance/metrics/",
    "/attendance/%6detrics",
])
def test_ingest_and_metrics_are_never_reachable_from_outside(site, path):
    web, receiver = site
    for method, tls in (("POST", True), ("GET", True), ("POST", False)):
        answer = web.request(method, path, tls=tls, body=b'{"events": []}' if method == "POST" else None,
                             headers={"Content-Type": "application/json"})
        assert answer.status == 404, (method, path)
    assert receiver.requests == []


def test_rooms_and_the_rest_of_the_site_stay_with_jitsi(site):
    web, receiver = site
    assert web.request("GET", "/maths-3b").body == b"web: index.html"
    assert web.request("GET", "/attendancesheet").body == b"web: index.html"
    assert web.request("GET", "/libs/app.bundle.min.js").body == b"web: libs/app.bundle.min.js"
    assert web.request("GET", "/school/maths-3b").body == b"web: index.html"  # a tenant's room
    assert receiver.requests == []


class NoSuchName:
    """A DNS server that knows no name, as Docker's embedded one when the logger container does
    not exist: every query is answered NXDOMAIN."""

    def __init__(self) -> None:
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.socket.bind(("127.0.0.1", 0))
        self.port = self.socket.getsockname()[1]
        self.asked: list[bytes] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                query, peer = self.socket.recvfrom(512)
            except OSError:
                return
            self.asked.append(query)
            # Same id and question; flags: a response, recursion available, rcode 3 (NXDOMAIN).
            self.socket.sendto(query[:2] + b"\x81\x83" + query[4:6] + b"\x00\x00" * 3 + query[12:], peer)

    def close(self) -> None:
        self.socket.close()


def test_nginx_starts_before_the_receiver_exists_and_answers_502_until_it_does(tmp_path):
    """The rendered snippet as is (`logger:8080`), with a resolver that does not know the name:
    nginx still starts (a static proxy_pass to an unknown host would stop the whole web
    container), resolves per request, and the dashboard answers 502."""
    if not Path(NGINX).exists():
        pytest.skip("nginx is not installed (scripts/install-system-deps installs nginx-light)")
    out = render_variant("prosody-none", tmp_path)
    dns = NoSuchName()
    web = Web(tmp_path / "nginx", (out / SNIPPET).parent, resolver=f"127.0.0.1:{dns.port} valid=1s")
    try:
        assert web.request("GET", "/attendance/").status == 502
        assert any(b"\x06logger" in query for query in dns.asked)  # asked when the request came
        assert web.request("GET", "/maths-3b").status == 200
    finally:
        web.stop()
        dns.close()


def test_an_odd_spelling_of_the_prefix_is_refused_not_guessed_at(site):
    web, receiver = site
    for path in ("/attendanc%65/", "//attendance/", "/./attendance/v1/meetings"):
        assert web.request("GET", path).status == 404, path
    assert receiver.requests == []
