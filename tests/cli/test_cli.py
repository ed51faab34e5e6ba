"""The command line as a whole: every planned command is listed, help stays light, user mistakes
exit 2 with one readable line. (Timings are measured by bench/cli_startup.py, not asserted.)"""
from __future__ import annotations

import subprocess
import sys

import pytest

from jitsictl import __version__

from .conftest import ROOT, run_cli

PLANNED = ["init", "render", "up", "down", "status", "logs", "doctor", "token", "smoke", "users",
           "openfire"]
HEAVY = ("docker", "jinja2", "yaml", "jwt", "rich", "requests", "websockets")


def test_help_lists_every_planned_command(tmp_path):
    result = run_cli("--help", cwd=tmp_path)
    assert result.returncode == 0
    listed = result.stdout.split("Commands:", 1)[1].split("\n\n", 1)[0]
    commands = [line.split()[0] for line in listed.splitlines() if line.startswith("  ")]
    assert sorted(commands) == sorted(PLANNED)
    openfire = run_cli("openfire", "--help", cwd=tmp_path)
    assert {"plan", "apply"} <= {line.split()[0] for line in openfire.stdout.split("Commands:", 1)[1].splitlines()
                                 if line.startswith("  ")}


def test_help_imports_no_heavy_module(tmp_path):
    """What keeps `jitsictl --help` fast: the heavy libraries load only inside commands."""
    code = ("import sys; sys.argv = ['jitsictl', '--help']\n"
            "from jitsictl.cli import main\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            f"print('LOADED', sorted(m for m in {HEAVY!r} if m in sys.modules), file=sys.stderr)\n")
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True,
                            env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert "LOADED []" in result.stderr, result.stderr


def test_version(tmp_path):
    result = run_cli("--version", cwd=tmp_path)
    assert (result.returncode, result.stdout) == (0, f"jitsictl {__version__}\n")


def test_unknown_option_is_a_usage_error_not_a_traceback(tmp_path):
    result = run_cli("render", "--no-such-option", cwd=tmp_path)
    assert result.returncode == 2
    assert "No such option" in result.stderr and "Traceback" not in result.stderr


def test_unreadable_config_is_one_line_not_a_traceback(tmp_path):
    (tmp_path / "jitsictl.yaml").mkdir()  # a directory where the file should be
    result = run_cli("render", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("error: cannot use") and "Traceback" not in result.stderr


@pytest.fixture(scope="module")
def help_pages(tmp_path_factory) -> dict[str, str]:
    """`--help` of the program and of every command and subcommand."""
    tmp_path = tmp_path_factory.mktemp("help")
    pages = {"": run_cli("--help", cwd=tmp_path).stdout}
    for command in PLANNED:
        pages[command] = run_cli(command, "--help", cwd=tmp_path).stdout
    for group, subcommands in (("users", ("add", "list", "remove", "passwd")),
                               ("openfire", ("plan", "apply"))):
        for sub in subcommands:
            pages[f"{group} {sub}"] = run_cli(group, sub, "--help", cwd=tmp_path).stdout
    return pages


def test_help_speaks_the_users_language(help_pages):
    """No Python types as placeholders (`<list[str]>`) and no pointers into the code
    (`see jitsictl.stack`): a school admin reads these."""
    import re

    for command, page in help_pages.items():
        assert page.startswith("Usage: "), command
        assert not re.search(r"<(str|int|float|path|bool|list\[[a-z]+\])>", page), (command, page)
        assert "jitsictl." not in page.replace("jitsictl.yaml", "").replace("jitsictl.secrets.yaml", ""), \
            (command, page)


def test_one_exit_code_contract_in_every_help_and_the_readme(help_pages):
    from jitsictl.cli import EXIT_CODES

    flat = {command: " ".join(page.split()) for command, page in help_pages.items()}
    for command in ["", *PLANNED[:-1], "users add", "users list", "users remove", "users passwd"]:
        assert EXIT_CODES in flat[command], command
    readme = " ".join((ROOT / "README.md").read_text().split())
    assert EXIT_CODES in readme


def test_errors_under_json_are_json(tmp_path):
    """A script reading stdout gets JSON whatever went wrong (exit code 2), and a person reading
    stderr still gets the error and its hint."""
    import json

    cases = [
        ("status", "--json"),  # no rendered project
        ("users", "list", "--json"),  # no jitsictl.yaml
        ("smoke", "--json"),
        ("doctor", "--json", "--config", "broken.yaml"),
        ("status", "--json", "--no-such-option"),
    ]
    (tmp_path / "broken.yaml").write_text("domain: [unclosed\n")
    for args in cases:
        result = run_cli(*args, cwd=tmp_path)
        assert result.returncode == 2, (args, result.stdout, result.stderr)
        answer = json.loads(result.stdout)
        assert answer["ok"] is False and answer["error"], args
        assert result.stderr.startswith("error: "), args
        assert "Traceback" not in result.stderr
    plan = run_cli("openfire", "plan", "--json", "--config", "missing.yaml", cwd=tmp_path)
    assert plan.returncode == 2
    assert json.loads(plan.stdout) == {"ok": False, "error": "missing.yaml not found",
                                       "hint": "create it with `jitsictl init` (or pass --config PATH)"}


def test_the_summary_tells_an_lms_admin_where_the_secret_is(tmp_path):
    """What `up` prints last on a JWT stack (the full `up` runs in test_stack.py)."""
    from jitsictl import config as config_mod
    from jitsictl import stack

    config = config_mod.from_dict({"domain": "classes.school.example", "ports": {"https": 443},
                                   "auth": {"type": "jwt", "jwt": {"app_id": "moodle", "audiences": ["jitsi"]}}})
    lines = stack.summary(config, tmp_path / "jitsictl.secrets.yaml").lines()
    assert lines == [
        "meetings:    https://classes.school.example/",
        "attendance:  https://classes.school.example/attendance/ (on this server also http://127.0.0.1:8090/)",
        f"             user admin, password: ATTENDANCE_ADMIN_PASSWORD in {tmp_path}/jitsictl.secrets.yaml",
        f"LMS (JWT):   app id moodle, issuer moodle, audience jitsi; secret: JWT_APP_SECRET in "
        f"{tmp_path}/jitsictl.secrets.yaml",
    ]
