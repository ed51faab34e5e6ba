"""The ${CONFIG} tree: container-writable storage, stale files removed when the XMPP server
changes, and a usable error when the source checkout is incomplete."""
from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from jitsictl import config as config_mod
from jitsictl import render as render_mod
from jitsictl import secrets as secrets_mod

from .conftest import ROOT, write_project


def render_project(tmp_path, data):
    config_path = write_project(tmp_path, data)
    config = config_mod.load(config_path)
    secrets = secrets_mod.ensure(secrets_mod.path_for(config_path), config)
    return render_mod.render(config, secrets, tmp_path / "stack")


@pytest.mark.parametrize("xmpp", ["prosody", "openfire"])
def test_storage_dirs_are_writable_by_the_container_users(tmp_path, xmpp):
    """stable-11146 images run as uid 1000 and refuse to start unless their volumes are writable;
    the receiver runs as uid 10001 (compose/logger/Dockerfile)."""
    result = render_project(tmp_path, {"domain": "meet.example.org", "xmpp": xmpp})
    expected = render_mod.WRITABLE_DIRS[xmpp]
    assert f"storage/{xmpp}" in expected and expected["storage/logger"] == 10001
    for relative, uid in expected.items():
        info = os.stat(result.out_dir / "config" / relative)
        if os.geteuid() == 0:
            assert (info.st_uid, info.st_gid) == (uid, uid), relative
            assert stat.S_IMODE(info.st_mode) == 0o755, relative
        else:  # cannot chown: world-writable, and the render says so
            assert stat.S_IMODE(info.st_mode) == 0o777, relative
            assert any("0777" in note for note in result.notes)


def test_switching_xmpp_removes_the_other_servers_files(tmp_path):
    first = render_project(tmp_path, {"domain": "meet.example.org", "xmpp": "openfire"})
    nginx = first.out_dir / "config/web/nginx-custom/jitsictl-openfire.conf"
    assert nginx.exists()
    second = render_project(tmp_path, {"domain": "meet.example.org", "xmpp": "prosody"})
    # Left in place, the snippet would route the web client to an Openfire that is not there.
    assert not nginx.exists()
    assert not (first.out_dir / "config/openfire/conf/openfire.xml").exists()
    assert (second.out_dir / "config/prosody/prosody-plugins-custom/mod_presence_logger.lua").exists()
    third = render_project(tmp_path, {"domain": "meet.example.org", "xmpp": "openfire"})
    assert not (third.out_dir / "config/prosody/prosody-plugins-custom/mod_presence_logger.lua").exists()


def test_container_data_is_never_touched(tmp_path):
    first = render_project(tmp_path, {"domain": "meet.example.org"})
    data = first.out_dir / "config/storage/prosody/data/muc.meet.jitsi/state.dat"
    data.parent.mkdir(parents=True)
    data.write_text("prosody's")
    render_project(tmp_path, {"domain": "meet.example.org", "xmpp": "openfire"})
    assert data.read_text() == "prosody's"


def test_missing_secret_is_a_config_error(tmp_path):
    config = config_mod.from_dict({"domain": "meet.example.org"})
    incomplete = secrets_mod.Secrets(values={"JVB_AUTH_PASSWORD": "x" * 32}, path=tmp_path / "s.yaml")
    with pytest.raises(config_mod.ConfigError) as caught:
        render_mod.render(config, incomplete, tmp_path / "stack")
    assert "JICOFO_AUTH_PASSWORD" in str(caught.value) and "jitsictl render" in str(caught.value)


def test_prosody_options_survive_docker_jitsi_meets_split():
    """docker-jitsi-meet turns GLOBAL_CONFIG into lines by splitting on a literal backslash-n."""
    config = config_mod.from_dict({"attendance": {"claims": ["courseid", "groupid", "cohort"]}})
    lines = render_mod.prosody_global_config(config).split("\\n")
    assert lines == [
        'presence_logger_url = "http://logger:8080/v1/events"',
        'presence_logger_secret = "${ATTENDANCE_WEBHOOK_SECRET:?missing in .env - run jitsictl render}"',
        'presence_logger_claims = { "courseid"; "groupid"; "cohort" }',
    ]


def test_database_url_from_the_secrets_file_stays_out_of_the_compose_file(tmp_path):
    from .conftest import compose_config

    config_path = write_project(tmp_path, {"domain": "meet.example.org"})
    secrets_path = secrets_mod.path_for(config_path)
    values, _ = secrets_mod.read(secrets_path)
    url = "postgresql+psycopg://attendance:s3cret-pw@db.example.org:5432/attendance?sslmode=require"
    secrets_mod.write(secrets_path, {**values, "ATTENDANCE_DATABASE_URL": url})
    config = config_mod.load(config_path)
    out = render_mod.render(config, secrets_mod.ensure(secrets_path, config), tmp_path / "stack").out_dir
    assert "s3cret-pw" not in (out / "docker-compose.yml").read_text()
    assert compose_config(out)["services"]["logger"]["environment"]["ATTENDANCE_DATABASE_URL"] == url


def test_unwritable_output_is_a_user_error(tmp_path):
    from .conftest import run_cli

    write_project(tmp_path, {"domain": "meet.example.org"})
    (tmp_path / "occupied").write_text("a file, not a directory")
    result = run_cli("render", "--out", "occupied/stack", cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("error: --out: cannot write") and "Traceback" not in result.stderr


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to run the render as other users")
@pytest.mark.parametrize("uid,expected", [
    (65534, {"storage/prosody": 0o777, "storage/logger": 0o777}),  # neither root nor a container user
    (1000, {"storage/prosody": 0o755, "storage/logger": 0o777}),   # the Jitsi images' user itself
])
def test_render_as_an_unprivileged_user(uid, expected):
    """Without root, chown is impossible: directories another uid must write become 0777."""
    # pytest's tmp_path lives under a 0700 directory the other user could not enter.
    tmp_path = Path(tempfile.mkdtemp(prefix="jitsictl-render-uid-"))
    os.chmod(tmp_path, 0o755)
    try:
        _render_as(uid, expected, tmp_path, ROOT)
    finally:
        shutil.rmtree(tmp_path)


def _render_as(uid, expected, tmp_path, root):
    write_project(tmp_path, {"domain": "meet.example.org"})
    for path in (tmp_path, *tmp_path.iterdir()):
        os.chown(path, uid, uid)
    result = subprocess.run(
        ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", sys.executable, "-m", "jitsictl",
         "render"], cwd=tmp_path, capture_output=True, text=True, timeout=60, env={**os.environ, "PYTHONPATH": str(root)})
    assert result.returncode == 0, result.stderr
    assert "note: container storage directories are mode 0777" in result.stderr
    for relative, mode in expected.items():
        info = os.stat(tmp_path / "stack/config" / relative)
        assert (stat.S_IMODE(info.st_mode), info.st_uid) == (mode, uid), relative
    assert stat.S_IMODE(os.stat(tmp_path / "stack/.env").st_mode) == 0o600


def test_an_incomplete_installation_is_explained(tmp_path, monkeypatch):
    from jitsictl import sources

    incomplete = tmp_path / "installed"
    shutil.copytree(sources.root() / "templates", incomplete / "templates")
    monkeypatch.setattr(sources, "root", lambda: incomplete)
    with pytest.raises(sources.SourcesMissing) as caught:
        render_project(tmp_path, {"domain": "meet.example.org"})
    assert str(caught.value).startswith(str(incomplete)) and str(caught.value).endswith(" is missing")
    assert "reinstall jitsictl" in caught.value.hint
    result = run_cli_with(tmp_path, monkeypatch)
    assert result.exit_code == 2 and "hint: reinstall jitsictl" in result.stderr


def run_cli_with(tmp_path, monkeypatch):
    """`jitsictl render` in this process (the patched sources stay in effect)."""
    from typer.testing import CliRunner

    from jitsictl.cli import app

    monkeypatch.chdir(tmp_path)
    return CliRunner().invoke(app, ["render"])
