"""`jitsictl doctor`: checks this machine can run the stack, before `jitsictl up` finds out.

| check | fails when | what it does |
|---|---|---|
| engine | the Docker engine does not answer | pings the engine DOCKER_HOST (or the default socket) names, reports its version |
| compose | no Compose v2 command works | finds it as `jitsictl up` would (see `jitsictl.compose`), reports its version |
| port … | a port the stack publishes is taken by another program | binds it on the address the stack publishes it on. The ports are those of the rendered project (`docker compose config`: web HTTP/HTTPS, jvb UDP media, the receiver and the loopback-only admin ports) when `--out` holds one, else `ports.*` of jitsictl.yaml. A port held by this stack's own containers is fine |
| domain | the domain (and the public URL's host) does not resolve | resolves them with the system resolver |
| media (warning only) | — | reminds that JVB media needs UDP `ports.jvb_udp` open from clients, and that `jvb_advertise_ips` must hold the address clients reach (behind NAT: the public IP); a wrong value breaks calls with more than two participants |

The exit code is 1 when any check fails (warnings do not fail). `--json` prints
`{"ok": bool, "checks": [{"name", "status": ok|warn|fail, "detail", "hint"}]}`.
"""
from __future__ import annotations

import errno
import socket
from dataclasses import asdict, dataclass
from urllib.parse import urlsplit

from .compose import DockerError, compose_version, find_compose

OK, WARN, FAIL = "ok", "warn", "fail"


@dataclass
class Check:
    name: str
    status: str
    detail: str
    hint: str = ""


@dataclass
class Report:
    checks: list[Check]

    @property
    def ok(self) -> bool:
        return all(check.status != FAIL for check in self.checks)

    def to_dict(self) -> dict:
        return {"ok": self.ok, "checks": [asdict(check) for check in self.checks]}


def check_engine(env: dict[str, str] | None = None) -> tuple[Check, object | None]:
    from .stack import engine_client

    try:
        client = engine_client(env)
        version = client.version()
    except DockerError as exc:
        return Check("engine", FAIL, str(exc), exc.hint), None
    return Check("engine", OK, f"Docker engine {version.get('Version', '?')} "
                 f"({version.get('Os', '?')}/{version.get('Arch', '?')}, API "
                 f"{version.get('ApiVersion', '?')})"), client


def check_compose() -> Check:
    try:
        command = find_compose()
        version = compose_version()
    except DockerError as exc:
        return Check("compose", FAIL, str(exc), exc.hint)
    return Check("compose", OK, f"Docker Compose {version} ({' '.join(command)})")


def _published_by(client, port: int, protocol: str) -> list[tuple[str, str]]:
    """(project, container) pairs of containers that publish `port`/`protocol` on the host."""
    if client is None:
        return []
    found = []
    try:
        containers = client.containers.list()
    except Exception:
        return []
    for container in containers:
        for key, bindings in (container.ports or {}).items():
            if not key.endswith(f"/{protocol}") or not bindings:
                continue
            if any(str(binding.get("HostPort")) == str(port) for binding in bindings):
                found.append((container.labels.get("com.docker.compose.project", ""),
                              container.name))
    return found


def _port_free(port: int, protocol: str, address: str) -> bool | None:
    """True when the port can be bound, False when it is taken, None when this user may not
    bind it (ports below 1024 need root; the engine, which publishes them, has it)."""
    kind = socket.SOCK_STREAM if protocol == "tcp" else socket.SOCK_DGRAM
    with socket.socket(socket.AF_INET, kind) as sock:
        if protocol == "tcp":
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((address, port))
        except OSError as exc:
            return None if exc.errno == errno.EACCES else False
    return True


def check_port(name: str, port: int, protocol: str, address: str, client,
               project: str | None) -> Check:
    label = f"port {name}"
    free = _port_free(port, protocol, address)
    if free:
        return Check(label, OK, f"{port}/{protocol} on {address} is free")
    if free is None:
        return Check(label, WARN, f"{port}/{protocol}: not checked (binding it needs root here)",
                     "run `jitsictl doctor` as root to check ports below 1024")
    owners = _published_by(client, port, protocol)
    ours = [container for owner_project, container in owners if project and owner_project == project]
    if ours:
        return Check(label, OK, f"{port}/{protocol} is published by this stack ({', '.join(ours)})")
    if owners:
        who = ", ".join(f"{container} (project {owner or '-'})" for owner, container in owners)
        detail = f"{port}/{protocol} is published by other containers: {who}"
    else:
        detail = f"{port}/{protocol} on {address} is in use by another program"
    return Check(label, FAIL, detail,
                 "free it, or change the port in jitsictl.yaml and run `jitsictl render`")


def check_domain(domain: str, public_url: str) -> list[Check]:
    checks = []
    hosts = [("domain", domain)]
    url_host = urlsplit(public_url).hostname if public_url else None
    if url_host and url_host != domain:
        hosts.append(("public_url host", url_host))
    for what, host in hosts:
        try:
            infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
        except (socket.gaierror, UnicodeError) as exc:
            reason = exc.strerror if isinstance(exc, socket.gaierror) else str(exc)
            checks.append(Check(f"resolve {what}", FAIL, f"{host} does not resolve: {reason}",
                                "create its DNS record (A/AAAA) pointing at this server, or fix "
                                "`domain`/`public_url` in jitsictl.yaml"))
            continue
        addresses = sorted({info[4][0] for info in infos})
        checks.append(Check(f"resolve {what}", OK, f"{host} resolves to {', '.join(addresses)}"))
    return checks


def media_note(config) -> Check:
    port = config.ports.jvb_udp
    if config.jvb_advertise_ips:
        return Check("media", OK, f"JVB advertises {', '.join(config.jvb_advertise_ips)}; clients "
                     f"must reach UDP {port} there (open it in the firewall)")
    return Check("media", WARN,
                 f"jvb_advertise_ips is empty, so JVB guesses its address; clients need UDP {port} "
                 "open to this server",
                 "behind NAT or on a cloud VM set jvb_advertise_ips to the public IP clients reach "
                 "(a wrong value breaks calls with more than two participants)")


def _config_ports(config) -> list[tuple[str, int, str, str]]:
    ports = config.ports
    return [("http", ports.http, "tcp", "0.0.0.0"), ("https", ports.https, "tcp", "0.0.0.0"),
            ("attendance", ports.attendance, "tcp", "127.0.0.1"),
            ("jvb_udp", ports.jvb_udp, "udp", "0.0.0.0")]


def rendered_ports(project) -> list[tuple[str, int, str, str]]:
    """(service, host port, protocol, host address) of every port the rendered project publishes.

    Covers ports that are not in jitsictl.yaml (e.g. loopback-only admin ports)."""
    found = []
    for service, spec in sorted(project.config_json().get("services", {}).items()):
        for port in spec.get("ports") or []:
            published = str(port.get("published") or "")
            if published.isdigit():
                found.append((service, int(published), port.get("protocol", "tcp"),
                              port.get("host_ip") or "0.0.0.0"))
    return found


def run(config, *, project=None, env: dict[str, str] | None = None) -> Report:
    """Every check, in the order a person would fix them. `project`: the rendered ComposeProject,
    when there is one (its published ports are checked, and its own containers may hold them)."""
    engine, client = check_engine(env)
    compose = check_compose()
    checks = [engine, compose]
    ports, project_name = _config_ports(config), None
    if project is not None and compose.status == OK:
        try:
            ports = [(f"{service} {port}/{protocol}", port, protocol, address)
                     for service, port, protocol, address in rendered_ports(project)]
            project_name = project.project_name()
        except DockerError as exc:
            checks.append(Check("rendered project", FAIL, str(exc), exc.hint))
    for name, port, protocol, address in ports:
        checks.append(check_port(name, port, protocol, address, client, project_name))
    checks += check_domain(config.domain, config.public_url)
    checks.append(media_note(config))
    if client is not None:
        client.close()
    return Report(checks)


def run_for(config_path, out) -> Report:
    """`run` for the CLI: jitsictl.yaml when it exists (else the defaults), the project in `out`."""
    from pathlib import Path

    from . import config as config_mod
    from .compose import COMPOSE_FILE, ComposeProject

    path = Path(config_path)
    config = config_mod.load(path) if path.exists() else config_mod.Config()
    project = ComposeProject(Path(out)) if (Path(out) / COMPOSE_FILE).is_file() else None
    return run(config, project=project)
