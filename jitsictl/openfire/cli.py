"""`jitsictl openfire plan|apply`: configure a running Openfire through its REST API.

Registered under the main CLI (jitsictl/cli.py). Module-level imports stay light: the REST
client (requests) and the config loader are imported inside the commands.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

app = typer.Typer(
    name="openfire",
    help="Configure Openfire for Jitsi through its REST API (users, MUC services, brewery, properties).",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)

_CONFIG = typer.Option(Path("jitsictl.yaml"), "--config", "-c", envvar="JITSICTL_CONFIG", metavar="FILE",
                       help="Path of jitsictl.yaml; the secrets file sits beside it.")
_URL = typer.Option(None, "--url", envvar="JITSICTL_OPENFIRE_URL", metavar="URL",
                    help="Openfire admin URL (default http://127.0.0.1:9090), e.g. http://<container-ip>:9090.")
_SECRET = typer.Option(None, "--secret", envvar="JITSICTL_OPENFIRE_SECRET", show_default=False, metavar="SECRET",
                       help="REST API secret to authenticate with (default: OPENFIRE_RESTAPI_SECRET of the "
                            "secrets file; give the previous one to rotate it). Prefer the environment variable.")
_JSON = typer.Option(False, "--json", help="Print JSON instead of lines.")
_TIMEOUT = typer.Option(10.0, "--timeout", metavar="SECONDS", help="Seconds per HTTP request.")
_WAIT = typer.Option(0.0, "--wait", metavar="SECONDS", help="Seconds to wait for Openfire's readiness first (0: don't wait).")


def _run(config_path: Path, url: Optional[str], secret: Optional[str], timeout: float, wait: float,
         dry_run: bool):
    from .. import config as config_mod
    from .. import secrets as secrets_mod
    from .configure import DEFAULT_URL, configure

    from .client import OpenfireError

    config = config_mod.load(config_path)
    secrets_path = secrets_mod.path_for(config_path)
    values, _ = secrets_mod.read(secrets_path)
    try:
        return configure(config, values, url=url or DEFAULT_URL, secret=secret, timeout=timeout,
                         wait=wait, dry_run=dry_run, secrets_path=secrets_path)
    except OpenfireError as exc:
        if url is None and exc.status is None:
            # the rendered stack keeps 9090 on its internal network only
            exc.hint = ("the stack does not publish Openfire's port 9090 on this host: pass "
                        "--url http://<openfire container IP>:9090 (docker inspect -f "
                        "'{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' <container>)")
        raise


def _print(changes, *, as_json: bool, applied: bool) -> None:
    if as_json:
        typer.echo(json.dumps({"applied": applied, "changes": [c.to_dict() for c in changes]}, indent=2))
        return
    if not changes:
        typer.echo("no changes" if not applied else "no changes (Openfire already matches)")
        return
    marks = {"create": "+", "update": "~"}
    for change in changes:
        typer.echo(f"{marks.get(change.action, '*')} {change}")
    verb = "applied" if applied else "to apply; run `jitsictl openfire apply`"
    typer.echo(f"{len(changes)} change{'s' if len(changes) != 1 else ''} {verb}")


@app.command()
def plan(config_path: Path = _CONFIG, url: Optional[str] = _URL, secret: Optional[str] = _SECRET,
         as_json: bool = _JSON, timeout: float = _TIMEOUT, wait: float = _WAIT) -> None:
    """Show what `apply` would change (read-only). Exit code 0 whether or not there are changes."""
    _print(_run(config_path, url, secret, timeout, wait, dry_run=True), as_json=as_json, applied=False)


@app.command()
def apply(config_path: Path = _CONFIG, url: Optional[str] = _URL, secret: Optional[str] = _SECRET,
          as_json: bool = _JSON, timeout: float = _TIMEOUT, wait: float = _WAIT) -> None:
    """Make Openfire match jitsictl.yaml and the secrets file; running it again changes nothing."""
    _print(_run(config_path, url, secret, timeout, wait, dry_run=False), as_json=as_json, applied=True)
