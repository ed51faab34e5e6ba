"""The secrets file: generated once with enough entropy, mode 0600, kept across renders, rotated
only on request (with restart advice), never printed."""
from __future__ import annotations

import base64
import os
import stat

import pytest

from jitsictl import config as config_mod
from jitsictl import render as render_mod
from jitsictl import secrets as secrets_mod

from .conftest import run_cli, write_project


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_generated_once_strong_and_private(tmp_path):
    config = config_mod.from_dict({"auth": {"type": "jwt", "jwt": {"app_id": "app"}}, "xmpp": "prosody"})
    path = tmp_path / secrets_mod.SECRETS_FILENAME
    first = secrets_mod.ensure(path, config)
    assert mode(path) == 0o600
    assert sorted(first.created) == sorted(secrets_mod.required_names(config))
    assert "JWT_APP_SECRET" in first.values and "OPENFIRE_ADMIN_PASSWORD" not in first.values
    for name, value in first.values.items():
        if name == "ATTENDANCE_WEBHOOK_SECRET":
            assert value.startswith("whsec_")
            assert len(base64.b64decode(value[len("whsec_"):], validate=True)) == 32
        else:
            assert len(bytes.fromhex(value)) >= 16, name  # >= 128 bits
    assert len(set(first.values.values())) == len(first.values)  # never reused
    second = secrets_mod.ensure(path, config)
    assert second.values == first.values and second.created == []
    assert repr(first).count(first.values["JVB_AUTH_PASSWORD"]) == 0


def test_switching_to_openfire_adds_only_the_missing_secrets(tmp_path):
    path = tmp_path / secrets_mod.SECRETS_FILENAME
    prosody = secrets_mod.ensure(path, config_mod.from_dict({}))
    openfire = secrets_mod.ensure(path, config_mod.from_dict({"xmpp": "openfire"}))
    assert sorted(openfire.created) == ["OPENFIRE_ADMIN_PASSWORD", "OPENFIRE_RESTAPI_SECRET"]
    assert all(openfire.values[name] == value for name, value in prosody.values.items())


def test_world_readable_file_is_repaired_and_flagged(tmp_path):
    path = tmp_path / secrets_mod.SECRETS_FILENAME
    secrets_mod.ensure(path, config_mod.from_dict({}))
    os.chmod(path, 0o644)
    loaded = secrets_mod.ensure(path, config_mod.from_dict({}))
    assert loaded.repaired_mode and mode(path) == 0o600


def test_malformed_line_is_reported_without_its_content(tmp_path):
    path = tmp_path / secrets_mod.SECRETS_FILENAME
    path.write_text('JVB_AUTH_PASSWORD: "ok"\nJICOFO_AUTH_PASSWORD = s3cr3t-value\n')
    os.chmod(path, 0o600)
    with pytest.raises(secrets_mod.SecretsError) as caught:
        secrets_mod.read(path)
    assert ":2" in str(caught.value) and "s3cr3t-value" not in str(caught.value)


def test_render_keeps_secrets_and_rotation_replaces_them(tmp_path):
    config_path = write_project(tmp_path, {"domain": "meet.example.org"}, fixed_secrets=False)
    first = run_cli("render", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    secrets_path = secrets_mod.path_for(config_path)
    before, _ = secrets_mod.read(secrets_path)
    env_before = (tmp_path / "stack" / ".env").read_bytes()
    again = run_cli("render", cwd=tmp_path)
    assert again.returncode == 0
    assert secrets_mod.read(secrets_path)[0] == before
    assert (tmp_path / "stack" / ".env").read_bytes() == env_before

    # A Prosody account registered with the old password must be re-created with the new one.
    accounts = tmp_path / "stack/config/storage/prosody/data/auth%2emeet%2ejitsi/accounts"
    accounts.mkdir(parents=True)
    (accounts / "focus.dat").write_text("old")
    (accounts / "someone.dat").write_text("keep")
    rotated = run_cli("render", "--rotate-secrets", cwd=tmp_path)
    assert rotated.returncode == 0, rotated.stderr
    after, _ = secrets_mod.read(secrets_path)
    assert set(after) == set(before) and all(after[n] != before[n] for n in before)
    assert "restart: jicofo, jvb, logger, prosody" in rotated.stdout
    assert not (accounts / "focus.dat").exists() and (accounts / "someone.dat").exists()
    env_after = (tmp_path / "stack" / ".env").read_text()
    assert all(f"{name}={value}" in env_after for name, value in after.items())
    for output in (first.stdout + first.stderr, rotated.stdout + rotated.stderr):
        assert not any(value in output for value in list(before.values()) + list(after.values()))


def test_env_and_secrets_files_are_0600_whatever_the_umask(tmp_path):
    old = os.umask(0o000)
    try:
        config_path = write_project(tmp_path, {"domain": "meet.example.org", "xmpp": "openfire"},
                                    fixed_secrets=False)
        config = config_mod.load(config_path)
        secrets = secrets_mod.ensure(secrets_mod.path_for(config_path), config)
        out = render_mod.render(config, secrets, tmp_path / "stack").out_dir
    finally:
        os.umask(old)
    assert mode(secrets_mod.path_for(config_path)) == 0o600
    assert mode(out / ".env") == 0o600
    assert mode(out / "config/openfire/conf/openfire.xml") == 0o600
    assert mode(out / "docker-compose.yml") == 0o644


def test_rotation_keeps_the_previous_openfire_api_secret_for_one_apply(tmp_path):
    """Openfire checks API calls against the secret in its database until the new one is applied."""
    config = config_mod.from_dict({"xmpp": "openfire"})
    path = tmp_path / secrets_mod.SECRETS_FILENAME
    before = secrets_mod.ensure(path, config).values
    after, rotation = secrets_mod.rotate(path, config)
    assert after.values["PREVIOUS_OPENFIRE_RESTAPI_SECRET"] == before["OPENFIRE_RESTAPI_SECRET"]
    assert after.values["OPENFIRE_RESTAPI_SECRET"] != before["OPENFIRE_RESTAPI_SECRET"]
    assert rotation.services == ["jicofo", "jvb", "logger", "openfire"]
    assert any("jitsictl openfire apply" in note for note in rotation.notes)
    assert not any(value in " ".join(rotation.notes) for value in after.values.values())
    out = render_mod.render(config, after, tmp_path / "stack").out_dir
    assert "PREVIOUS_" not in (out / ".env").read_text()  # only what the services use


def _rendered_site(tmp_path):
    config_path = write_project(tmp_path, {"domain": "meet.example.org", "auth": {
        "type": "jwt", "jwt": {"app_id": "moodle"}}}, fixed_secrets=False)
    assert run_cli("render", cwd=tmp_path).returncode == 0
    path = secrets_mod.path_for(config_path)
    return path, secrets_mod.read(path)[0], (tmp_path / "stack" / ".env").read_bytes()


@pytest.mark.parametrize("damage", ["moved away", "one line deleted", "one value changed"])
def test_render_never_changes_the_secrets_of_a_rendered_stack_unasked(tmp_path, damage):
    path, before, env_before = _rendered_site(tmp_path)
    if damage == "moved away":
        path.rename(tmp_path / "elsewhere.yaml")
    elif damage == "one line deleted":
        secrets_mod.write(path, {k: v for k, v in before.items() if k != "JWT_APP_SECRET"})
    else:
        secrets_mod.write(path, {**before, "JICOFO_AUTH_PASSWORD": "0" * 32})
    result = run_cli("render", cwd=tmp_path)
    assert result.returncode == 2, result.stdout
    assert (tmp_path / "stack" / ".env").read_bytes() == env_before  # nothing rewritten
    message = " ".join(result.stderr.split())
    what = {"moved away": "is missing", "one line deleted": "lacks JWT_APP_SECRET",
            "one value changed": "holds other values than the stack in"}[damage]
    assert f"error: {path}: {what}" in message
    assert "rendering would change secrets the stack uses" in message
    if damage != "one value changed":
        assert "JWT_APP_SECRET: every token your LMS issues would be refused" in message
    assert "restore jitsictl.secrets.yaml from a backup" in message and "stack/.env" in message
    assert "`jitsictl render --rotate-secrets` to replace them on purpose" in message
    assert not any(value in result.stdout + result.stderr for value in before.values())
    if damage == "moved away":
        assert not path.exists()  # not silently regenerated either

    rotated = run_cli("render", "--rotate-secrets", cwd=tmp_path)  # on purpose: allowed
    assert rotated.returncode == 0, rotated.stderr
    assert secrets_mod.read(path)[0]["JWT_APP_SECRET"] != before["JWT_APP_SECRET"]


def test_a_first_render_and_new_secrets_of_a_new_feature_are_still_generated(tmp_path):
    config_path = write_project(tmp_path, {"domain": "meet.example.org"}, fixed_secrets=False)
    assert not secrets_mod.path_for(config_path).exists()
    assert run_cli("render", cwd=tmp_path).returncode == 0  # first render: generated
    before = secrets_mod.read(secrets_mod.path_for(config_path))[0]
    write_project(tmp_path, {"domain": "meet.example.org", "xmpp": "openfire"}, fixed_secrets=False)
    switched = run_cli("render", cwd=tmp_path)
    assert switched.returncode == 0, switched.stderr  # Openfire's secrets are new, the rest kept
    after = secrets_mod.read(secrets_mod.path_for(config_path))[0]
    assert {k: after[k] for k in before} == before and "OPENFIRE_RESTAPI_SECRET" in after
