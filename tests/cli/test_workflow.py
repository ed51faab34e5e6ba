""".github/workflows/stack.yml cannot run here (it needs container registries): every jitsictl
command line it runs is parsed here by the real command line, so an option it uses cannot go
missing unnoticed, and the recipe is the one the issue asks for, for both XMPP servers."""
from __future__ import annotations

import shlex

import typer.main
import yaml

from jitsictl.cli import app

from .conftest import ROOT

WORKFLOW = ROOT / ".github" / "workflows" / "stack.yml"


def command_lines() -> dict[str, list[list[str]]]:
    """xmpp -> the jitsictl command lines of its job, in order, with the matrix filled in."""
    job = yaml.safe_load(WORKFLOW.read_text())["jobs"]["stack"]
    found = {}
    for entry in job["strategy"]["matrix"]["include"]:
        lines = []
        for step in job["steps"]:
            script = step.get("run", "")
            for key, value in entry.items():
                script = script.replace("${{ matrix.%s }}" % key, value)
            for line in script.splitlines():
                words = shlex.split(line.split("||")[0], comments=True)
                if words and words[0] == "jitsictl":
                    lines.append(words[1:])
        found[entry["xmpp"]] = lines
    return found


def parses(words: list[str]) -> None:
    """Parse a command line as jitsictl would, without running it (raises on a bad option)."""
    command = typer.main.get_command(app)
    context = command.make_context("jitsictl", list(words), resilient_parsing=False)
    while hasattr(command, "get_command"):
        # A group keeps what follows its own options for the subcommand.
        name, *rest = [*getattr(context, "_protected_args", []), *context.args]
        command = command.get_command(context, name)
        assert command is not None, f"no command {name}"
        context = command.make_context(name, rest, parent=context)


def test_the_workflow_runs_the_recipe_for_both_xmpp_servers():
    lines = command_lines()
    assert set(lines) == {"prosody", "openfire"}
    for xmpp, commands in lines.items():
        assert commands[0][:2] == ["init", "--non-interactive"] and "--xmpp" in commands[0]
        assert ["up", "--xmpp", xmpp, "--wait", "--timeout", "900"] in commands
        assert ["smoke", "--participants", "5"] in commands
        assert commands[-1] == ["down", "--volumes"]
        assert commands.index(["smoke", "--participants", "5"]) > commands.index(
            ["up", "--xmpp", xmpp, "--wait", "--timeout", "900"])


def test_every_jitsictl_line_of_the_workflow_parses():
    for commands in command_lines().values():
        for words in commands:
            parses(words)
