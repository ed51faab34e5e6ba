"""compose/openfire: the Dockerfile cannot be built in CI (no container registry for the Openfire
base image, no igniterealtime Maven repository, no GitHub), so it is checked against its contract:
the official image's layout (ghcr.io/igniterealtime/openfire: data in /var/lib/openfire, user
plugins copied from /opt/plugins/*.jar by /sbin/entrypoint.sh, conf_org copied into an empty data
volume — igniterealtime/Openfire build/docker/entrypoint.sh), a pinned v5 base, the REST API
plugin built from the pinned commit (the clone-and-verify step runs for real against a local git
repository), no secret in the image. The entrypoint wrapper runs for real against a temporary
volume layout. compose/openfire/README.md records the full build done by hand."""
from __future__ import annotations

import os
import re
import shlex
import subprocess
from pathlib import Path

import pytest

from jitsictl.config import DEFAULT_OPENFIRE_IMAGE

ROOT = Path(__file__).resolve().parents[2]
CONTEXT = ROOT / "compose" / "openfire"
DOCKERFILE = CONTEXT / "Dockerfile"
ENTRYPOINT = CONTEXT / "jitsictl-entrypoint.sh"


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    out, pending = [], ""
    for line in text.splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        full = (pending + stripped).strip()
        pending = ""
        keyword, _, rest = full.partition(" ")
        out.append((keyword.upper(), rest.strip()))
    assert not pending, "dangling line continuation"
    return out


@pytest.fixture(scope="module")
def steps():
    return instructions(DOCKERFILE.read_text())


def _stages(steps):
    stages, current = [], None
    for keyword, args in steps:
        if keyword == "FROM":
            current = {"from": args, "steps": []}
            stages.append(current)
        elif current is not None:
            current["steps"].append((keyword, args))
    return stages


def _global_args(steps) -> dict[str, str]:
    args = {}
    for keyword, value in steps:
        if keyword == "FROM":
            break
        if keyword == "ARG":
            name, _, default = value.partition("=")
            args[name] = default
    return args


def test_base_is_the_pinned_official_openfire_5_image(steps):
    args = _global_args(steps)
    final = _stages(steps)[-1]
    assert final["from"] == "${OPENFIRE_IMAGE}"
    image = args["OPENFIRE_IMAGE"]
    assert re.fullmatch(r"ghcr\.io/igniterealtime/openfire:v5\.\d+\.\d+", image), image
    # one pin for the project: the config default and the Dockerfile default agree
    assert image == DEFAULT_OPENFIRE_IMAGE


RESTAPI_COMMIT = "8bcd65c1edfcd2abff2d8b14a0d693b5049dfb55"  # v1.12.0 (ARCHITECTURE.md §10)


def _stage_args(stage) -> dict[str, str]:
    return {a.partition("=")[0]: a.partition("=")[2] for k, a in stage["steps"] if k == "ARG"}


def test_builds_with_every_builder():
    """No BuildKit-only syntax: Debian's docker.io has no buildx, `# syntax=` needs Docker Hub,
    and the classic builder rejects COPY --chmod, RUN --mount and git sources in ADD."""
    text = DOCKERFILE.read_text()
    assert not re.search(r"(?im)^#\s*syntax\s*=", text)
    for keyword, args in instructions(text):
        assert keyword != "ADD", args
        assert "--chmod" not in args and "--mount" not in args and "<<" not in args, args


def test_plugins_go_to_opt_plugins_under_the_names_openfire_expects(steps):
    final = _stages(steps)[-1]["steps"]
    copies = [args for keyword, args in final if keyword == "COPY" and "--from=plugins" in args]
    assert copies == ["--from=plugins /out/restAPI.jar /out/attendance.jar /opt/plugins/"]


def test_restapi_plugin_is_pinned_to_the_reviewed_commit(steps):
    builder = _stages(steps)[0]
    assert builder["from"] == "${MAVEN_IMAGE} AS plugins"
    args = _stage_args(builder)
    assert args["RESTAPI_COMMIT"] == RESTAPI_COMMIT
    assert args["RESTAPI_TAG"] == "v1.12.0"
    assert args["RESTAPI_GIT"] == "https://github.com/igniterealtime/openfire-restAPI-plugin.git"
    assert args["MAVEN_MIRROR"] == ""


def test_every_maven_run_is_batch_mode_with_strict_checksums(steps):
    runs = [args for keyword, args in _stages(steps)[0]["steps"] if keyword == "RUN"]
    calls = [call for run in runs for call in re.findall(r"\bmvn\b[^&;|]*", run)]
    assert len(calls) == 2, calls  # the REST API plugin, then ours
    for call in calls:
        words = call.split()
        assert "-B" in words and "-C" in words, call


@pytest.fixture
def restapi_repo(tmp_path):
    """A git repository standing in for the REST API plugin's, with its tag v1.12.0."""
    repo = tmp_path / "restapi.git"
    repo.mkdir()

    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.org",
                               *args], check=True, capture_output=True, text=True).stdout.strip()

    git("init", "-q", "-b", "main")
    (repo / "pom.xml").write_text("<project/>")
    git("add", "pom.xml")
    git("commit", "-qm", "v1.12.0")
    git("tag", "v1.12.0")
    return repo, git


def _run_clone_step(steps, tmp_path, url: str, commit: str):
    """The Dockerfile's own clone-verify-build step, run by bash, with `mvn` replaced by a stub
    that records its arguments and /out relocated into tmp_path."""
    [script] = [args for keyword, args in _stages(steps)[0]["steps"]
                if keyword == "RUN" and " clone " in args]
    bin_dir, work, out = tmp_path / "bin", tmp_path / "work", tmp_path / "out"
    for path in (bin_dir, work, out):
        path.mkdir(exist_ok=True)
    (bin_dir / "mvn").write_text('#!/bin/sh\necho "$@" >> "$MVN_LOG"\nmkdir -p target\n'
                                 'echo jar > target/restAPI-openfire-plugin-assembly.jar\n')
    (bin_dir / "mvn").chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "MVN_LOG": str(tmp_path / "mvn.log"),
           "RESTAPI_GIT": url, "RESTAPI_TAG": "v1.12.0", "RESTAPI_COMMIT": commit}
    result = subprocess.run(["bash", "-ec", script.replace("/out/", f"{out}/")], cwd=work, env=env,
                            capture_output=True, text=True, timeout=60)
    return result, out


def test_clone_step_builds_the_pinned_commit(steps, tmp_path, restapi_repo):
    repo, git = restapi_repo
    result, out = _run_clone_step(steps, tmp_path, f"file://{repo}", git("rev-parse", "HEAD"))
    assert result.returncode == 0, result.stderr
    assert (out / "restAPI.jar").read_text() == "jar\n"
    assert (tmp_path / "mvn.log").read_text().split() == [
        "-B", "-C", "-ntp", "-Dmaven.test.skip=true", "package"]


def test_clone_step_refuses_a_moved_tag(steps, tmp_path, restapi_repo):
    """A mirror (or an attacker) serving other code under the same tag: nothing is built."""
    repo, git = restapi_repo
    pinned = git("rev-parse", "HEAD")
    (repo / "pom.xml").write_text("<project><!-- changed --></project>")
    git("commit", "-qam", "other code")
    git("tag", "-f", "v1.12.0")
    result, out = _run_clone_step(steps, tmp_path, f"file://{repo}", pinned)
    assert result.returncode == 1
    assert f"is commit {git('rev-parse', 'HEAD')}, not the pinned {pinned}: refusing" in result.stderr
    assert not (tmp_path / "mvn.log").exists() and not (out / "restAPI.jar").exists()


def test_attendance_plugin_is_built_from_the_checkout_by_maven(steps):
    builder = _stages(steps)[0]
    assert ("COPY", "openfire-plugin/ attendance/") in builder["steps"]
    [run] = [args for keyword, args in builder["steps"] if keyword == "RUN" and "cd attendance" in args]
    assert "-openfire-plugin-assembly.jar /out/attendance.jar" in run


def test_no_secret_is_baked_in(steps):
    for keyword, args in steps:
        if keyword in ("ENV", "ARG", "LABEL"):
            assert not re.search(r"(?i)(secret|password|token)\s*=", args), args
        if keyword in ("COPY", "ADD"):
            assert "openfire.xml" not in args and "secrets" not in args and "stack/" not in args, args
    # the seed is a run-time mount (see templates/docker-compose.yml.j2), not part of the image
    assert not any("/opt/jitsictl" in args for _, args in steps)


def test_entrypoint_wraps_the_stock_one(steps):
    final = _stages(steps)[-1]["steps"]
    assert ("ENTRYPOINT", '["/bin/bash", "/usr/local/bin/jitsictl-entrypoint.sh"]') in final
    assert ("COPY", "compose/openfire/jitsictl-entrypoint.sh /usr/local/bin/jitsictl-entrypoint.sh") in final
    script = ENTRYPOINT.read_text()
    assert '"${JITSICTL_STOCK_ENTRYPOINT:-/sbin/entrypoint.sh}"' in script
    assert os.access(ENTRYPOINT, os.X_OK)


def test_context_filter_sends_only_what_the_dockerfile_copies(steps):
    lines = [l.strip() for l in (CONTEXT / "Dockerfile.dockerignore").read_text().splitlines()
             if l.strip() and not l.startswith("#")]
    assert lines[0] == "*"
    included = {l[1:].rstrip("/") for l in lines if l.startswith("!")}
    sources = set()
    for keyword, args in steps:
        if keyword == "COPY" and "--from=" not in args:
            sources.update(p.rstrip("/") for p in shlex.split(args)[:-1] if not p.startswith("--"))
    assert sources == included
    assert "openfire-plugin/target/" in lines  # local build outputs never enter the image


def test_compose_template_uses_this_build_and_the_seed_path():
    """The rendered compose file (templates/) must match this image's contract."""
    from jitsictl.render import OPENFIRE_SEED_XML

    template = (ROOT / "templates" / "docker-compose.yml.j2").read_text()
    assert "dockerfile: compose/openfire/Dockerfile" in template
    assert "OPENFIRE_IMAGE:" in template
    assert OPENFIRE_SEED_XML == "/opt/jitsictl/openfire.xml"
    assert '"${JITSICTL_OPENFIRE_SEED:-/opt/jitsictl/openfire.xml}"' in ENTRYPOINT.read_text()
    assert "/var/lib/openfire" in template


# -- the entrypoint wrapper, run for real -------------------------------------------------------

# What Openfire's stock entrypoint does that ours relies on (igniterealtime/Openfire v5.0.3
# build/docker/entrypoint.sh): on an empty volume copy conf_org/ to conf/, copy /opt/plugins/*.jar
# with `cp -n`, then run the command it was given, or Openfire when given none (or only options).
FAKE_STOCK_ENTRYPOINT = """#!/bin/bash
set -e
echo "stock: $*" >> "$OPENFIRE_DATA_DIR/../calls.log"
if [[ ! -d "$OPENFIRE_DATA_DIR/conf" ]]; then cp -a "$OPENFIRE_DIR/conf_org" "$OPENFIRE_DATA_DIR/conf"; fi
mkdir -p "$OPENFIRE_DATA_DIR/plugins"
for jar in "$JITSICTL_PLUGINS_DIR"/*.jar; do [ -f "$jar" ] && cp -n "$jar" "$OPENFIRE_DATA_DIR/plugins/"; done
if [[ -n "$1" && "${1:0:1}" != "-" ]]; then exec "$@"; fi
echo "openfire: $*" >> "$OPENFIRE_DATA_DIR/../calls.log"
"""
REST_SECRET = "0f1e2d3c4b5a69788796a5b4c3d2e1f0aa55aa55"


@pytest.fixture
def layout(tmp_path):
    """The image's directories, relocated: OPENFIRE_DIR with conf_org, an empty data volume,
    /opt/plugins, the mounted seed (rendered by jitsictl) and a fake of the stock entrypoint."""
    from jitsictl.openfire.render import render_openfire_xml

    home = tmp_path / "usr-local-openfire"
    (home / "conf_org").mkdir(parents=True)
    (home / "conf_org" / "openfire.xml").write_text("<jive><stock/></jive>")
    data = tmp_path / "var-lib-openfire"
    data.mkdir()
    plugins = tmp_path / "opt-plugins"
    plugins.mkdir()
    (plugins / "attendance.jar").write_bytes(b"attendance v2")
    seed = tmp_path / "seed.xml"
    seed.write_text(render_openfire_xml(domain="meet.jitsi", fqdn="xmpp.meet.jitsi", admin_email="a@example.org",
                                        admin_password="admin-password-value", restapi_secret=REST_SECRET,
                                        users=[("focus", "focus-password-value")]))
    seed.chmod(0o600)
    stock = tmp_path / "stock-entrypoint.sh"
    stock.write_text(FAKE_STOCK_ENTRYPOINT)
    stock.chmod(0o755)
    import getpass
    env = {**os.environ, "OPENFIRE_DIR": str(home), "OPENFIRE_DATA_DIR": str(data),
           "OPENFIRE_USER": getpass.getuser(), "JITSICTL_OPENFIRE_SEED": str(seed),
           "JITSICTL_PLUGINS_DIR": str(plugins), "JITSICTL_STOCK_ENTRYPOINT": str(stock)}
    return {"home": home, "data": data, "plugins": plugins, "seed": seed, "env": env, "root": tmp_path}


def _run(layout, *args):
    result = subprocess.run(["bash", str(ENTRYPOINT), *args], env=layout["env"], capture_output=True,
                            text=True, timeout=30)
    for secret in (REST_SECRET, "admin-password-value", "focus-password-value"):
        assert secret not in result.stdout + result.stderr
    return result


def _calls(layout) -> list[str]:
    return (layout["root"] / "calls.log").read_text().splitlines()


def _after_setup(layout, *, database_row: bool = True, autosetup_left: bool = False) -> Path:
    """The volume as Openfire leaves it after its first boot: conf/openfire.xml without
    <autosetup> (XMPPServer.initialize deletes it after runAutoSetup), with <setup>true</setup>,
    and the embedded database's script holding the copied properties."""
    conf = layout["data"] / "conf"
    conf.mkdir(parents=True, exist_ok=True)
    text = layout["seed"].read_text()
    if not autosetup_left:
        text = re.sub(r"\s*<autosetup>.*</autosetup>", "", text, flags=re.S)
    text = text.replace("</jive>", "    <setup>true</setup>\n</jive>")
    (conf / "openfire.xml").write_text(text)
    db = layout["data"] / "embedded-db"
    db.mkdir(exist_ok=True)
    rows = ["INSERT INTO OFPROPERTY VALUES('plugin.restapi.enabled','true',0,NULL)"]
    if database_row:
        rows.append(f"INSERT INTO OFPROPERTY VALUES('plugin.restapi.secret','{REST_SECRET}',0,NULL)")
    (db / "openfire.script").write_text("\n".join(rows) + "\n")
    return conf / "openfire.xml"


def test_first_boot_seeds_the_volume_and_leaves_conf_org_alone(layout):
    result = _run(layout, "-debug")
    assert result.returncode == 0, result.stderr
    conf = layout["data"] / "conf" / "openfire.xml"
    assert conf.read_text() == layout["seed"].read_text()
    assert oct(conf.stat().st_mode & 0o777) == "0o600"
    # no copy of the seed (admin, focus, REST secrets) in the image's own directories
    assert (layout["home"] / "conf_org" / "openfire.xml").read_text() == "<jive><stock/></jive>"
    assert _calls(layout) == ["stock: true", "stock: -debug", "openfire: -debug"]


def test_embedded_database_lives_in_the_volume(layout):
    """Openfire's EmbeddedConnectionProvider uses $OPENFIRE_DIR/embedded-db, which the stock
    entrypoint leaves in the container: found on a real Openfire 5.0.3 container, whose database
    was lost with the container while conf/ in the volume said the setup was done."""
    database = layout["home"] / "embedded-db"
    database.mkdir()
    (database / "openfire.script").write_text("INSERT INTO OFVERSION VALUES('openfire',35)\n")
    assert _run(layout).returncode == 0
    assert database.is_symlink() and database.resolve() == (layout["data"] / "embedded-db").resolve()
    assert (layout["data"] / "embedded-db" / "openfire.script").read_text().startswith("INSERT INTO OFVERSION")
    assert _run(layout).returncode == 0 and database.is_symlink()  # later boots keep the link


def test_later_boots_leave_the_configured_volume_alone(layout):
    (layout["data"] / "conf").mkdir()
    (layout["data"] / "conf" / "openfire.xml").write_text("<jive><configured/></jive>")
    result = _run(layout)
    assert result.returncode == 0, result.stderr
    assert (layout["data"] / "conf" / "openfire.xml").read_text() == "<jive><configured/></jive>"


def test_boot_after_setup_removes_the_rest_secret_the_database_holds(layout):
    conf = _after_setup(layout)
    result = _run(layout)
    assert result.returncode == 0, result.stderr
    assert "removed the REST API secret from conf/openfire.xml" in result.stdout
    text = conf.read_text()
    assert REST_SECRET not in text and "<secret>" not in text
    # everything else stays, the plugin switched on with shared-secret auth
    assert "<enabled>true</enabled>" in text and "<httpAuth>secret</httpAuth>" in text
    assert "<setup>true</setup>" in text and "EmbeddedConnectionProvider" in text
    assert _run(layout).returncode == 0 and conf.read_text() == text  # idempotent


def test_secret_stays_until_the_database_holds_it(layout):
    """A crash right after setup can leave the last rows in HSQLDB's unwritten buffer: without
    the row in the database the file's copy is the only one."""
    conf = _after_setup(layout, database_row=False)
    result = _run(layout)
    assert result.returncode == 0
    assert REST_SECRET in conf.read_text()
    assert "keeps the REST API secret until Openfire's database holds it" in result.stderr
    (layout["data"] / "embedded-db" / "openfire.log").write_text(
        f"INSERT INTO OFPROPERTY VALUES('plugin.restapi.secret','{REST_SECRET}',0,NULL)\n")
    assert _run(layout).returncode == 0 and REST_SECRET not in conf.read_text()


def test_interrupted_setup_keeps_everything(layout):
    """<autosetup> still there: Openfire has not finished copying properties into its database."""
    conf = _after_setup(layout, autosetup_left=True)
    before = conf.read_text()
    assert _run(layout).returncode == 0
    assert conf.read_text() == before


def test_missing_seed_is_reported_and_not_fatal(layout):
    layout["seed"].unlink()
    result = _run(layout)
    assert result.returncode == 0
    assert "setup wizard" in result.stderr


def test_changed_plugin_jars_are_replaced_unchanged_ones_untouched(layout):
    volume_plugins = layout["data"] / "plugins"
    volume_plugins.mkdir()
    (volume_plugins / "attendance.jar").write_bytes(b"attendance v1")
    (layout["plugins"] / "restAPI.jar").write_bytes(b"rest")
    (volume_plugins / "restAPI.jar").write_bytes(b"rest")
    before = (volume_plugins / "restAPI.jar").stat().st_mtime_ns
    result = _run(layout)
    assert result.returncode == 0, result.stderr
    assert (volume_plugins / "attendance.jar").read_bytes() == b"attendance v2"
    assert "attendance.jar replaced" in result.stdout
    assert (volume_plugins / "restAPI.jar").stat().st_mtime_ns == before


def test_missing_image_environment_fails_loudly(layout):
    env = dict(layout["env"])
    del env["OPENFIRE_DATA_DIR"]
    result = subprocess.run(["bash", str(ENTRYPOINT)], env=env, capture_output=True, text=True, timeout=30)
    assert result.returncode != 0 and "OPENFIRE_DATA_DIR" in result.stderr
