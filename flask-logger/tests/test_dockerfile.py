"""compose/logger/Dockerfile against its contract.

No image can be built here (no container registry, so no python:3.11-slim base), so the file is
tested against what compose and operators rely on: a slim Python base, a non-root user, gunicorn
via `attendance-logger serve`, a HEALTHCHECK on /healthz and a data volume. The parts that can run
here do run: the wheel the image installs is built and checked to carry the contract schema, and
the HEALTHCHECK command is executed against a real server.
"""
from __future__ import annotations

import json
import shlex
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from logger_helpers import RunningServer
from tests.support import real_components

REPO = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO / "compose" / "logger" / "Dockerfile"


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    joined, current = [], ""
    for line in DOCKERFILE.read_text().splitlines():
        stripped = line.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        current += stripped
        joined.append(current)
        current = ""
    return [(text.split(None, 1)[0].upper(), text.split(None, 1)[1] if " " in text else "") for text in joined]


def only(name: str) -> str:
    found = [args for instr, args in instructions() if instr == name]
    assert len(found) == 1, f"expected one {name}, found {found}"
    return found[0]


def env_values() -> dict:
    values = {}
    for instr, args in instructions():
        if instr == "ENV":
            for item in shlex.split(args):
                key, _, value = item.partition("=")
                values[key] = value
    return values


def test_slim_python_base():
    assert only("FROM") == "python:3.11-slim"


def test_runs_as_a_non_root_user_created_in_the_image():
    user = only("USER")
    assert user not in ("root", "0") and not user.startswith("0:")
    assert any(instr == "RUN" and "useradd" in args and user in args for instr, args in instructions())
    # The user switch comes after every install step (pip runs as root, the server does not).
    order = [instr for instr, _ in instructions()]
    assert order.index("USER") > max(i for i, instr in enumerate(order) if instr == "RUN")


def test_data_volume_holds_the_default_sqlite_database():
    assert only("VOLUME") in ("/data", '["/data"]')
    assert env_values()["ATTENDANCE_DATABASE_URL"] == "sqlite:////data/attendance.db"


def test_cmd_serves_with_gunicorn():
    cmd = json.loads(only("CMD"))
    assert cmd == ["attendance-logger", "serve"]  # serve without --dev is gunicorn


def test_build_context_is_the_repository_root():
    copies = [shlex.split(args) for instr, args in instructions() if instr == "COPY"]
    sources = {src.rstrip("/") for *srcs, _dest in copies for src in srcs}
    assert sources == {"schema", "flask-logger"}
    for source in sources:
        assert (REPO / source).is_dir(), f"COPY {source}: not in the repository root"


@pytest.mark.slow
def test_healthcheck_command_passes_against_a_real_server_and_fails_without_one(tmp_path):
    healthcheck = only("HEALTHCHECK")
    assert "/healthz" in healthcheck
    command = json.loads(healthcheck.split("CMD", 1)[1].strip())
    assert command[0] == "python"
    argv = [sys.executable, *command[1:]]
    server = RunningServer("dev", tmp_path)
    try:
        ok = subprocess.run(argv, env={"ATTENDANCE_PORT": str(server.port)}, capture_output=True, timeout=30)
        assert ok.returncode == 0, ok.stderr
    finally:
        server.stop()
    down = subprocess.run(argv, env={"ATTENDANCE_PORT": str(server.port)}, capture_output=True, timeout=30)
    assert down.returncode != 0


@pytest.mark.slow
def test_installed_package_carries_the_contract_schema(tmp_path):
    """What `pip install /src/flask-logger` puts in the image: the schema content, not a dangling link.

    The two COPY steps are replayed into a temporary /src, so the build runs on the same layout.
    """
    src = tmp_path / "src"
    shutil.copytree(REPO / "schema", src / "schema")
    shutil.copytree(REPO / "flask-logger", src / "flask-logger", symlinks=True,
                    ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__", "tests"))
    wheels = tmp_path / "wheels"
    real_components.starting("a wheel build")
    result = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels),
                             str(src / "flask-logger")], capture_output=True, text=True, timeout=240)
    if result.returncode != 0 and "Could not" in result.stderr and "setuptools" in result.stderr:
        pytest.skip("cannot fetch setuptools from PyPI to build the wheel: " + result.stderr[-300:])
    assert result.returncode == 0, result.stderr
    wheel, = wheels.glob("attendance_logger-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        schema = archive.read("attendance_logger/schema/attendance-event.v1.json")
    assert schema == (REPO / "schema" / "attendance-event.v1.json").read_bytes()
    assert "attendance_logger/migrations/versions/0001_initial.py" in names
    assert "attendance_logger/templates/meeting.html" in names
    assert "attendance_logger/static/style.css" in names


def test_build_context_sends_only_what_the_image_copies():
    """The context is the repository root (with .venv, .git, stacks); the Dockerfile's own
    ignore file lets only the copied trees through, minus tests and local databases."""
    patterns = [line.strip() for line in (DOCKERFILE.parent / "Dockerfile.dockerignore").read_text().splitlines()
                if line.strip() and not line.startswith("#")]
    assert patterns[0] == "*"
    copies = [shlex.split(args) for instr, args in instructions() if instr == "COPY"]
    sources = {src.rstrip("/") for *srcs, _dest in copies for src in srcs}
    assert {p[1:].rstrip("/") for p in patterns if p.startswith("!")} == sources
    assert "flask-logger/tests/" in patterns and "**/*.db" in patterns
