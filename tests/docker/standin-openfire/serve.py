"""Test stand-in for Openfire: the REST API contract fake on 0.0.0.0:9090, booted like Openfire's
first boot from the seed openfire.xml jitsictl renders and compose mounts at
/opt/jitsictl/openfire.xml (compose/openfire's entrypoint copies it into Openfire's home)."""
import signal
import sys
import threading
import time
from http.server import ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, "/opt/standin")
from fake_restapi import FakeOpenfire, _Handler  # noqa: E402

CONFIG = Path("/opt/jitsictl/openfire.xml")


def main():
    for _ in range(100):  # the volume may be populated a moment after the container starts
        if CONFIG.is_file():
            break
        time.sleep(0.1)
    fake = FakeOpenfire(CONFIG.read_text())
    httpd = ThreadingHTTPServer(("0.0.0.0", 9090), _Handler)
    httpd.daemon_threads = True
    httpd.fake = fake
    httpd.delay = 0.0
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    print(f"jitsictl test stand-in for openfire: REST API fake for {fake.domain} on :9090", flush=True)
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    stopped.wait()
    print("openfire stand-in: stopping", flush=True)


if __name__ == "__main__":
    main()
