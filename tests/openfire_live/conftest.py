"""Fixtures of the live Openfire suite: skipped, saying why, unless a real Openfire is given.

    OPENFIRE_HOME=/path/to/openfire \\
    OPENFIRE_RESTAPI_JAR=/path/to/restAPI.jar \\
    OPENFIRE_ATTENDANCE_JAR=openfire-plugin/target/attendance-openfire-plugin-assembly.jar \\
    .venv/bin/python -m pytest tests/openfire_live -v -rs

OPENFIRE_HOME is an unpacked Openfire 5.x (the `openfire/` directory of the release tarball);
the REST API plugin jar is the one the release page offers (1.12.0 or later); the attendance jar
is what `mvn package` in openfire-plugin/ builds. Nothing is written into any of them.
"""
from __future__ import annotations

import asyncio
import os
import random
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from tests.openfire_live.openfire import DOMAIN, LiveOpenfire
from tests.prosody.receivers import RealReceiver

REQUIRED = {
    "OPENFIRE_HOME": "an unpacked Openfire 5.x (the openfire/ directory of its release tarball)",
    "OPENFIRE_RESTAPI_JAR": "the REST API plugin jar (restAPI.jar, 1.12.0 or later)",
    "OPENFIRE_ATTENDANCE_JAR": "this project's plugin jar (mvn package in openfire-plugin/)",
}


def _missing() -> list[str]:
    problems = []
    for name, what in REQUIRED.items():
        value = os.environ.get(name)
        if not value:
            problems.append(f"{name} is not set ({what})")
        elif not Path(value).exists():
            problems.append(f"{name}={value} does not exist ({what})")
    home = os.environ.get("OPENFIRE_HOME")
    if home and Path(home).exists() and not (Path(home) / "lib" / "startup.jar").exists():
        problems.append(f"OPENFIRE_HOME={home} has no lib/startup.jar: give the openfire/ directory of the release")
    return problems


def pytest_collection_modifyitems(config, items):
    problems = _missing()
    if not problems:
        return
    reason = "live Openfire suite skipped: " + "; ".join(problems)
    print("\n" + reason, file=sys.stderr)
    for item in items:
        if "openfire_live" in str(item.fspath):
            item.add_marker(pytest.mark.skip(reason=reason))


def jitsictl(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    executable = Path(sys.executable).with_name("jitsictl")
    return subprocess.run([str(executable), *args], cwd=cwd, capture_output=True, text=True, timeout=300)


@dataclass
class Stack:
    """Openfire from jitsictl's rendered openfire.xml, the real receiver, and what the boot showed."""
    openfire: LiveOpenfire
    receiver: RealReceiver
    project: Path                 # where jitsictl.yaml and its secrets file are
    secrets: dict
    c2s_opened_after: float       # seconds from start until the client port accepted connections
    early_jvb: dict               # what a jvb logging in at that very moment got
    brewery_before_apply: dict | None

    @property
    def rest_secret(self) -> str:
        return self.secrets["OPENFIRE_RESTAPI_SECRET"]

    def rest(self):
        from jitsictl.openfire.client import RestApiClient

        return RestApiClient(self.openfire.admin_url, self.rest_secret, timeout=20)


async def _jvb_at_first_chance(openfire: LiveOpenfire, password: str) -> dict:
    """Logs in as jvb the moment the client port opens, and joins the brewery, as jvb does once."""
    from tests.prosody.c2s_client import C2sClient

    loop = asyncio.get_running_loop()
    opened_after = await loop.run_in_executor(None, openfire.wait_for_port, openfire.c2s_port)
    client = C2sClient(f"jvb@{DOMAIN}", password, openfire.c2s_port, timeout=30)
    try:
        await client.connect()
        occupant = await client.join(f"jvbbrewery@internal-muc.{DOMAIN}", None)
        return {"opened_after": opened_after, "joined": occupant, "error": None}
    except Exception as exc:  # what a real jvb would only log
        return {"opened_after": opened_after, "joined": None, "error": repr(exc)}
    finally:
        await client.close()


@pytest.fixture(scope="package")
def stack(tmp_path_factory) -> Stack:
    workdir = tmp_path_factory.mktemp("openfire-live")
    project = workdir / "project"
    project.mkdir()
    for args in (("init", "--domain", "meet.example.org", "--xmpp", "openfire", "--auth", "none"), ("render",)):
        done = jitsictl(*args, cwd=project)
        assert done.returncode == 0, f"jitsictl {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    secrets = yaml.safe_load((project / "jitsictl.secrets.yaml").read_text())
    secrets = secrets.get("secrets", secrets)
    rendered = (project / "stack" / "config" / "openfire" / "conf" / "openfire.xml").read_text()

    from jitsictl.render import LOGGER_PORT

    # The compose project's receiver is http://logger:<LOGGER_PORT>: a loopback address of its own
    # (127.0.0.0/8 is all loopback), named `logger` for Openfire only, keeps parallel runs apart.
    logger_ip = f"127.{random.randint(1, 254)}.{random.randint(1, 254)}.{random.randint(2, 254)}"
    receiver = RealReceiver(workdir / "receiver", secret=secrets["ATTENDANCE_WEBHOOK_SECRET"],
                            host=logger_ip, port=LOGGER_PORT).start()
    openfire = LiveOpenfire(Path(os.environ["OPENFIRE_HOME"]), workdir,
                            restapi_jar=Path(os.environ["OPENFIRE_RESTAPI_JAR"]),
                            attendance_jar=Path(os.environ["OPENFIRE_ATTENDANCE_JAR"]),
                            openfire_xml=rendered,
                            extra_properties={"xmpp.proxy.enabled": "false"},
                            hosts={"logger": logger_ip, "xmpp.meet.jitsi": "127.0.0.1", DOMAIN: "127.0.0.1"})
    openfire.prepare().start()
    try:
        early = asyncio.run(_jvb_at_first_chance(openfire, secrets["JVB_AUTH_PASSWORD"]))
        from jitsictl.openfire.client import RestApiClient

        RestApiClient(openfire.admin_url, secrets["OPENFIRE_RESTAPI_SECRET"]).wait_ready(timeout=180)
        brewery = RestApiClient(openfire.admin_url, secrets["OPENFIRE_RESTAPI_SECRET"]).get_chat_room(
            "jvbbrewery", "internal-muc")
        yield Stack(openfire, receiver, project, secrets, early["opened_after"], early, brewery)
    finally:
        openfire.stop()
        receiver.stop()
        print(f"\nOpenfire log: {openfire.log_path}", file=sys.stderr)


def wait_until(condition, timeout: float, what: str, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(interval)
