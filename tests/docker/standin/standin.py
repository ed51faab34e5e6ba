"""Test stand-in for one service of a Jitsi stack: serves the role's health endpoint(s) only.

Role from $STANDIN_ROLE; listening addresses, ports and paths from $STANDIN_LISTEN
("[address:]port:/path,...") or the role's defaults, which mirror where the real services listen
(docker-jitsi-meet stable-11146-2 and the attendance receiver):

- web: nginx on all interfaces, 8000 and 8443 (web/rootfs/defaults/default);
- prosody: HTTP on all interfaces, 5280 (prosody/rootfs/defaults/prosody.cfg.lua
  `http_interfaces = { "*" }`), c2s 5222;
- jicofo: REST on 127.0.0.1:8888 ONLY (jicofo reference.conf `rest.host = "127.0.0.1"`;
  jicofo/rootfs/defaults/jicofo.conf binds 0.0.0.0 only with JICOFO_ENABLE_REST), so a health
  probe from outside the container is refused here as it is on the real image;
- jvb: 0.0.0.0:8080 (jvb/rootfs/defaults/jvb.conf `http-servers.private.host = 0.0.0.0`);
- logger: 0.0.0.0:8080 (compose/logger/Dockerfile ATTENDANCE_HOST).

Creating /tmp/standin-unhealthy makes the health paths answer 503, so tests can check that a
failing probe is reported. Every request is logged to stdout.
"""
import http.server
import os
import signal
import socket
import sys
import threading

ROLES = {
    "web": "8000:/,8443:/",
    "prosody": "5280:/health,5222:/",
    "jicofo": "127.0.0.1:8888:/about/health",
    "jvb": "8080:/about/health",
    "logger": "8080:/healthz",
}
UNHEALTHY_FLAG = "/tmp/standin-unhealthy"
ROLE = os.environ.get("STANDIN_ROLE", "web")


class Handler(http.server.BaseHTTPRequestHandler):
    paths = ()

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        if path not in self.paths:
            status, body = 404, b"not found\n"
        elif os.path.exists(UNHEALTHY_FLAG):
            status, body = 503, b"unhealthy (stand-in flag set)\n"
        else:
            status, body = 200, f"ok: jitsictl test stand-in for {ROLE}\n".encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt, *args):
        print(f"{ROLE} stand-in: {self.address_string()} {fmt % args}", flush=True)


def serve(address, port, paths):
    handler = type("RoleHandler", (Handler,), {"paths": tuple(paths)})
    server = http.server.ThreadingHTTPServer((address, port), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()


def prosody_admin_socket():
    """What prosodyctl needs of a running Prosody (see prosodyctl.py): the configuration the
    image's start script writes to /run, and the admin socket in the data directory."""
    os.makedirs("/run/prosody/config", exist_ok=True)
    with open("/run/prosody/config/prosody.cfg.lua", "w") as handle:
        handle.write("-- jitsictl test stand-in: not a Prosody configuration\n")
    os.makedirs("/var/lib/prosody/data", exist_ok=True)
    path = "/var/lib/prosody/data/prosody.sock"
    if os.path.exists(path):
        os.remove(path)  # left by a killed process, as Prosody replaces it
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(path)
    listener.listen()

    def accept():
        while True:
            connection, _ = listener.accept()
            connection.close()

    threading.Thread(target=accept, daemon=True).start()


def main():
    if ROLE == "prosody":
        prosody_admin_socket()
    listen = os.environ.get("STANDIN_LISTEN") or ROLES[ROLE]
    by_socket = {}
    for item in listen.split(","):
        where, _, path = item.rpartition(":")
        address, _, port = where.rpartition(":")
        by_socket.setdefault((address or "0.0.0.0", int(port)), []).append(path)
    for (address, port), paths in by_socket.items():
        serve(address, port, paths)
    print(f"jitsictl test stand-in for {ROLE}: listening on {listen}", flush=True)
    # As PID 1 a process gets no default SIGTERM action: without a handler `docker stop` waits
    # its full timeout before killing.
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    signal.signal(signal.SIGINT, lambda *_: stopped.set())
    stopped.wait()
    print(f"{ROLE} stand-in: stopping", flush=True)
    sys.exit(0)


if __name__ == "__main__":
    main()
