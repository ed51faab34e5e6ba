"""`attendance-logger` command line."""
import click

from . import __version__


@click.group()
@click.version_option(__version__, prog_name="attendance-logger")
def cli() -> None:
    """Attendance receiver for Jitsi classrooms."""


def main() -> None:
    cli()
