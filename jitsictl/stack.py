"""State, health and logs of a running stack, read through the Docker SDK.

A service is healthy when its container is running, its Docker health check (if the image or the
compose file defines one) reports `healthy`, and its HTTP probe (if it has one) answers:

| service | probe | the real image listens on |
|---|---|---|
| web | `GET :8000/` (any status below 400; redirects are not followed) | all interfaces (docker-jitsi-meet `web/rootfs/defaults/default`) |
| prosody | `GET :5280/health` (200) | all interfaces (`prosody/rootfs/defaults/prosody.cfg.lua` `http_interfaces`) |
| jicofo | `GET :8888/about/health` (200) | 127.0.0.1 only (jicofo `reference.conf` `rest.host`; `jicofo/rootfs/defaults/jicofo.conf` binds 0.0.0.0 only with `JICOFO_ENABLE_REST`, which would also expose `/debug`) |
| jvb | `GET :8080/about/health` (200) | all interfaces (`jvb/rootfs/defaults/jvb.conf` `http-servers.private.host`) |
| logger (the attendance receiver) | `GET :8080/healthz` (200) | all interfaces (compose/logger/Dockerfile `ATTENDANCE_HOST`) |
| openfire | `GET :9090/plugins/restapi/v1/system/readiness` (200) | all interfaces |

The stack publishes only web (and jvb's UDP media port) on the host, so probes cannot use
published ports. How they reach a service (`probe_via`, per service in `status --json`):

- `exec`: inside the container, through `docker exec` of `curl`, else `python3`, else `wget`
  to 127.0.0.1, as the Jitsi images' own `/usr/local/bin/healthcheck.sh` do (their base image
  ships curl and wget). Always used for a service that listens on 127.0.0.1 only (jicofo), and
  for every service when the engine is remote (tcp://, ssh://), rootless or Docker Desktop,
  where container addresses are not reachable from the host.
- `ip`: from this host to the container's address on the project network, for services that
  listen on all interfaces when the engine is local and rootful on Linux (a unix socket, no
  `rootless` security option): the bridge network is then routable from the host, and the probe
  costs no process in the container.

`$JITSICTL_PROBE_VIA` (`ip` or `exec`) overrides the choice, except that a loopback-only
service is always probed inside its container.

Containers are found by the labels Compose puts on them (`com.docker.compose.project`,
`com.docker.compose.service`); the expected services come from the compose project itself, so a
service whose container was never created or was removed shows up as `missing`.
"""
from __future__ import annotations

import os
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from typing import Callable, Iterable, Sequence, TextIO

from .compose import ComposeProject, DockerError

PROJECT_LABEL = "com.docker.compose.project"
SERVICE_LABEL = "com.docker.compose.service"
PROBE_TIMEOUT = 3.0

ENGINE_HINT = ("Start Docker (systemctl start docker) or set DOCKER_HOST to the engine's socket "
               "(e.g. unix:///run/docker.sock).")


@dataclass(frozen=True)
class ProbeSpec:
    port: int
    path: str
    accept_below: int = 300  # a status below this counts as healthy
    loopback_only: bool = False  # the service listens on 127.0.0.1 inside its container

    def url(self, host: str) -> str:
        return f"http://{host}:{self.port}{self.path}"


# Keyed by compose service name (docker-jitsi-meet's names; the receiver's as jitsictl renders it).
PROBES: dict[str, ProbeSpec] = {
    "web": ProbeSpec(8000, "/", accept_below=400),
    "prosody": ProbeSpec(5280, "/health"),
    "jicofo": ProbeSpec(8888, "/about/health", loopback_only=True),
    "jvb": ProbeSpec(8080, "/about/health"),
    "logger": ProbeSpec(8080, "/healthz"),
    "openfire": ProbeSpec(9090, "/plugins/restapi/v1/system/readiness"),
}


class EngineError(DockerError):
    """The Docker engine is unreachable or refused a request."""


class StackNotHealthy(DockerError):
    """wait_healthy() ran out of time; `status` is the last status seen."""

    def __init__(self, message: str, status: "StackStatus") -> None:
        super().__init__(message)
        self.status = status


@dataclass
class ProbeResult:
    url: str
    via: str
    ok: bool
    status: int | None = None
    error: str | None = None
    elapsed_ms: int = 0


@dataclass
class ServiceStatus:
    service: str
    container: str | None
    state: str  # Docker's container state (running, exited, restarting…) or "missing"
    health: str | None  # Docker health check status, None when the service defines none
    exit_code: int | None
    probe: ProbeResult | None
    healthy: bool = field(init=False)

    def __post_init__(self) -> None:
        self.healthy = (self.state == "running" and self.health in (None, "healthy")
                        and (self.probe is None or self.probe.ok))

    def problem(self) -> str | None:
        """Why this service is not healthy, in words; None when it is."""
        if self.healthy:
            return None
        if self.state == "missing":
            return "no container"
        if self.state != "running":
            return f"{self.state} (exit code {self.exit_code})"
        if self.health not in (None, "healthy"):
            return f"health check {self.health}"
        assert self.probe is not None
        if self.probe.status is not None:
            return f"probe answered {self.probe.status}"
        return f"probe failed: {self.probe.error}"


@dataclass
class StackStatus:
    project: str
    probe_via: str
    services: list[ServiceStatus]

    @property
    def healthy(self) -> bool:
        return bool(self.services) and all(service.healthy for service in self.services)

    def to_dict(self) -> dict:
        return {"project": self.project, "healthy": self.healthy, "probe_via": self.probe_via,
                "services": [asdict(service) for service in self.services]}


# -- engine -------------------------------------------------------------------------------------

def engine_client(env: dict[str, str] | None = None):
    """A docker SDK client for the engine DOCKER_HOST (or the default socket) points at."""
    import docker

    environment = dict(os.environ)
    environment.update(env or {})
    try:
        client = docker.from_env(environment=environment, timeout=30)
        client.ping()
    except docker.errors.DockerException as exc:
        where = environment.get("DOCKER_HOST") or "the default socket (unix:///var/run/docker.sock)"
        raise EngineError(f"Cannot reach the Docker engine at {where}: {_reason(exc)}",
                          hint=ENGINE_HINT) from None
    return client


def _reason(exc: Exception) -> str:
    text = str(exc)
    for marker in ("FileNotFoundError", "ConnectionRefusedError", "PermissionError"):
        if marker in text:
            return {"FileNotFoundError": "the socket does not exist",
                    "ConnectionRefusedError": "connection refused",
                    "PermissionError": "permission denied on the socket"}[marker]
    return text.splitlines()[0][:300] if text else type(exc).__name__


def choose_probe_via(client) -> str:
    forced = os.environ.get("JITSICTL_PROBE_VIA")
    if forced in ("ip", "exec"):
        return forced
    # The SDK names a unix socket engine http+docker://localhost (ssh:// is http+docker://ssh).
    local = str(getattr(client.api, "base_url", "")) == "http+docker://localhost"
    if not local or not sys.platform.startswith("linux"):
        return "exec"
    try:
        info = client.info()
    except Exception:
        return "exec"
    rootless = any("rootless" in option for option in info.get("SecurityOptions") or [])
    desktop = "Docker Desktop" in str(info.get("OperatingSystem", ""))  # engine in a VM
    return "exec" if rootless or desktop else "ip"


# -- probes -------------------------------------------------------------------------------------

def _container_ip(container) -> str | None:
    networks = container.attrs.get("NetworkSettings", {}).get("Networks", {}) or {}
    for network in networks.values():
        if network.get("IPAddress"):
            return network["IPAddress"]
    return None


def _probe_ip(container, spec: ProbeSpec) -> ProbeResult:
    import http.client

    address = _container_ip(container)
    if address is None:
        return ProbeResult(url=spec.url("?"), via="ip", ok=False, error="container has no IP")
    url = spec.url(address)
    started = time.monotonic()
    connection = http.client.HTTPConnection(address, spec.port, timeout=PROBE_TIMEOUT)
    try:
        connection.request("GET", spec.path, headers={"User-Agent": "jitsictl-status"})
        status = connection.getresponse().status
    except OSError as exc:
        return ProbeResult(url=url, via="ip", ok=False, error=exc.strerror or str(exc) or
                           type(exc).__name__, elapsed_ms=_ms(started))
    except http.client.HTTPException as exc:
        return ProbeResult(url=url, via="ip", ok=False, error=f"bad HTTP reply: {exc!r}",
                           elapsed_ms=_ms(started))
    finally:
        connection.close()
    return ProbeResult(url=url, via="ip", ok=status < spec.accept_below, status=status,
                       elapsed_ms=_ms(started))


# Prints the HTTP status (000 when no reply) with whichever client the image has.
_EXEC_PROBE = r"""
url="$1"; t="$2"
if command -v curl >/dev/null 2>&1; then
  curl -s -o /dev/null -m "$t" -w '%{http_code}' "$url"; exit 0
elif command -v python3 >/dev/null 2>&1; then
  exec python3 - "$url" "$t" <<'PY'
import sys, urllib.request, urllib.error
try:
    print(urllib.request.urlopen(sys.argv[1], timeout=float(sys.argv[2])).status, end="")
except urllib.error.HTTPError as e:
    print(e.code, end="")
except Exception:
    print("000", end="")
PY
elif command -v wget >/dev/null 2>&1; then
  if wget -q -O /dev/null -T "$t" "$url"; then echo -n 200; else echo -n 000; fi; exit 0
fi
echo -n none
"""


def _probe_exec(container, spec: ProbeSpec) -> ProbeResult:
    url = spec.url("127.0.0.1")
    started = time.monotonic()
    try:
        _, output = container.exec_run(
            ["sh", "-c", _EXEC_PROBE, "probe", url, str(int(PROBE_TIMEOUT))], demux=False)
    except Exception as exc:  # the SDK raises APIError subclasses with multi-line text
        return ProbeResult(url=url, via="exec", ok=False, error=f"exec failed: {_reason(exc)}",
                           elapsed_ms=_ms(started))
    text = (output or b"").decode(errors="replace").strip()
    if text == "none":
        return ProbeResult(url=url, via="exec", ok=False, elapsed_ms=_ms(started),
                           error="the image has no curl, python3 or wget to probe with")
    if not text.isdigit() or text == "000":
        return ProbeResult(url=url, via="exec", ok=False, error="no HTTP reply",
                           elapsed_ms=_ms(started))
    status = int(text)
    return ProbeResult(url=url, via="exec", ok=status < spec.accept_below, status=status,
                       elapsed_ms=_ms(started))


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


# -- the stack ----------------------------------------------------------------------------------

class Stack:
    """A compose project's containers as the engine sees them."""

    def __init__(self, project: ComposeProject, client=None, probes: dict[str, ProbeSpec] | None
                 = None) -> None:
        self.project = project
        self._client = client
        self.probes = PROBES if probes is None else probes
        self._name: str | None = None
        self._services: list[str] | None = None
        self._probe_via: str | None = None

    @property
    def client(self):
        if self._client is None:
            self._client = engine_client(self.project.env)
        return self._client

    @property
    def name(self) -> str:
        if self._name is None:
            self._name = self.project.project_name()
        return self._name

    def expected_services(self) -> list[str]:
        """The services the compose project defines (profiles not enabled are left out)."""
        if self._services is None:
            self._services = sorted(self.project.config_json().get("services", {}))
        return self._services

    def containers(self, services: Iterable[str] = ()) -> dict[str, list]:
        """service -> its containers (running or not), from the compose labels."""
        import docker

        try:
            found = self.client.containers.list(
                all=True, filters={"label": f"{PROJECT_LABEL}={self.name}"})
        except docker.errors.DockerException as exc:
            raise EngineError(f"Listing containers failed: {_reason(exc)}", hint=ENGINE_HINT) \
                from None
        wanted = set(services)
        by_service: dict[str, list] = {}
        for container in found:
            service = container.labels.get(SERVICE_LABEL, "?")
            if not wanted or service in wanted:
                by_service.setdefault(service, []).append(container)
        return by_service

    @property
    def probe_via(self) -> str:
        if self._probe_via is None:
            self._probe_via = choose_probe_via(self.client)
        return self._probe_via

    def status(self) -> StackStatus:
        """Every expected service (and any other container of the project), probed in parallel:
        one slow service costs one probe timeout, not one per service."""
        from concurrent.futures import ThreadPoolExecutor

        via = self.probe_via
        containers = self.containers()
        services = sorted(set(self.expected_services()) | set(containers))
        pairs = [(service, container) for service in services
                 for container in containers.get(service) or [None]]
        with ThreadPoolExecutor(max_workers=max(len(pairs), 1)) as pool:
            results = list(pool.map(lambda pair: self._service_status(*pair, via), pairs))
        return StackStatus(project=self.name, probe_via=via, services=results)

    def _service_status(self, service: str, container, via: str) -> ServiceStatus:
        if container is None:
            return ServiceStatus(service, None, "missing", None, None, None)
        state = container.attrs.get("State", {})
        health = (state.get("Health") or {}).get("Status")
        probe = None
        spec = self.probes.get(service)
        if spec is not None and state.get("Status") == "running":
            inside = via == "exec" or spec.loopback_only
            probe = _probe_exec(container, spec) if inside else _probe_ip(container, spec)
        return ServiceStatus(service, container.name, state.get("Status", "unknown"), health,
                             state.get("ExitCode"), probe)

    def wait_healthy(self, timeout: float, on_update: Callable[[StackStatus, float], None]
                     | None = None, interval: float = 1.0) -> StackStatus:
        """Polls status() until every service is healthy; raises StackNotHealthy on timeout."""
        deadline = time.monotonic() + timeout
        while True:
            status = self.status()
            remaining = deadline - time.monotonic()
            if on_update is not None:
                on_update(status, max(remaining, 0.0))
            if status.healthy:
                return status
            if remaining <= 0:
                problems = "; ".join(f"{s.service}: {s.problem()}" for s in status.services
                                     if not s.healthy)
                raise StackNotHealthy(
                    f"The stack was not healthy after {timeout:.0f} s: {problems}", status)
            time.sleep(min(interval, max(remaining, 0.05)))

    # -- logs -----------------------------------------------------------------------------------

    def logs(self, services: Sequence[str] = (), *, follow: bool = False, tail: int | None = None,
             out: TextIO | None = None) -> None:
        """Prints `service | line` for the services' containers; merged by time; `follow` streams."""
        out = out or sys.stdout
        unknown = set(services) - set(self.expected_services())
        if unknown:
            raise DockerError(f"No service named {', '.join(sorted(unknown))} in this stack.",
                              hint=f"Services: {', '.join(self.expected_services())}.")
        containers = [(service, container)
                      for service, found in sorted(self.containers(services).items())
                      for container in found]
        if not containers:
            raise DockerError("No containers to show logs of: the stack is not up.",
                              hint="Start it with `jitsictl up`.")
        width = max(len(service) for service, _ in containers)
        if not follow:
            lines = []
            for service, container in containers:
                raw = container.logs(timestamps=True, tail=tail if tail is not None else "all")
                for line in raw.decode(errors="replace").splitlines():
                    stamp, _, text = line.partition(" ")
                    lines.append((stamp, service, text))
            for _, service, text in sorted(lines, key=lambda item: item[0]):
                out.write(f"{service:<{width}} | {text}\n")
            out.flush()
            return
        self._follow(containers, width, tail, out)

    def _follow(self, containers, width: int, tail: int | None, out: TextIO) -> None:
        """Streams new lines until every container's log ends or the user interrupts (SIGINT,
        or SIGTERM as from `timeout` in CI).

        One thread per container reads its stream (the Docker SDK disables the socket timeout
        of a followed log, so a read blocks until the next line) and hands lines to this, the
        only thread that writes to `out`. On an interrupt the streams are closed, which ends
        the readers, and this returns: nothing is left blocked on a socket or holding `out`
        while the interpreter exits."""
        import queue
        import signal

        lines: queue.Queue = queue.Queue()
        done = object()
        streams = []

        def pump(service: str, stream) -> None:
            pending = b""
            try:
                for chunk in stream:
                    pending += chunk
                    *complete, pending = pending.split(b"\n")
                    for line in complete:
                        lines.put(f"{service:<{width}} | {line.decode(errors='replace')}\n")
            except Exception:  # the stream was closed under us (interrupt) or the engine went away
                pass
            finally:
                lines.put(done)

        for service, container in containers:
            stream = container.logs(stream=True, follow=True,
                                    tail=tail if tail is not None else "all")
            streams.append(stream)
            threading.Thread(target=pump, args=(service, stream), daemon=True).start()
        previous = signal.signal(signal.SIGTERM, signal.default_int_handler)
        running = len(streams)
        try:
            while running:
                try:
                    # A timeout, so that a signal the kernel gave another thread is acted on
                    # here within half a second (Python runs handlers in the main thread).
                    item = lines.get(timeout=0.5)
                except queue.Empty:
                    continue
                if item is done:
                    running -= 1
                    continue
                out.write(item)
                if lines.empty():
                    out.flush()
        except KeyboardInterrupt:
            pass
        finally:
            signal.signal(signal.SIGTERM, previous)
            for stream in streams:
                try:
                    stream.close()
                except Exception:
                    pass
            out.flush()


# -- display ------------------------------------------------------------------------------------

class HealthProgress:
    """Shows wait_healthy() progress on stderr: a live table on a terminal, else one line per
    change (CI logs stay readable). Use as a context manager; pass `.update` as `on_update`."""

    def __init__(self, timeout: float, stream: TextIO | None = None) -> None:
        from rich.console import Console

        self.console = Console(file=stream or sys.stderr)
        self.timeout = timeout
        self._live = None
        self._last: dict[str, str] = {}

    def __enter__(self) -> "HealthProgress":
        if self.console.is_terminal:
            from rich.live import Live

            self._live = Live(console=self.console, refresh_per_second=4, transient=False)
            self._live.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        if self._live is not None:
            self._live.__exit__(*exc)

    def update(self, status: StackStatus, remaining: float) -> None:
        if self._live is not None:
            self._live.update(self._table(status, remaining))
            return
        for service in status.services:
            line = "healthy" if service.healthy else (service.problem() or "")
            if self._last.get(service.service) != line:
                self._last[service.service] = line
                self.console.print(f"{service.service}: {line}", highlight=False)

    def _table(self, status: StackStatus, remaining: float):
        from rich.table import Table

        healthy = sum(service.healthy for service in status.services)
        table = Table(title=f"{status.project}: {healthy}/{len(status.services)} healthy, "
                      f"{remaining:.0f} s left", title_justify="left")
        for column in ("service", "state", "health", "probe"):
            table.add_column(column)
        for service in status.services:
            mark = "[green]✔[/green]" if service.healthy else "[yellow]…[/yellow]"
            probe = ("-" if service.probe is None else
                     f"{service.probe.status or service.probe.error} ({service.probe.via})")
            table.add_row(f"{mark} {service.service}", service.state, service.health or "-", probe)
        return table


def status_table(status: StackStatus):
    """A rich Table of a status, for `jitsictl status`."""
    from rich.table import Table

    table = Table(title=f"{status.project}: {'healthy' if status.healthy else 'NOT healthy'} "
                  f"(probes via {status.probe_via})", title_justify="left")
    for column in ("service", "state", "health", "probe", "problem"):
        table.add_column(column)
    for service in status.services:
        probe = "-"
        if service.probe is not None:
            target = service.probe.url.split("//", 1)[-1]
            target = target[target.find(":"):] if ":" in target else target
            inside = " (inside)" if service.probe.via != status.probe_via else ""
            probe = f"{service.probe.status or 'no reply'} {target}{inside}"
        table.add_row(service.service, service.state, service.health or "-", probe,
                      service.problem() or "")
    return table


# -- lifecycle ----------------------------------------------------------------------------------

def render_project(config_path, out, xmpp: str | None = None):
    """`jitsictl render` (jitsictl.render.render_config_file: secrets kept or generated), then
    checks `xmpp` agrees with the config when given.

    Returns (config, secrets, ComposeProject, notes for the user)."""
    from . import render as render_mod
    from .config import ConfigError

    result = render_mod.render_config_file(config_path, out)
    if xmpp and result.config.xmpp != xmpp:
        raise ConfigError(
            "xmpp", f"{config_path} says {result.config.xmpp!r} but --xmpp is {xmpp!r}",
            f"set xmpp: {xmpp} in {config_path}, or drop --xmpp")
    return result.config, result.secrets, ComposeProject(result.out_dir), list(result.notes)


def check_ports_free(project: ComposeProject) -> None:
    """Raises before anything starts when a port the project publishes is taken by another
    program (ports this project's own containers hold are fine: `up` again replaces them)."""
    from .doctor import FAIL, port_checks

    taken = [check for check in port_checks(project) if check.status == FAIL]
    if taken:
        raise DockerError(
            "Ports the stack publishes are taken, so nothing was started: "
            + "; ".join(f"{check.name}: {check.detail}" for check in taken),
            hint="free them, or change them under ports: in jitsictl.yaml and run `jitsictl up` "
                 "again (`jitsictl doctor` checks them)")


@dataclass
class Summary:
    """Where people go once the stack runs (printed at the end of `jitsictl up`)."""

    meeting_url: str
    dashboard_url: str  # for teachers, through the web container's HTTPS
    admin_url: str  # the receiver's port on this server's loopback, for admins
    dashboard_user: str
    password_file: str
    password_key: str
    lms: dict | None = None  # auth jwt: what the LMS needs (app id, issuer, audience, secret)
    healthy: bool | None = None  # None: not waited for

    def to_dict(self) -> dict:
        return asdict(self)

    def lines(self) -> list[str]:
        lines = [
            f"meetings:    {self.meeting_url}",
            f"attendance:  {self.dashboard_url} (on this server also {self.admin_url})",
            f"             user {self.dashboard_user}, password: {self.password_key} in "
            f"{self.password_file}",
        ]
        if self.lms:
            lms = self.lms
            lines.append(f"LMS (JWT):   app id {lms['app_id']}, issuer {lms['issuer']}, audience "
                         f"{lms['audience']}; secret: {lms['secret_key']} in {lms['secret_file']}")
        return lines


def summary(config, secrets_path) -> Summary:
    from .render import ATTENDANCE_ADMIN_USER, ATTENDANCE_PATH

    site = config.effective_public_url
    lms = None
    if config.auth.type == "jwt":
        jwt = config.auth.jwt
        lms = {"app_id": jwt.app_id, "issuer": jwt.issuers[0] if jwt.issuers else jwt.app_id,
               "audience": jwt.audiences[0] if jwt.audiences else "jitsi",
               "secret_file": str(secrets_path), "secret_key": "JWT_APP_SECRET"}
    return Summary(meeting_url=f"{site}/", dashboard_url=f"{site}{ATTENDANCE_PATH}/",
                   admin_url=f"http://127.0.0.1:{config.ports.attendance}/",
                   dashboard_user=ATTENDANCE_ADMIN_USER, password_file=str(secrets_path),
                   password_key="ATTENDANCE_ADMIN_PASSWORD", lms=lms)


def openfire_url(project: ComposeProject, timeout: float = 0.0) -> str:
    """Openfire's admin URL (REST API, port 9090) at the container's address on the project
    network, waiting up to `timeout` seconds for the container to run.

    The stack does not publish 9090 on the host, so this needs a local engine (`ip` probes, see
    the module docstring); otherwise it raises with the way round.
    """
    stack = Stack(project)
    deadline = time.monotonic() + timeout
    while True:
        found = stack.containers(["openfire"]).get("openfire") or []
        running = [c for c in found if c.attrs.get("State", {}).get("Status") == "running"]
        address = _container_ip(running[0]) if running else None
        if address is not None:
            break
        if time.monotonic() >= deadline:
            raise DockerError("The openfire container is not running."
                              if timeout <= 0 else
                              f"The openfire container was not running after {timeout:.0f} s.",
                              hint="start the stack with `jitsictl up`; see `jitsictl logs openfire`")
        time.sleep(1)
    if stack.probe_via != "ip":
        raise DockerError(
            "Openfire's REST API (port 9090) is not reachable from here: the engine is remote or "
            "rootless.", hint="pass --url http://<host reaching the openfire container>:9090 "
            "where the container's network is reachable")
    return f"http://{address}:9090"


def configure_openfire(config, secrets, project: ComposeProject, timeout: float) -> list:
    """Once Openfire answers, applies the Jitsi configuration through its REST API (the same
    reconciler as `jitsictl openfire apply`, jitsictl.openfire.configure). Returns its changes."""
    from .openfire.client import OpenfireError
    from .openfire.configure import configure

    deadline = time.monotonic() + timeout
    url = openfire_url(project, timeout)
    try:
        return configure(config, secrets.values, url=url,
                         wait=max(deadline - time.monotonic(), 1.0), secrets_path=secrets.path)
    except OpenfireError as exc:
        raise DockerError(f"Configuring Openfire through its REST API failed: {exc}",
                          hint=getattr(exc, "hint", None) or "see `jitsictl logs openfire`, then "
                          "run `jitsictl openfire apply --url http://<openfire IP>:9090`") from None
