"""The `jitsictl` command line: a thin layer over the library modules of this package.

Heavy modules are imported inside the commands so that `jitsictl --help` stays fast.
"""
from __future__ import annotations

from typing import Optional

import typer

from . import __version__

app = typer.Typer(
    name="jitsictl",
    help="Deploy Jitsi Meet classrooms with attendance.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"jitsictl {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: Optional[bool] = typer.Option(
        None, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Deploy Jitsi Meet classrooms with attendance."""


def main() -> None:
    app()
