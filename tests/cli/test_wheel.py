"""Installable like a tool: a wheel built from this checkout, installed in a fresh virtual
environment outside it, renders both stacks, and the real `docker compose config` accepts them.

The wheel is built the way pip builds it for `pip install .` / `pipx install .` (PEP 517, in an
isolated build environment: setuptools from PyPI). Its dependencies come from PyPI (or pip's
configured find-links), as for a user.
"""
from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from jitsictl import sources
from jitsictl.config import DEFAULT_OPENFIRE_IMAGE

from .conftest import ROOT, compose_binary

pytestmark = pytest.mark.slow


def run(*command, cwd: Path, env: dict | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    result = subprocess.run([str(part) for part in command], cwd=cwd, capture_output=True, text=True,
                            timeout=timeout, env=env)
    assert result.returncode == 0, f"{command}:\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}"
    return result


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(venv, wheel) with jitsictl installed from a freshly built wheel."""
    work = tmp_path_factory.mktemp("wheel")
    assert not work.is_relative_to(ROOT)
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--wheel-dir", work / "dist", ROOT, cwd=work)
    [wheel] = (work / "dist").glob("jitsictl-*.whl")
    run(sys.executable, "-m", "venv", work / "venv", cwd=work)
    run(work / "venv/bin/pip", "install", "--quiet", "--disable-pip-version-check", wheel, cwd=work)
    return work / "venv", wheel


def clean_env(venv: Path) -> dict:
    """No trace of the checkout: neither PYTHONPATH nor its virtual environment."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "JITSICTL_CONFIG")}
    env["PATH"] = f"{venv / 'bin'}:/usr/bin:/bin"
    return env


def test_the_wheel_carries_what_render_and_up_read(installed):
    _, wheel = installed
    names = set(zipfile.ZipFile(wheel).namelist())
    carried = {name.removeprefix("jitsictl/_sources/") for name in names
               if name.startswith("jitsictl/_sources/")}
    assert carried == set(sources.runtime_files(sources.CHECKOUT))
    assert "jitsictl/cli.py" in names and not any(name.startswith("tests/") for name in names)


@pytest.mark.parametrize("xmpp", ["prosody", "openfire"])
def test_installed_jitsictl_renders_a_stack_compose_accepts(installed, tmp_path, xmpp):
    venv, _ = installed
    env = clean_env(venv)
    jitsictl = venv / "bin" / "jitsictl"
    where = run(venv / "bin/python", "-c", "import jitsictl.sources as s; print(s.root())", cwd=tmp_path, env=env)
    root = Path(where.stdout.strip())
    assert root.is_relative_to(venv) and root.name == "_sources", root

    run(jitsictl, "init", "--non-interactive", "--domain", "meet.example.org", "--xmpp", xmpp,
        cwd=tmp_path, env=env)
    rendered = run(jitsictl, "render", cwd=tmp_path, env=env)
    assert rendered.stdout.startswith("rendered ")
    model = run(compose_binary(), "--project-directory", tmp_path / "stack", "config", "--format", "json",
                cwd=tmp_path, env={k: v for k, v in env.items() if not k.startswith(("COMPOSE_", "DOCKER_"))})
    import json

    services = json.loads(model.stdout)["services"]
    built = ["logger"] + (["openfire"] if xmpp == "openfire" else [])
    for service in built:
        build = services[service]["build"]
        assert Path(build["context"]) == root
        assert (root / build["dockerfile"]).is_file()
        context = sources.BUILD_CONTEXTS[service]
        # The installed copy is tagged as the checkout is: the same sources, the same image.
        assert services[service]["image"].split(":")[1] == sources.content_tag(
            context, {"OPENFIRE_IMAGE": DEFAULT_OPENFIRE_IMAGE} if service == "openfire" else None,
            base=sources.CHECKOUT)
        for relative in sources.context_files(context, root):
            assert (root / relative).is_file()
    if xmpp == "prosody":
        plugins = tmp_path / "stack/config/prosody/prosody-plugins-custom"
        assert (plugins / "mod_presence_logger.lua").is_file() and (plugins / "mod_token_moderators.lua").is_file()
    else:
        assert (tmp_path / "stack/config/openfire/conf/openfire.xml").is_file()
    assert (tmp_path / "stack/config/web/nginx-custom/jitsictl-attendance.conf").is_file()
