"""`jitsictl doctor`: checks this machine can run the stack, before `jitsictl up` finds out.

| check | fails when | what it does |
|---|---|---|
| config (warning only) | — | says when there is no jitsictl.yaml (the defaults are checked; `jitsictl up` wants one) |
| engine | the Docker engine does not answer | pings the engine DOCKER_HOST (or the default socket) names, reports its version |
| compose | no Compose v2 command works | finds it as `jitsictl up` would (see `jitsictl.compose`), reports its version |
| images / registry … | an image the stack needs is neither in the engine nor reachable | looks each image up in the engine; for those missing, asks their registry's `/v2/` endpoint (HTTPS; plain HTTP for localhost registries, as Docker does). The hint gives the air-gapped route: `docker save` where a registry is reachable, `docker load` here |
| port … | a port the stack publishes is taken by another program | binds it on the address the stack publishes it on. The ports are those of the rendered project (`docker compose config`: web HTTP/HTTPS, jvb UDP media, the receiver) when `--out` holds one, else `ports.*` of jitsictl.yaml. A port held by this stack's own containers is fine |
| domain | the domain (and the public URL's host) does not resolve | resolves them with the system resolver; warns when the domain is `localhost` (only this machine could join) |
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
    if domain == "localhost" or domain.endswith(".localhost"):
        checks.append(Check("domain", WARN, f"the domain is {domain}: only this server itself "
                            "could join meetings and reach the attendance dashboard",
                            "set domain (and public_url) in jitsictl.yaml to the server's public "
                            "DNS name, then `jitsictl up`"))
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


def port_checks(project, client=None) -> list[Check]:
    """One check per port the rendered project publishes (`jitsictl up` runs these first)."""
    own_client = client is None
    if own_client:
        try:
            from .stack import engine_client

            client = engine_client(project.env)
        except DockerError:
            client = None  # without an engine no container can hold a port
    try:
        name = project.project_name()
        return [check_port(f"{service} {port}/{protocol}", port, protocol, address, client, name)
                for service, port, protocol, address in rendered_ports(project)]
    finally:
        if own_client and client is not None:
            client.close()


# -- images and registries ----------------------------------------------------------------------

AIR_GAPPED = ("without registry access here, bring the images in: where a registry is reachable, "
              "`docker pull` each image listed, then `docker save IMAGE... | gzip > "
              "jitsi-images.tar.gz`; copy the file here and `docker load -i jitsi-images.tar.gz`. "
              "Images jitsictl builds (logger, openfire) also need PyPI or Maven Central while "
              "building: build them there with `jitsictl render` and `docker compose build`, and "
              "save them too")


def images_needed(config) -> list[tuple[str, str | None]]:
    """(image, local image that makes it unnecessary) for each image `up` may pull:
    docker-jitsi-meet's, and the bases of the images jitsictl builds, needed only while those
    are not built yet (their content-addressed tags are not in the engine)."""
    from . import sources
    from .render import image_tags

    repository, version = config.images.repository, config.images.version
    xmpp = ["prosody"] if config.xmpp == "prosody" else []
    needed = [(f"{repository}/{name}:{version}", None) for name in ("web", *xmpp, "jicofo", "jvb")]
    tags = image_tags(config)
    for service in ["logger"] + (["openfire"] if config.xmpp == "openfire" else []):
        dockerfile = sources.require(sources.BUILD_CONTEXTS[service].dockerfile).read_text()
        needed += [(base, tags[service]) for base in dockerfile_bases(
            dockerfile, {"OPENFIRE_IMAGE": config.images.openfire})]
    return needed


def dockerfile_bases(text: str, args: dict[str, str]) -> list[str]:
    """The registry images a Dockerfile starts FROM (ARG defaults and `args` filled in; stages
    it builds itself left out)."""
    import re

    values, stages, bases = {}, set(), []
    for line in text.splitlines():
        words = line.split()
        if len(words) >= 2 and words[0].upper() == "ARG" and not stages and not bases:
            name, _, default = words[1].partition("=")
            values[name] = args.get(name, default)
        elif len(words) >= 2 and words[0].upper() == "FROM":
            image = re.sub(r"\$\{?(\w+)\}?", lambda m: values.get(m.group(1), ""), words[1])
            if image not in stages and image != "scratch":
                bases.append(image)
            if len(words) >= 4 and words[2].upper() == "AS":
                stages.add(words[3])
    return bases


def registry_of(image: str) -> str:
    """The registry host an image reference is pulled from (Docker's rule: a first path part
    with a dot or a colon, or `localhost`, names one; otherwise Docker Hub)."""
    first, slash, _ = image.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost"):
        return first
    return "docker.io"


def registry_answers(host: str, timeout: float = 5.0) -> tuple[bool, str]:
    """Whether the registry's API answers (any HTTP status: 401 is the usual one)."""
    import http.client

    api = "registry-1.docker.io" if host == "docker.io" else host
    name = api.rsplit(":", 1)[0] if api.count(":") == 1 else api
    schemes = ["https"] + (["http"] if name in ("localhost", "127.0.0.1", "::1") else [])
    reason = ""
    for scheme in schemes:
        connection_class = (http.client.HTTPSConnection if scheme == "https"
                            else http.client.HTTPConnection)
        connection = connection_class(api, timeout=timeout)
        try:
            connection.request("GET", "/v2/", headers={"User-Agent": "jitsictl-doctor"})
            return True, f"{scheme}://{api}/v2/ answered HTTP {connection.getresponse().status}"
        except (OSError, http.client.HTTPException) as exc:
            reason = f"{scheme}://{api}/v2/: {getattr(exc, 'strerror', None) or exc or type(exc).__name__}"
        finally:
            connection.close()
    return False, reason


def check_images(config, client) -> list[Check]:
    needed = images_needed(config)
    missing: dict[str, list[str]] = {}
    for image, built in needed:
        if not _present(client, built or image):
            missing.setdefault(registry_of(image), []).append(image)
    if not missing:
        return [Check("images", OK, f"every image the stack needs is in the engine ({len(needed)})")]
    checks = []
    for host, images in sorted(missing.items()):
        reachable, detail = registry_answers(host)
        listed = ", ".join(images)
        if reachable:
            checks.append(Check(f"registry {host}", OK, f"{detail}; to pull: {listed}"))
        else:
            checks.append(Check(f"registry {host}", FAIL, f"unreachable ({detail}); not in the "
                                f"engine: {listed}", AIR_GAPPED))
    return checks


def _present(client, image: str) -> bool:
    if client is None:
        return False
    try:
        client.images.get(image)
        return True
    except Exception:  # ImageNotFound, or an engine error (then the engine check says so)
        return False


def run(config, *, project=None, env: dict[str, str] | None = None,
        config_found: bool = True) -> Report:
    """Every check, in the order a person would fix them. `project`: the rendered ComposeProject,
    when there is one (its published ports are checked, and its own containers may hold them)."""
    checks = [] if config_found else [Check(
        "config", WARN, "no jitsictl.yaml here: checking the defaults",
        "create it with `jitsictl init` (or pass --config PATH)")]
    engine, client = check_engine(env)
    compose = check_compose()
    checks += [engine, compose]
    if client is not None:
        checks += check_images(config, client)
    if project is not None and compose.status == OK:
        try:
            checks += port_checks(project, client)
        except DockerError as exc:
            checks.append(Check("rendered project", FAIL, str(exc), exc.hint))
    else:
        checks += [check_port(name, port, protocol, address, client, None)
                   for name, port, protocol, address in _config_ports(config)]
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
    return run(config, project=project, config_found=path.exists())
