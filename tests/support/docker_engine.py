"""A real Docker engine for tests, and locally built stand-in images for the stack's services.

`start_engine()` starts Debian's `dockerd` with its own data root, exec root and socket in a short
temporary directory (unix socket paths are limited to 107 bytes), so it never touches a system
engine nor leaves state behind. It runs with `--bridge=none --iptables=false`: no default
`docker0` bridge and no host firewall changes; Compose's user-defined bridge networks still work,
published ports are served by docker-proxy and container IPs are routable from the host.

No container registry is reachable, so images start from a Debian bookworm minbase root file
system made with `debootstrap` (plus python3) from the mirror apt uses, imported with
`docker import`. debootstrap takes a minute or more, so its tarball is cached under
`$JITSICTL_TEST_CACHE` (default `~/.cache/jitsictl-tests`) and reused by later runs.

The stand-in images (`tests/docker/standin/`) are NOT Jitsi: they only answer the HTTP health
endpoints of the roles they stand in for, so that `jitsictl up/status/down` can be tested against
a real engine and the real Compose binary.
"""
from __future__ import annotations

import fcntl
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from tests.support import real_components
REPO = Path(__file__).resolve().parents[2]
STANDIN_CONTEXT = REPO / "tests" / "docker" / "standin"
OPENFIRE_STANDIN_CONTEXT = REPO / "tests" / "docker" / "standin-openfire"
OPENFIRE_FAKE = REPO / "tests" / "openfire" / "fake_restapi.py"  # the REST API plugin's contract fake
BASE_IMAGE = "jitsictl-test/standin-base:bookworm"
STANDIN_REPOSITORY = "jitsictl-test"  # stand-in images are <repository>/<service>:<STANDIN_TAG>
STANDIN_TAG = "standin"
STANDIN_ROLES = ("web", "prosody", "jicofo", "jvb", "logger")

DEFAULT_MIRROR = "http://deb.debian.org/debian"
# Not needed to answer HTTP from a container: dropped to keep the cached tarball and import small.
_SLIM_PATHS = ("var/cache/apt/archives", "var/lib/apt/lists", "usr/share/doc", "usr/share/man",
               "usr/share/locale", "usr/share/info")


class EngineUnavailable(Exception):
    """dockerd (or the base image) cannot be had on this machine; the message says why."""


@dataclass
class DockerEngine:
    directory: Path
    process: subprocess.Popen
    log_path: Path
    storage_driver: str
    _client: object = field(default=None, repr=False)

    @property
    def host(self) -> str:
        return f"unix://{self.directory / 'docker.sock'}"

    def env(self) -> dict[str, str]:
        """Environment for subprocesses (jitsictl, compose) that must talk to this engine."""
        return {"DOCKER_HOST": self.host}

    def client(self):
        import docker

        if self._client is None:
            self._client = docker.DockerClient(base_url=self.host, timeout=120)
        return self._client

    def log_tail(self, lines: int = 30) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        if self._client is not None:
            self._client.close()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        # Container layers may hold mounts under the data root until dockerd is gone.
        shutil.rmtree(self.directory, ignore_errors=True)


def _ping(socket_path: Path) -> bool:
    import docker

    try:
        client = docker.DockerClient(base_url=f"unix://{socket_path}", timeout=3)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except Exception:
        return False


def _start(directory: Path, storage_driver: str | None, timeout: float) -> DockerEngine:
    real_components.starting("dockerd")
    log_path = directory / "dockerd.log"
    command = [
        "dockerd",
        "--host", f"unix://{directory / 'docker.sock'}",
        "--data-root", str(directory / "data"),
        "--exec-root", str(directory / "x"),
        "--pidfile", str(directory / "dockerd.pid"),
        "--bridge=none", "--iptables=false", "--ip-masq=false",
    ]
    if storage_driver:
        command.append(f"--storage-driver={storage_driver}")
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    engine = DockerEngine(directory, process, log_path, storage_driver or "default")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        if _ping(directory / "docker.sock"):
            return engine
        time.sleep(0.2)
    tail = engine.log_tail()
    if process.poll() is None:
        process.kill()
        process.wait(timeout=10)
    raise EngineUnavailable(f"dockerd ({storage_driver or 'default storage'}) did not become "
                            f"ready within {timeout:.0f} s; its log ends:\n{tail}")


def start_engine(timeout: float = 40) -> DockerEngine:
    """Starts a private dockerd; tries overlay2 first, then vfs (works on any file system)."""
    if shutil.which("dockerd") is None:
        raise EngineUnavailable("dockerd is not installed (Debian package docker.io; "
                                "scripts/install-system-deps installs it)")
    if os.geteuid() != 0:
        raise EngineUnavailable("dockerd needs root here (rootless Docker is not set up)")
    errors = []
    for driver in (None, "vfs"):
        directory = Path(tempfile.mkdtemp(prefix="jtd-", dir="/tmp"))
        try:
            return _start(directory, driver, timeout)
        except EngineUnavailable as exc:
            errors.append(str(exc))
            shutil.rmtree(directory, ignore_errors=True)
    raise EngineUnavailable("\n\n".join(errors))


# -- base image -------------------------------------------------------------------------------

def cache_dir() -> Path:
    path = Path(os.environ.get("JITSICTL_TEST_CACHE", Path.home() / ".cache" / "jitsictl-tests"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def apt_mirror() -> str:
    """The Debian mirror apt on this machine uses, so debootstrap works where apt works."""
    sources = [Path("/etc/apt/sources.list.d/debian.sources"), Path("/etc/apt/sources.list")]
    for path in sources:
        if not path.is_file():
            continue
        text = path.read_text(errors="replace")
        match = (re.search(r"^URIs:\s*(\S+/debian)/?\s*$", text, re.M)
                 or re.search(r"^deb\s+(?:\[[^]]*\]\s+)?(\S+/debian)/?\s+bookworm\b", text, re.M))
        if match:
            return match.group(1)
    return DEFAULT_MIRROR


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def base_tarball() -> Path:
    """The cached debootstrap root file system tarball, made on first use."""
    if shutil.which("debootstrap") is None:
        raise EngineUnavailable("debootstrap is not installed (scripts/install-system-deps "
                                "installs it)")
    cache = cache_dir()
    tarball = cache / "bookworm-minbase-python3.tar.gz"
    with _locked(cache / "debootstrap.lock"):
        if tarball.is_file():
            return tarball
        work = Path(tempfile.mkdtemp(prefix="jitsictl-debootstrap-"))
        root = work / "root"
        try:
            result = subprocess.run(
                ["debootstrap", "--variant=minbase", "--include=python3", "bookworm", str(root),
                 apt_mirror()],
                capture_output=True, text=True, timeout=1200)
            if result.returncode != 0:
                tail = "\n".join((result.stdout + result.stderr).splitlines()[-20:])
                raise EngineUnavailable(f"debootstrap failed (exit {result.returncode}):\n{tail}")
            for relative in _SLIM_PATHS:
                target = root / relative
                if target.is_dir():
                    shutil.rmtree(target)
                    target.mkdir()
            partial = tarball.with_suffix(".partial")
            subprocess.run(f"tar -C {root} -c . | gzip -1 > {partial}", shell=True, check=True)
            partial.rename(tarball)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return tarball


def import_base_image(engine: DockerEngine) -> str:
    client = engine.client()
    with open(base_tarball(), "rb") as data:
        client.api.import_image_from_data(data.read(), repository=BASE_IMAGE.split(":")[0],
                                          tag=BASE_IMAGE.split(":")[1])
    return BASE_IMAGE


def standin_image(role: str) -> str:
    return f"{STANDIN_REPOSITORY}/{role}:{STANDIN_TAG}"


def build_standin_images(engine: DockerEngine) -> dict[str, str]:
    """Builds one stand-in image per role from tests/docker/standin; returns role -> image."""
    import_base_image(engine)
    client = engine.client()
    images = {}
    for role in STANDIN_ROLES:
        tag = standin_image(role)
        client.images.build(path=str(STANDIN_CONTEXT), tag=tag, network_mode="host", rm=True,
                            buildargs={"BASE": BASE_IMAGE, "ROLE": role})
        images[role] = tag
    images["openfire"] = _build_openfire_standin(client)
    return images


def _build_openfire_standin(client) -> str:
    """The Openfire stand-in serves the REST API contract fake, which lives with the Openfire
    tests: both go into a temporary build context."""
    tag = standin_image("openfire")
    with tempfile.TemporaryDirectory(prefix="jitsictl-openfire-standin-") as context:
        for source in (*OPENFIRE_STANDIN_CONTEXT.iterdir(), OPENFIRE_FAKE):
            shutil.copy(source, Path(context) / source.name)
        client.images.build(path=context, tag=tag, network_mode="host", rm=True,
                            buildargs={"BASE": BASE_IMAGE})
    return tag


# -- pytest fixture ---------------------------------------------------------------------------

def _engine_fixture():
    import pytest

    @pytest.fixture(scope="session")
    def docker_engine():
        """A private dockerd with the stand-in images built; skips (saying why) where dockerd
        cannot start. Session-scoped: starting it and importing the base costs seconds."""
        try:
            engine = start_engine()
        except EngineUnavailable as exc:
            pytest.skip(f"Docker engine cannot start here: {exc}")
        try:
            try:
                build_standin_images(engine)
            except EngineUnavailable as exc:
                pytest.skip(f"no base image for the stand-ins: {exc}")
            yield engine
        finally:
            engine.stop()

    return docker_engine


docker_engine = _engine_fixture()
