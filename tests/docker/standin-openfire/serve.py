"""Test stand-in for Openfire: the REST API contract fake on 0.0.0.0:9090, booted like Openfire's
first boot from the seed openfire.xml jitsictl renders and compose mounts at
/opt/jitsictl/openfire.xml, and starting up as slowly and in the same steps as the real one
(tests/openfire/fake_restapi.py): nothing listens at first, then the admin console redirects the
plugin's paths to its login page (302) until the REST API plugin has loaded, then readiness says
503 until Openfire has started, then 200. STANDIN_STARTUP="<no answer>,<302>,<503>" seconds."""
import os
import signal
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, "/opt/standin")
from fake_restapi import FakeOpenfire, serve  # noqa: E402

CONFIG = Path("/opt/jitsictl/openfire.xml")


def main():
    # As PID 1 a process gets no default SIGTERM action: handle it from the start.
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    silent, console, starting = (float(s) for s in os.environ.get("STANDIN_STARTUP", "2,3,3").split(","))
    for _ in range(100):  # the volume may be populated a moment after the container starts
        if CONFIG.is_file():
            break
        time.sleep(0.1)
    fake = FakeOpenfire(CONFIG.read_text(), phase="console")
    if stopped.wait(silent):
        return
    httpd = serve(fake, ("0.0.0.0", 9090))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    print(f"openfire stand-in: admin console on :9090 for {fake.domain}, REST API plugin loading",
          flush=True)
    if stopped.wait(console):
        return
    fake.phase = "starting"
    print("openfire stand-in: REST API plugin loaded, Openfire starting", flush=True)
    if stopped.wait(starting):
        return
    fake.phase = "ready"
    print("openfire stand-in: ready", flush=True)
    stopped.wait()
    print("openfire stand-in: stopping", flush=True)


if __name__ == "__main__":
    main()
