"""The rendered nginx snippet for `xmpp: openfire`, run in a real nginx (Debian nginx-light).

The web image cannot run here, so the server block around the snippet reproduces the published
structure of docker-jitsi-meet stable-11146-2's `web/rootfs/defaults/meet.conf`: the include of
`nginx-custom/*.conf` at server level, followed by the exact-match locations `= /http-bind` and
`= /xmpp-websocket` that proxy to Prosody, its tenant regex locations `~ ^/([^/?&:'"]+)/http-bind`
and `~ ^/([^/?&:'"]+)/xmpp-websocket` (also to Prosody), and the `$connection_upgrade` map of
its nginx.conf.
Two small HTTP servers stand in for Openfire's port 7070 and Prosody's 5280 and record what
reaches them.
"""
from __future__ import annotations

import http.client
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.support.nginx import Nginx, free_port

from .test_render_golden import render_variant

pytestmark = pytest.mark.slow  # real nginx


class Recorder(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self):
        self.requests: list[dict] = []
        super().__init__(("127.0.0.1", 0), _Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    def _record(self):
        length = int(self.headers.get("Content-Length") or 0)
        self.server.requests.append({"method": self.command, "path": self.path,
                                     "headers": {k.lower(): v for k, v in self.headers.items()},
                                     "body": self.rfile.read(length) if length else b""})
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    do_GET = do_POST = _record

    def log_message(self, *args):
        pass


@pytest.fixture
def web(tmp_path):
    openfire, prosody = Recorder(), Recorder()
    out = render_variant("openfire-none", tmp_path)
    snippet_dir = out / "config/web/nginx-custom"
    snippet = (snippet_dir / "jitsictl-openfire.conf").read_text()
    assert "http://openfire:7070/" in snippet
    (snippet_dir / "jitsictl-openfire.conf").write_text(snippet.replace("http://openfire:7070", openfire.base))
    port = free_port()
    nginx = Nginx(tmp_path / "nginx", port, f"""
        listen 127.0.0.1:{port};
        include {snippet_dir}/*.conf;
        location = /http-bind {{ proxy_pass {prosody.base}/http-bind?$args; }}
        location = /xmpp-websocket {{
            proxy_http_version 1.1;
            proxy_set_header Connection $connection_upgrade;
            proxy_set_header Upgrade $http_upgrade;
            proxy_pass {prosody.base}/xmpp-websocket?$args;
        }}
        location ~ ^/([^/?&:'"]+)/http-bind {{ proxy_pass {prosody.base}/http-bind?prefix=$1&$args; }}
        location ~ ^/([^/?&:'"]+)/xmpp-websocket {{
            proxy_http_version 1.1;
            proxy_set_header Connection $connection_upgrade;
            proxy_set_header Upgrade $http_upgrade;
            proxy_pass {prosody.base}/xmpp-websocket?prefix=$1&$args;
        }}
        location / {{ return 200 "web"; }}
""", http_extra="map $http_upgrade $connection_upgrade { default upgrade; '' close; }").start()
    yield port, openfire, prosody
    nginx.stop()
    openfire.shutdown()
    prosody.shutdown()


def request(port, method, path, body=None, headers=None, *, with_body=False):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request(method, path, body=body, headers=headers or {})
    response = conn.getresponse()
    payload = response.read()
    conn.close()
    return (response.status, payload.decode()) if with_body else response.status


def test_bosh_goes_to_openfire_http_bind(web):
    port, openfire, prosody = web
    status = request(port, "POST", "/http-bind?room=maths-3b&token=abc", body=b"<body rid='1'/>",
                     headers={"Content-Type": "text/xml"})
    assert status == 200
    assert prosody.requests == []
    [seen] = openfire.requests
    assert (seen["method"], seen["path"], seen["body"]) == ("POST", "/http-bind/?room=maths-3b&token=abc", b"<body rid='1'/>")
    assert seen["headers"]["host"] == "meet.jitsi"


def test_websocket_upgrade_goes_to_openfire_ws(web):
    port, openfire, prosody = web
    status = request(port, "GET", "/xmpp-websocket?room=maths-3b", headers={
        "Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Protocol": "xmpp"})
    assert status == 200
    assert prosody.requests == []
    [seen] = openfire.requests
    assert seen["path"] == "/ws/?room=maths-3b"
    assert seen["headers"]["upgrade"] == "websocket" and seen["headers"]["connection"] == "upgrade"
    assert seen["headers"]["sec-websocket-protocol"] == "xmpp"


def test_internal_locations_are_not_reachable_directly(web):
    port, openfire, _ = web
    assert request(port, "GET", "/_openfire/ws/") == 404
    assert request(port, "GET", "/_openfire/http-bind/") == 404
    assert request(port, "GET", "/maths-3b") == 200  # everything else still served by web
    assert openfire.requests == []


def test_tenant_paths_are_refused_with_a_note_not_sent_to_prosody(web):
    """Openfire has no per-tenant MUC domains: /<tenant>/... would put two schools' rooms of the
    same name together, so those URLs are refused, saying why, instead of reaching Prosody's
    (absent) service or Openfire."""
    port, openfire, prosody = web
    status, text = request(port, "POST", "/school-a/http-bind?room=maths", body=b"<body rid='1'/>",
                           headers={"Content-Type": "text/xml"}, with_body=True)
    assert status == 404 and "tenant paths are not supported with xmpp: openfire" in text
    assert "open the room at /<room>, without a tenant path" in text
    assert request(port, "GET", "/school-a/xmpp-websocket?room=maths", headers={
        "Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Protocol": "xmpp"}) == 404
    assert openfire.requests == [] and prosody.requests == []
    assert request(port, "POST", "/http-bind", body=b"<body/>") == 200  # the plain path still works
