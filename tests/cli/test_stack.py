"""`jitsictl up/status/logs/down/doctor` against a REAL Docker engine and the REAL Compose binary.

The engine is Debian's dockerd, started privately by tests/support/docker_engine.py. No registry
is reachable, so the Jitsi images cannot run here: the services are played by STAND-IN images
(`jitsictl-test/<service>:standin`, built from tests/docker/standin on a debootstrap base) that
only answer the health endpoints of docker-jitsi-meet stable-11146-2 (web :8000/, prosody
:5280/health, jicofo :8888/about/health on 127.0.0.1 only, as the real jicofo, jvb
:8080/about/health) and the receiver's :8080/healthz, where the real images listen; the prosody
one has a prosodyctl stand-in for `jitsictl users`. The rendered project points at them through
jitsictl.yaml (`images.repository: jitsictl-test`, `images.version: standin`); the receiver's
image, which the project builds from jitsictl's sources, is pre-tagged (with its content tag)
from the logger stand-in so Compose uses it instead of building.
Openfire's stand-in (tests/docker/standin-openfire) serves the REST API contract fake of
tests/openfire/fake_restapi.py. Everything else is real: rendering, the compose file, Compose's
lifecycle, the containers, networks, published ports, the status probes and the logs.
"""
from __future__ import annotations

import json
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from jitsictl import config as config_mod
from jitsictl import render as render_mod
from tests.support.docker_engine import docker_engine, standin_image  # noqa: F401 (fixture)
from tests.support.prosody_server import free_port

pytestmark = pytest.mark.slow
SERVICES = {"web", "prosody", "jicofo", "jvb", "logger"}


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("0.0.0.0", 0))
        return sock.getsockname()[1]


def jitsictl(*args: str, cwd: Path, env: dict[str, str] | None = None,
             timeout: float = 180, input: str | None = None) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if k not in ("DOCKER_HOST", "JITSICTL_PROBE_VIA")}
    environ.update(project_name(cwd))
    environ.update(env or {})
    return subprocess.run([sys.executable, "-m", "jitsictl", *args], cwd=cwd, env=environ,
                          capture_output=True, text=True, timeout=timeout, input=input,
                          stdin=None if input is not None else subprocess.DEVNULL)


def project_name(directory: Path) -> dict[str, str]:
    """Every test's stack renders into a directory named `stack`, which Compose would take as
    one project name for all: each test directory gets its own."""
    return {"COMPOSE_PROJECT_NAME": re.sub(r"[^a-z0-9_-]", "", directory.name.lower())}


def local_image(directory: Path, service: str) -> tuple[str, str]:
    """(repository, tag) of the image the project in `directory` builds for `service`."""
    config = config_mod.load(directory / "jitsictl.yaml")
    repository, _, tag = render_mod.image_tags(config)[service].partition(":")
    return repository, tag


def pretend_built(engine, directory: Path, service: str, role: str | None = None) -> None:
    """Give a stand-in image the name the project builds for `service`, so Compose finds it."""
    repository, tag = local_image(directory, service)
    engine.client().images.get(standin_image(role or service)).tag(repository, tag=tag)


def json_output(result: subprocess.CompletedProcess) -> dict:
    assert result.stdout.startswith("{"), result.stderr
    return json.loads(result.stdout)


def no_traceback(result: subprocess.CompletedProcess) -> None:
    assert "Traceback" not in result.stderr + result.stdout, result.stderr


@pytest.fixture(scope="module")
def site(docker_engine, tmp_path_factory):  # noqa: F811
    """A jitsictl.yaml pointing at the stand-in images, on free ports; the stack is taken down
    (with its volumes) at the end whatever the tests did."""
    directory = tmp_path_factory.mktemp("site")
    result = jitsictl(
        "init", "--non-interactive", "--domain", "localhost", "--auth", "internal", "--guests",
        "--image-repository", "jitsictl-test", "--image-version", "standin",
        "--http-port", str(free_port()), "--https-port", str(free_port()),
        "--attendance-port", str(free_port()), "--jvb-port", str(free_udp_port()),
        cwd=directory)
    assert result.returncode == 0, result.stderr
    # The receiver image is built from jitsictl's sources by the project; here its stand-in
    # takes its name, so Compose finds the image and does not build.
    pretend_built(docker_engine, directory, "logger")
    yield directory
    jitsictl("down", "--volumes", cwd=directory, env=docker_engine.env())


@pytest.fixture
def running(site, docker_engine):  # noqa: F811
    """The site's stack, up and healthy (brought up again if a test left it otherwise), so each
    test also runs on its own (`-k`)."""
    if jitsictl("status", cwd=site, env=docker_engine.env()).returncode != 0:
        result = jitsictl("up", "--wait", "--timeout", "60", cwd=site, env=docker_engine.env())
        assert result.returncode == 0, result.stderr
    return site


def project_containers(engine, directory: Path) -> list:
    project = json.loads(subprocess.run(
        [sys.executable, "-c", "import sys,json;from jitsictl.compose import ComposeProject;"
         "print(json.dumps(ComposeProject(sys.argv[1]).project_name()))", str(directory / "stack")],
        capture_output=True, text=True, env={**os.environ, **engine.env(), **project_name(directory)}).stdout)
    return engine.client().containers.list(
        all=True, filters={"label": f"com.docker.compose.project={project}"})


def status_json(site: Path, engine, **env: str) -> tuple[int, dict]:
    result = jitsictl("status", "--json", cwd=site, env={**engine.env(), **env})
    no_traceback(result)
    return result.returncode, json_output(result)


def by_service(status: dict) -> dict:
    return {service["service"]: service for service in status["services"]}


def test_up_wait_starts_a_healthy_stack(site, docker_engine):  # noqa: F811
    result = jitsictl("up", "--wait", "--timeout", "90", cwd=site, env=docker_engine.env())
    assert result.returncode == 0, result.stderr + result.stdout
    print(result.stdout)
    # It ends saying where people go: the meetings, attendance over the site's HTTPS, and
    # where the dashboard password is.
    port = config_mod.load(site / "jitsictl.yaml").ports
    assert result.stdout.splitlines()[-3:] == [
        f"meetings:    https://localhost:{port.https}/",
        f"attendance:  https://localhost:{port.https}/attendance/ (on this server also "
        f"http://127.0.0.1:{port.attendance}/)",
        f"             user admin, password: ATTENDANCE_ADMIN_PASSWORD in {site / 'jitsictl.secrets.yaml'}",
    ]
    assert "the stack is healthy" in result.stdout
    # Without a terminal the progress display prints one line per change, ending healthy.
    assert "jicofo: healthy" in result.stderr
    containers = project_containers(docker_engine, site)
    assert {c.labels["com.docker.compose.service"] for c in containers} == SERVICES
    assert all(c.status == "running" for c in containers)
    images = {c.labels["com.docker.compose.service"]: c.image.tags[0] for c in containers}
    assert images["prosody"] == "jitsictl-test/prosody:standin"


def test_status_json_reports_every_service_healthy_with_probes(site, running, docker_engine):  # noqa: F811
    code, status = status_json(site, docker_engine)
    assert code == 0
    assert status["healthy"] is True and status["probe_via"] == "ip"
    services = by_service(status)
    assert set(services) == SERVICES
    for service in services.values():
        assert service["state"] == "running" and service["healthy"], service
        assert service["probe"]["status"] == 200, service
    assert services["prosody"]["probe"]["url"].endswith(":5280/health")
    assert services["jicofo"]["probe"]["url"] == "http://127.0.0.1:8888/about/health"
    assert services["jvb"]["probe"]["url"].endswith(":8080/about/health")
    assert services["logger"]["probe"]["url"].endswith(":8080/healthz")
    # jicofo listens on its container's loopback only (as the real one): asked inside it.
    assert {name: s["probe"]["via"] for name, s in services.items()} == {
        "web": "ip", "prosody": "ip", "jicofo": "exec", "jvb": "ip", "logger": "ip"}


def test_jicofo_answers_only_inside_its_container_as_the_real_one(site, running, docker_engine):  # noqa: F811
    """The stand-in is as inconvenient as jicofo: its health endpoint is not reachable at the
    container's address, which is why `status` must ask inside the container."""
    from jitsictl import stack

    jicofo = next(c for c in project_containers(docker_engine, site)
                  if c.labels["com.docker.compose.service"] == "jicofo")
    from_outside = stack._probe_ip(jicofo, stack.PROBES["jicofo"])
    assert not from_outside.ok and from_outside.status is None, from_outside
    assert stack._probe_exec(jicofo, stack.PROBES["jicofo"]).status == 200
    table = jitsictl("status", cwd=site, env=docker_engine.env()).stdout
    rows = {line.split("│")[1].strip(): line.split("│")[4].strip()
            for line in table.splitlines() if line.startswith("│")}
    assert rows["jicofo"] == "200 :8888/about/health (inside)" and rows["prosody"] == "200 :5280/health"


def test_status_probes_through_docker_exec_too(site, running, docker_engine):  # noqa: F811
    code, status = status_json(site, docker_engine, JITSICTL_PROBE_VIA="exec")
    assert code == 0, status
    assert status["probe_via"] == "exec"
    assert all(s["probe"]["via"] == "exec" and s["probe"]["status"] == 200
               for s in status["services"])


def test_a_failing_probe_makes_status_fail(site, running, docker_engine):  # noqa: F811
    jicofo = next(c for c in project_containers(docker_engine, site)
                  if c.labels["com.docker.compose.service"] == "jicofo")
    jicofo.exec_run(["touch", "/tmp/standin-unhealthy"])
    try:
        code, status = status_json(site, docker_engine)
        assert code == 1 and status["healthy"] is False
        jicofo_status = by_service(status)["jicofo"]
        assert jicofo_status["healthy"] is False and jicofo_status["probe"]["status"] == 503
        assert all(s["healthy"] for s in status["services"] if s["service"] != "jicofo")
        table = jitsictl("status", cwd=site, env=docker_engine.env())
        assert table.returncode == 1 and "answered 503" in table.stdout
    finally:
        jicofo.exec_run(["rm", "-f", "/tmp/standin-unhealthy"])


def test_a_stopped_container_is_unhealthy_and_up_brings_it_back(site, running, docker_engine):  # noqa: F811
    jvb = next(c for c in project_containers(docker_engine, site)
               if c.labels["com.docker.compose.service"] == "jvb")
    jvb.stop(timeout=5)
    code, status = status_json(site, docker_engine)
    assert code == 1
    assert by_service(status)["jvb"]["state"] == "exited"
    assert by_service(status)["jvb"]["probe"] is None
    result = jitsictl("up", "--wait", "--timeout", "60", cwd=site, env=docker_engine.env())
    assert result.returncode == 0, result.stderr
    assert status_json(site, docker_engine)[0] == 0


def test_users_are_kept_by_prosodyctl_in_the_prosody_container(site, running, docker_engine):  # noqa: F811
    def users(*args, input=None):
        return jitsictl("users", *args, cwd=site, env=docker_engine.env(), input=input)

    password = "Radium-1898"
    added = users("add", "M.Curie", "--password-stdin", input=password + "\n")
    assert (added.returncode, added.stdout) == (0, "created m.curie@meet.jitsi\n"), added.stderr
    again = users("add", "m.curie", "--password-stdin", input=password + "\n")
    assert again.returncode == 2
    assert "error: that account exists already" in again.stderr
    assert "hint: change its password with `jitsictl users passwd NAME`" in again.stderr
    assert users("list").stdout == "m.curie@meet.jitsi\n"
    assert users("passwd", "m.curie", "--password-stdin", input="Polonium-1898\n").returncode == 0
    short = users("passwd", "m.curie", "--password-stdin", input="short\n")
    assert short.returncode == 2 and "shorter than 8 characters" in short.stderr
    no_terminal = users("add", "p.curie")
    assert no_terminal.returncode == 2 and "pass --password-stdin" in no_terminal.stderr
    removed = users("remove", "m.curie")
    assert (removed.returncode, removed.stdout) == (0, "removed m.curie@meet.jitsi\n")
    assert users("list", "--json").stdout.strip() == '{\n  "ok": true,\n  "users": []\n}'
    for result in (added, again, short):
        assert password not in result.stdout + result.stderr

    prosody = next(c for c in project_containers(docker_engine, site)
                   if c.labels["com.docker.compose.service"] == "prosody")
    prosody.stop(timeout=5)
    stopped = users("list", "--json")
    assert stopped.returncode == 2
    assert json_output(stopped)["error"] == "the prosody service is not running"


def test_logs_show_service_lines(site, running, docker_engine):  # noqa: F811
    result = jitsictl("logs", "web", "prosody", cwd=site, env=docker_engine.env())
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert any(line.startswith("web ") and "stand-in for web: listening" in line for line in lines)
    assert any(line.startswith("prosody | ") and "GET /health" in line for line in lines)
    assert not any(line.startswith("jvb") for line in lines)
    unknown = jitsictl("logs", "nosuchservice", cwd=site, env=docker_engine.env())
    assert unknown.returncode == 2 and "No service named nosuchservice" in unknown.stderr
    no_traceback(unknown)


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_logs_follow_streams_until_interrupted(site, running, docker_engine, stop):  # noqa: F811
    """`logs -f` streams new lines and ends cleanly (exit 0) on Ctrl-C or SIGTERM (CI's
    `timeout`). Both pipes are drained while it runs, so a full pipe cannot stall it."""
    environ = {**os.environ, **docker_engine.env(), **project_name(site)}
    process = subprocess.Popen([sys.executable, "-m", "jitsictl", "logs", "-f", "--tail", "1",
                                "prosody"], cwd=site, env=environ, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    lines: queue.Queue = queue.Queue()
    errors: list[str] = []
    threading.Thread(target=lambda: [lines.put(line) for line in process.stdout],
                     daemon=True).start()
    threading.Thread(target=lambda: errors.extend(process.stderr), daemon=True).start()
    try:
        assert lines.get(timeout=30).startswith("prosody | ")
        # A request made now (the status probe) shows up while following.
        status_json(site, docker_engine)
        assert "GET /health" in lines.get(timeout=30)
    finally:
        process.send_signal(stop)
        code = process.wait(timeout=10)
    assert code == 0, "".join(errors)
    assert "Traceback" not in "".join(errors)


def test_doctor_passes_with_the_stack_holding_its_own_ports(site, running, docker_engine):  # noqa: F811
    result = jitsictl("doctor", "--json", cwd=site, env=docker_engine.env())
    report = json_output(result)
    failed = [c for c in report["checks"] if c["status"] == "fail"]
    assert result.returncode == 0 and report["ok"], failed
    names = {c["name"]: c for c in report["checks"]}
    assert names["engine"]["status"] == "ok" and names["compose"]["status"] == "ok"
    web_ports = [c for name, c in names.items() if name.startswith("port web")]
    assert web_ports and all("published by this stack" in c["detail"] for c in web_ports)
    assert names["media"]["status"] == "warn"  # no jvb_advertise_ips in this config
    assert names["images"] == {"name": "images", "status": "ok", "hint": "",
                               "detail": "every image the stack needs is in the engine (5)"}
    # The site's domain is localhost: fine for this test, not for a school.
    assert names["domain"]["status"] == "warn" and "only this server" in names["domain"]["detail"]


class FakeRegistry(ThreadingHTTPServer):
    """Answers the registry API's version check (GET /v2/) as registries do without a login."""

    def __init__(self):
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(401 if self.path == "/v2/" else 404)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()


def test_doctor_asks_the_registry_of_missing_images_and_names_the_air_gapped_route(tmp_path,
                                                                                  docker_engine):  # noqa: F811
    registry = FakeRegistry()
    try:
        for name, port in (("reachable", registry.server_address[1]), ("unreachable", free_port())):
            directory = tmp_path / name
            directory.mkdir()
            assert jitsictl("init", "--non-interactive", "--image-repository",
                            f"127.0.0.1:{port}/jitsi", cwd=directory).returncode == 0
            pretend_built(docker_engine, directory, "logger")  # so no base image is needed
            result = jitsictl("doctor", "--json", cwd=directory, env=docker_engine.env())
            check = {c["name"]: c for c in json_output(result)["checks"]}[f"registry 127.0.0.1:{port}"]
            images = ", ".join(f"127.0.0.1:{port}/jitsi/{service}:stable-11146-2"
                               for service in ("web", "prosody", "jicofo", "jvb"))
            if name == "reachable":
                assert check["status"] == "ok", check
                assert check["detail"] == (f"http://127.0.0.1:{port}/v2/ answered HTTP 401; "
                                           f"to pull: {images}")
            else:
                assert result.returncode == 1 and check["status"] == "fail", check
                assert check["detail"].startswith("unreachable (http://127.0.0.1:")
                assert check["detail"].endswith(f"not in the engine: {images}")
                assert "docker save IMAGE..." in check["hint"] and "docker load -i" in check["hint"]
    finally:
        registry.shutdown()


def test_a_port_taken_by_another_program_fails_doctor_and_up_starts_nothing(tmp_path,
                                                                           docker_engine):  # noqa: F811
    with socket.socket() as taken:
        taken.bind(("0.0.0.0", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert jitsictl("init", "--non-interactive", "--image-repository", "jitsictl-test",
                        "--image-version", "standin", "--http-port", str(port),
                        "--https-port", str(free_port()), "--attendance-port", str(free_port()),
                        "--jvb-port", str(free_udp_port()), cwd=tmp_path).returncode == 0
        pretend_built(docker_engine, tmp_path, "logger")
        doctor = jitsictl("doctor", cwd=tmp_path, env=docker_engine.env())
        try:
            up = jitsictl("up", cwd=tmp_path, env=docker_engine.env())
            started = project_containers(docker_engine, tmp_path)
        finally:
            jitsictl("down", "--volumes", cwd=tmp_path, env=docker_engine.env())
    no_traceback(doctor)
    assert doctor.returncode == 1
    assert f"[fail] port http: {port}/tcp on 0.0.0.0 is in use by another program" in doctor.stdout
    assert "[  ok] engine" in doctor.stdout
    no_traceback(up)
    assert up.returncode == 2, up.stderr
    assert (f"error: Ports the stack publishes are taken, so nothing was started: port web "
            f"{port}/tcp: {port}/tcp on 0.0.0.0 is in use by another program") in up.stderr
    assert "hint: free them, or change them under ports: in jitsictl.yaml" in up.stderr
    assert started == []  # checked before anything started


def test_down_volumes_removes_containers_and_network(site, docker_engine):  # noqa: F811
    result = jitsictl("down", "--volumes", cwd=site, env=docker_engine.env())
    assert result.returncode == 0, result.stderr
    assert project_containers(docker_engine, site) == []
    networks = [n.name for n in docker_engine.client().networks.list()]
    assert not any(name.endswith("meet.jitsi") for name in networks), networks
    code, status = status_json(site, docker_engine)
    assert code == 1 and {s["state"] for s in status["services"]} == {"missing"}


def test_up_without_a_config_refuses_and_says_how_to_make_one(tmp_path):
    up = jitsictl("up", "--xmpp", "openfire", cwd=tmp_path)
    no_traceback(up)
    assert up.returncode == 2
    assert "error: jitsictl.yaml not found" in up.stderr
    assert ("hint: create it first: `jitsictl init` (in scripts: `jitsictl init --non-interactive "
            "--domain meet.example.org --xmpp openfire`)") in up.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # nothing written
    as_json = jitsictl("up", "--json", cwd=tmp_path)
    assert as_json.returncode == 2
    assert json_output(as_json) == {"ok": False, "error": "jitsictl.yaml not found",
                                    "hint": "create it first: `jitsictl init` (in scripts: "
                                            "`jitsictl init --non-interactive --domain "
                                            "meet.example.org`)"}


def test_engine_down_gives_a_readable_error_not_a_traceback(tmp_path):
    down = {"DOCKER_HOST": f"unix://{tmp_path}/no-engine.sock"}
    assert jitsictl("init", "--non-interactive", cwd=tmp_path).returncode == 0
    # `up` renders, then Compose cannot reach the engine.
    up = jitsictl("up", cwd=tmp_path, env=down, timeout=120)
    no_traceback(up)
    assert up.returncode == 2, up.stderr
    assert (tmp_path / "stack" / ".env").is_file()
    assert "hint: The Docker engine is not reachable: start Docker" in up.stderr

    status = jitsictl("status", cwd=tmp_path, env=down)
    no_traceback(status)
    assert status.returncode == 2
    assert "Cannot reach the Docker engine at unix://" in status.stderr
    assert "hint: Start Docker (systemctl start docker) or set DOCKER_HOST" in status.stderr

    doctor = jitsictl("doctor", "--json", cwd=tmp_path, env=down)
    report = json_output(doctor)
    assert doctor.returncode == 1 and not report["ok"]
    assert {c["name"]: c["status"] for c in report["checks"]}["engine"] == "fail"


def test_up_wait_times_out_naming_the_unhealthy_service(tmp_path, docker_engine):  # noqa: F811
    """A jvb image that answers the wrong health path: `up --wait` must give up and say so."""
    images = docker_engine.client().images
    for role in ("web", "prosody", "jicofo"):
        images.get(standin_image(role)).tag(f"jitsictl-test/{role}", tag="wrong-jvb")
    images.get(standin_image("logger")).tag("jitsictl-test/jvb", tag="wrong-jvb")
    assert jitsictl("init", "--non-interactive", "--image-repository", "jitsictl-test",
                    "--image-version", "wrong-jvb", "--http-port", str(free_port()),
                    "--https-port", str(free_port()), "--attendance-port", str(free_port()),
                    "--jvb-port", str(free_udp_port()), cwd=tmp_path).returncode == 0
    pretend_built(docker_engine, tmp_path, "logger")
    try:
        up = jitsictl("up", "--wait", "--timeout", "4", cwd=tmp_path, env=docker_engine.env())
        no_traceback(up)
        assert up.returncode == 1, up.stderr
        assert "error: The stack was not healthy after 4 s: jvb: probe answered 404" in up.stderr
        assert "hint: see `jitsictl logs SERVICE" in up.stderr
    finally:
        jitsictl("down", "--volumes", cwd=tmp_path, env=docker_engine.env())


def test_up_builds_the_receiver_image_when_its_sources_changed_or_when_asked(tmp_path, docker_engine):  # noqa: F811
    """The receiver's image is tagged by a digest of its build context: a tag the engine lacks
    (new sources) is built by `up`, an existing one is reused, `--build` rebuilds anyway. No
    registry is reachable here, so a build stops at its base image: that failure is the proof
    that a build was attempted."""
    assert jitsictl("init", "--non-interactive", "--image-repository", "jitsictl-test",
                    "--image-version", "standin", "--http-port", str(free_port()),
                    "--https-port", str(free_port()), "--attendance-port", str(free_port()),
                    "--jvb-port", str(free_udp_port()), cwd=tmp_path).returncode == 0
    repository, tag = local_image(tmp_path, "logger")
    import docker

    try:  # other tests of this session may have given a stand-in this very tag
        docker_engine.client().images.remove(f"{repository}:{tag}")
    except docker.errors.ImageNotFound:
        pass
    try:
        fresh = jitsictl("up", cwd=tmp_path, env=docker_engine.env())
        assert fresh.returncode == 2, fresh.stderr
        # Compose builds jitsictl-logger:<tag> (never pulls it) and stops at its base image.
        assert "failed to solve" in fresh.stderr and "python/manifests/3.11-slim" in fresh.stderr
        assert "logger Pulling" not in fresh.stderr
        pretend_built(docker_engine, tmp_path, "logger")
        reused = jitsictl("up", cwd=tmp_path, env=docker_engine.env())
        assert reused.returncode == 0, reused.stderr
        assert "failed to solve" not in reused.stderr
        forced = jitsictl("up", "--build", cwd=tmp_path, env=docker_engine.env())
        assert forced.returncode == 2 and "failed to solve" in forced.stderr, forced.stderr
    finally:
        jitsictl("down", "--volumes", cwd=tmp_path, env=docker_engine.env())
        pretend_built(docker_engine, tmp_path, "logger")  # as the other tests expect it
    assert len(tag) == 16


def test_up_json_ends_with_the_summary(site, running, docker_engine):  # noqa: F811
    result = jitsictl("up", "--json", cwd=site, env=docker_engine.env())
    assert result.returncode == 0, result.stderr
    summary = json_output(result)
    ports = config_mod.load(site / "jitsictl.yaml").ports
    assert summary == {
        "ok": True, "meeting_url": f"https://localhost:{ports.https}/",
        "dashboard_url": f"https://localhost:{ports.https}/attendance/",
        "admin_url": f"http://127.0.0.1:{ports.attendance}/", "dashboard_user": "admin",
        "password_file": str(site / "jitsictl.secrets.yaml"),
        "password_key": "ATTENDANCE_ADMIN_PASSWORD", "lms": None, "healthy": None}


def test_compose_sends_a_build_exactly_the_files_its_tag_digests(tmp_path, docker_engine):  # noqa: F811
    """The real Compose and engine build each context of a cluttered checkout with jitsictl's
    own .dockerignore files; a Dockerfile that lists what it was sent shows the same files as
    jitsictl.sources (which the content-addressed tags and the wheel are made from)."""
    from jitsictl import sources
    from jitsictl.compose import ComposeProject
    from tests.support.docker_engine import BASE_IMAGE

    from .test_sources import cluttered_tree

    base = cluttered_tree(tmp_path / "checkout")
    services = []
    for name, context in sources.BUILD_CONTEXTS.items():
        (base / context.dockerfile).write_text(
            f'FROM {BASE_IMAGE}\nCOPY . /context\nCMD ["find", "/context", "-type", "f"]\n')
        services.append(f"  {name}:\n    build:\n      context: .\n      dockerfile: {context.dockerfile}\n"
                        f"    image: jitsictl-test/context-{name}:listed\n")
    (base / "docker-compose.yml").write_text("services:\n" + "".join(services))
    ComposeProject(base, name="context-check", env=docker_engine.env()).run("build", timeout=300)
    for name, context in sources.BUILD_CONTEXTS.items():
        listed = docker_engine.client().containers.run(f"jitsictl-test/context-{name}:listed", remove=True)
        sent = sorted(line.removeprefix("/context/") for line in listed.decode().split())
        assert sent == sources.context_files(context, base), name


def test_a_broken_compose_command_is_reported(tmp_path):
    assert jitsictl("init", "--non-interactive", cwd=tmp_path).returncode == 0
    broken = {"JITSICTL_COMPOSE": "false"}
    up = jitsictl("up", cwd=tmp_path, env=broken)
    no_traceback(up)
    assert up.returncode == 2
    assert "JITSICTL_COMPOSE='false' does not run `version` successfully" in up.stderr
    doctor = jitsictl("doctor", "--json", cwd=tmp_path, env=broken)
    checks = {c["name"]: c for c in json_output(doctor)["checks"]}
    assert doctor.returncode == 1 and checks["compose"]["status"] == "fail"


def test_commands_without_a_rendered_project_say_what_to_do(tmp_path):
    result = jitsictl("down", cwd=tmp_path)
    no_traceback(result)
    assert result.returncode == 2
    assert "No compose project in" in result.stderr and "jitsictl up" in result.stderr


def test_up_with_openfire_configures_it_through_its_rest_api(tmp_path, docker_engine):  # noqa: F811
    """Openfire cannot run here: its STAND-IN serves the REST API contract fake of
    tests/openfire/fake_restapi.py, booted from the openfire.xml jitsictl renders. `up` must wait
    for it and apply the Jitsi configuration (jitsictl.openfire's reconciler) through the container's address."""
    result = jitsictl(
        "init", "--non-interactive", "--xmpp", "openfire", "--auth", "internal",
        "--image-repository", "jitsictl-test", "--image-version", "standin",
        "--http-port", str(free_port()), "--https-port", str(free_port()),
        "--attendance-port", str(free_port()), "--jvb-port", str(free_udp_port()), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    pretend_built(docker_engine, tmp_path, "logger")
    pretend_built(docker_engine, tmp_path, "openfire")
    try:
        up = jitsictl("up", "--xmpp", "openfire", "--wait", "--timeout", "90", cwd=tmp_path,
                      env=docker_engine.env())
        no_traceback(up)
        assert up.returncode == 0, up.stderr
        assert "Openfire configured (" in up.stderr and "(0 changes)" not in up.stderr
        code, status = status_json(tmp_path, docker_engine)
        assert code == 0 and set(by_service(status)) == SERVICES - {"prosody"} | {"openfire"}
        assert by_service(status)["openfire"]["probe"]["url"].endswith(
            ":9090/plugins/restapi/v1/system/readiness")

        openfire = next(c for c in project_containers(docker_engine, tmp_path)
                        if c.labels["com.docker.compose.service"] == "openfire")
        address = next(iter(openfire.attrs["NetworkSettings"]["Networks"].values()))["IPAddress"]
        secret = yaml_value(tmp_path / "jitsictl.secrets.yaml", "OPENFIRE_RESTAPI_SECRET")
        # Read back through the REST client (what `jitsictl openfire plan` uses).
        from jitsictl.openfire.client import RestApiClient

        api = RestApiClient(f"http://{address}:9090", secret)
        names = {service["serviceName"] for service in api.list_chat_services()}
        assert {"conference", "internal-muc"} <= names, names
        assert api.get_user("focus") is not None and api.get_user("jvb") is not None

        # The start order: jicofo and jvb join the brewery only when they log in, so they must
        # start after it exists. The stand-in starts like Openfire (no answer, 302, 503, 200).
        assert openfire.attrs["State"]["Health"]["Status"] == "healthy"
        brewery = api.get_chat_room("jvbbrewery", "internal-muc")
        assert brewery is not None and brewery["membersOnly"] is True
        for service in ("jicofo", "jvb"):
            started = next(c for c in project_containers(docker_engine, tmp_path)
                           if c.labels["com.docker.compose.service"] == service).attrs["State"]["StartedAt"]
            assert brewery["creationDate"] < started_ms(started), (service, brewery["creationDate"], started)

        again = jitsictl("up", "--xmpp", "openfire", cwd=tmp_path, env=docker_engine.env())
        assert again.returncode == 0, again.stderr
        assert "Openfire configured (0 changes)" in again.stderr

        # Teachers' accounts, through the same REST API at the container's address.
        def users(*args, input=None):
            return jitsictl("users", *args, cwd=tmp_path, env=docker_engine.env(), input=input)

        added = users("add", "M.Curie", "--password-stdin", input="Radium-1898\n")
        assert (added.returncode, added.stdout) == (0, "created m.curie@meet.jitsi\n"), added.stderr
        assert api.get_user("m.curie") is not None
        listed = users("list", "--json")
        assert json_output(listed) == {"ok": True, "users": ["m.curie@meet.jitsi"]}  # not focus, jvb
        assert users("passwd", "m.curie", "--password-stdin", input="Polonium-1898\n").returncode == 0
        assert users("remove", "m.curie").returncode == 0 and api.get_user("m.curie") is None
        refused = users("remove", "focus")
        assert refused.returncode == 2 and "jitsictl manages for the stack itself" in refused.stderr
    finally:
        assert jitsictl("down", "--volumes", cwd=tmp_path,
                        env=docker_engine.env()).returncode == 0


def started_ms(docker_time: str) -> int:
    """Docker's RFC 3339 time with nanoseconds as epoch milliseconds."""
    from datetime import datetime

    seconds, _, fraction = docker_time.rstrip("Z").partition(".")
    stamp = datetime.fromisoformat(seconds + "+00:00").timestamp()
    return int(stamp * 1000) + int((fraction or "0")[:3].ljust(3, "0"))


def yaml_value(path: Path, key: str) -> str:
    import yaml

    return yaml.safe_load(path.read_text())[key]


def test_up_refuses_an_xmpp_flag_that_contradicts_the_config(tmp_path):
    assert jitsictl("init", "--non-interactive", "--xmpp", "prosody", cwd=tmp_path).returncode == 0
    result = jitsictl("up", "--xmpp", "openfire", cwd=tmp_path)
    no_traceback(result)
    assert result.returncode == 2
    assert "xmpp: jitsictl.yaml says 'prosody' but --xmpp is 'openfire'" in result.stderr
    bad = jitsictl("up", "--xmpp", "ejabberd", cwd=tmp_path)
    assert bad.returncode == 2 and "--xmpp 'ejabberd' is not supported" in bad.stderr
