"""The command line as a whole: every planned command is listed, help stays light, user mistakes
exit 2 with one readable line. (Timings are measured by bench/cli_startup.py, not asserted.)"""
from __future__ import annotations

import subprocess
import sys

from jitsictl import __version__

from .conftest import ROOT, run_cli

PLANNED = ["init", "render", "up", "down", "status", "logs", "doctor", "token", "smoke", "openfire"]
HEAVY = ("docker", "jinja2", "yaml", "jwt", "rich", "requests", "websockets")


def test_help_lists_every_planned_command(tmp_path):
    result = run_cli("--help", cwd=tmp_path)
    assert result.returncode == 0
    listed = result.stdout.split("Commands:", 1)[1]
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
