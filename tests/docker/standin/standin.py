"""Test stand-in for one service of a Jitsi stack: serves the role's health endpoint(s) only.

Role from $STANDIN_ROLE; listening ports and paths from $STANDIN_LISTEN ("port:/path,...") or the
role's defaults, which mirror the real services' ports (docker-jitsi-meet stable-11146-2, the
attendance receiver). Creating /tmp/standin-unhealthy makes the health paths answer 503, so tests
can check that a failing probe is reported. Every request is logged to stdout.
"""
import http.server
import os
import signal
import sys
import threading

ROLES = {
    "web": "8000:/,8443:/",
    "prosody": "5280:/health,5222:/",
    "jicofo": "8888:/about/health",
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


def serve(port, paths):
    handler = type("RoleHandler", (Handler,), {"paths": tuple(paths)})
    server = http.server.ThreadingHTTPServer(("0.0.0.0", port), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()


def main():
    listen = os.environ.get("STANDIN_LISTEN") or ROLES[ROLE]
    by_port = {}
    for item in listen.split(","):
        port, path = item.split(":", 1)
        by_port.setdefault(int(port), []).append(path)
    for port, paths in by_port.items():
        serve(port, paths)
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
