"""jitsictl.sources: what a build context sends (its .dockerignore, read with Docker's rules) and
the content-addressed tags of the images jitsictl builds. (That Compose sends exactly these files
is checked against the real Compose and engine in test_stack.py.)"""
from __future__ import annotations

import shutil
from pathlib import Path

from jitsictl import sources

from .conftest import ROOT

LOGGER = sources.BUILD_CONTEXTS["logger"]
OPENFIRE = sources.BUILD_CONTEXTS["openfire"]

# A checkout with the clutter a working copy has: caches, build outputs, tests, databases.
TREE = (
    "schema/attendance-event.v1.json", "schema/examples/signing.json",
    "flask-logger/pyproject.toml", "flask-logger/attendance_logger/api.py",
    "flask-logger/attendance_logger/__pycache__/api.cpython-311.pyc",
    "flask-logger/tests/test_api.py", "flask-logger/build/lib/attendance_logger/api.py",
    "flask-logger/attendance_logger.egg-info/PKG-INFO", "flask-logger/attendance.db",
    "openfire-plugin/pom.xml", "openfire-plugin/src/main/java/Plugin.java",
    "openfire-plugin/src/main/java/Plugin.class", "openfire-plugin/target/plugin.jar",
    "compose/openfire/jitsictl-entrypoint.sh", "compose/openfire/README.md",
    "README.md", ".venv/bin/python", "stack/.env",
)
SENT = {
    "logger": ["flask-logger/attendance_logger/api.py", "flask-logger/pyproject.toml",
               "schema/attendance-event.v1.json", "schema/examples/signing.json"],
    "openfire": ["compose/openfire/jitsictl-entrypoint.sh", "openfire-plugin/pom.xml",
                 "openfire-plugin/src/main/java/Plugin.java"],
}


def cluttered_tree(base: Path) -> Path:
    for relative in TREE:
        (base / relative).parent.mkdir(parents=True, exist_ok=True)
        (base / relative).write_text(f"contents of {relative}\n")
    for context in (LOGGER, OPENFIRE):
        for relative in (context.dockerfile, context.ignore_file):
            (base / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(ROOT / relative, base / relative)
    return base


def test_a_context_sends_what_its_dockerignore_lets_through(tmp_path):
    base = cluttered_tree(tmp_path)
    assert sources.context_files(LOGGER, base) == SENT["logger"]
    assert sources.context_files(OPENFIRE, base) == SENT["openfire"]


def test_the_tag_follows_the_sources_the_build_uses_and_nothing_else(tmp_path):
    base = cluttered_tree(tmp_path)
    tag = sources.content_tag(LOGGER, base=base)
    assert len(tag) == 16 and int(tag, 16) >= 0
    (base / "flask-logger/tests/test_api.py").write_text("a changed test\n")
    (base / "README.md").write_text("a changed readme\n")
    assert sources.content_tag(LOGGER, base=base) == tag  # not in the context
    (base / "flask-logger/attendance_logger/api.py").write_text("changed code\n")
    changed = sources.content_tag(LOGGER, base=base)
    assert changed != tag
    (base / "flask-logger/attendance_logger/new.py").write_text("")
    added = sources.content_tag(LOGGER, base=base)
    assert added not in (tag, changed)  # a new file counts
    (base / LOGGER.dockerfile).write_text((ROOT / LOGGER.dockerfile).read_text() + "\n# changed\n")
    assert sources.content_tag(LOGGER, base=base) not in (tag, changed, added)
    openfire = sources.content_tag(OPENFIRE, {"OPENFIRE_IMAGE": "a:1"}, base=base)
    assert sources.content_tag(OPENFIRE, {"OPENFIRE_IMAGE": "a:2"}, base=base) != openfire


def test_the_files_a_wheel_carries_are_what_render_and_up_read(tmp_path):
    files = sources.runtime_files(ROOT)
    assert "templates/docker-compose.yml.j2" in files and "templates/web/attendance.conf.j2" in files
    assert {"prosody-plugin/mod_presence_logger.lua", "prosody-plugin/mod_token_moderators.lua",
            "prosody-plugin/presence_logger/identity.lib.lua"} <= set(files)
    assert set(sources.context_files(LOGGER, ROOT)) <= set(files)
    assert set(sources.context_files(OPENFIRE, ROOT)) <= set(files)
    assert not any(f.startswith(("prosody-plugin/spec/", "flask-logger/tests/", "tests/", "jitsictl/"))
                   for f in files)
    copied = sources.copy_tree(ROOT, tmp_path / "_sources")
    assert copied == files
    # A copy gives the same tags as the checkout, so an installed jitsictl builds the same images.
    for context in (LOGGER, OPENFIRE):
        assert sources.content_tag(context, base=tmp_path / "_sources") == sources.content_tag(context, base=ROOT)
    # The receiver's schema link becomes the file it points to (a wheel holds no links).
    schema = tmp_path / "_sources/flask-logger/attendance_logger/schema/attendance-event.v1.json"
    assert not schema.is_symlink() and schema.read_bytes() == (ROOT / "schema/attendance-event.v1.json").read_bytes()
