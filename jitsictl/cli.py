"""The `jitsictl` command line: a thin layer over the library modules of this package.

Each command parses options, calls one library function and prints its result; the work lives in
`jitsictl.config`, `jitsictl.secrets`, `jitsictl.render`, `jitsictl.token` (and, from the other
sections below, `jitsictl.stack`, `jitsictl.doctor`, `jitsictl.smoke`, `jitsictl.openfire`).
Heavy modules (docker, jinja2, yaml, jwt, rich) are imported inside the commands so that
`jitsictl --help` stays fast (see bench/cli_startup.py).

User mistakes (`ConfigError` and subclasses, `UsageError`, any exception with a `hint`, and
unusable paths) are printed by the root command group (`_Commands`) as one line on stderr plus a
hint, exit code 2, never a traceback; that covers every command, including those added below.
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import List, Optional

import typer
from typer.core import TyperGroup

from . import __version__


class UsageError(Exception):
    """A user mistake outside the config file; printed as one line plus the hint."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.hint = hint


class _Commands(TyperGroup):
    """Turns user mistakes raised by any command into one line on stderr, exit code 2."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except Exception as exc:  # noqa: BLE001 - bugs are re-raised with their traceback
            if isinstance(exc, OSError) and exc.filename and not _is_user_error(exc):
                # A path we cannot read or write (permissions, a file where a directory should
                # be): the environment, not a bug.
                _err(f"error: cannot use {exc.filename}: {exc.strerror or exc}")
                _err("hint: check the path and its permissions")
                raise typer.Exit(code=2) from None
            if not _is_user_error(exc):
                raise
            _err(f"error: {exc}")
            hint = getattr(exc, "hint", "")
            if hint and not hasattr(exc, "key"):  # ConfigError carries its hint in its text
                _err(f"hint: {hint}")
            raise typer.Exit(code=2) from None


def _is_user_error(exc: BaseException) -> bool:
    from .config import ConfigError

    return isinstance(exc, (ConfigError, UsageError)) or bool(getattr(exc, "hint", None))


app = typer.Typer(
    cls=_Commands,
    name="jitsictl",
    help="Deploy Jitsi Meet classrooms with attendance.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)

CONFIG_OPTION = typer.Option(
    Path("jitsictl.yaml"), "--config", "-c", envvar="JITSICTL_CONFIG",
    help="Path of jitsictl.yaml; the secrets file sits beside it.",
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


def _err(message: str) -> None:
    typer.echo(message, err=True)


# ============================================================================================
# C1: configuration, secrets, rendering, tokens (init, render, token)
# ============================================================================================


@app.command()
def init(
    config_path: Path = CONFIG_OPTION,
    domain: Optional[str] = typer.Option(None, help="Public DNS name, e.g. meet.example.org."),
    public_url: Optional[str] = typer.Option(None, help="URL users open (default https://DOMAIN[:PORT])."),
    xmpp: Optional[str] = typer.Option(None, help="XMPP server: prosody or openfire."),
    auth: Optional[str] = typer.Option(None, help="Authentication: none, internal or jwt."),
    jwt_app_id: Optional[str] = typer.Option(None, help="JWT app id (auth jwt)."),
    jwt_issuer: Optional[List[str]] = typer.Option(None, help="Accepted JWT issuer (repeatable)."),
    jwt_audience: Optional[List[str]] = typer.Option(None, help="Accepted JWT audience (repeatable)."),
    timezone: Optional[str] = typer.Option(None, help="IANA time zone, e.g. Europe/Paris."),
    jvb_advertise_ip: Optional[List[str]] = typer.Option(None, help="IP clients reach the JVB on (repeatable)."),
    http_port: Optional[int] = typer.Option(None, help="Published HTTP port (default 8000)."),
    https_port: Optional[int] = typer.Option(None, help="Published HTTPS port (default 8443)."),
    jvb_port: Optional[int] = typer.Option(None, help="JVB media UDP port (default 10000)."),
    attendance_port: Optional[int] = typer.Option(None, help="Attendance dashboard port on 127.0.0.1 (default 8090)."),
    letsencrypt_email: Optional[str] = typer.Option(None, help="Enables Let's Encrypt with this account email."),
    letsencrypt_domain: Optional[str] = typer.Option(None, help="Certificate domain (default DOMAIN)."),
    image_repository: Optional[str] = typer.Option(None, help="Jitsi image repository (default ghcr.io/jitsi)."),
    image_version: Optional[str] = typer.Option(None, help="Jitsi image version (default stable-11146-2)."),
    openfire_image: Optional[str] = typer.Option(None, help="Openfire base image."),
    claim: Optional[List[str]] = typer.Option(None, help="JWT claim kept in attendance (repeatable; default courseid, groupid)."),
    database_url: Optional[str] = typer.Option(None, help="Attendance database URL (default SQLite in the receiver's volume)."),
    non_interactive: bool = typer.Option(False, "--non-interactive", help="Never prompt; use flags and defaults."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing jitsictl.yaml."),
) -> None:
    """Write jitsictl.yaml (commented, no secrets) and jitsictl.secrets.yaml (mode 0600)."""
    from . import initconfig as setup

    values = {k: v for k, v in dict(
        domain=domain, public_url=public_url, xmpp=xmpp, auth=auth, jwt_app_id=jwt_app_id,
        jwt_issuers=jwt_issuer or None, jwt_audiences=jwt_audience or None, timezone=timezone,
        jvb_advertise_ips=jvb_advertise_ip or None, http_port=http_port, https_port=https_port,
        jvb_port=jvb_port, attendance_port=attendance_port, letsencrypt_email=letsencrypt_email,
        letsencrypt_domain=letsencrypt_domain, image_repository=image_repository,
        image_version=image_version, openfire_image=openfire_image, claims=claim or None,
        database_url=database_url,
    ).items() if v is not None}
    interactive = not non_interactive and sys.stdin.isatty()
    if config_path.exists() and not force:
        raise UsageError(f"{config_path} already exists", "edit it, or pass --force to overwrite it")
    prompt = setup.terminal_prompt if interactive else None
    result = setup.init(config_path, values, prompt=prompt)
    typer.echo(f"wrote {result.config_path}")
    typer.echo(f"wrote {result.secrets_path} (mode 0600; {len(result.secret_names)} secrets)")
    typer.echo("next: `jitsictl up` (or `jitsictl render` to look at ./stack first)")


@app.command()
def render(
    config_path: Path = CONFIG_OPTION,
    out: Path = typer.Option(Path("stack"), "--out", "-o", help="Directory of the compose project."),
    rotate_secrets: bool = typer.Option(False, "--rotate-secrets", help="Generate new secrets (then restart what it lists)."),
) -> None:
    """Render the compose project (docker-compose.yml, .env, config tree) from jitsictl.yaml."""
    from . import render as render_mod

    result = render_mod.render_config_file(config_path, out, rotate_secrets=rotate_secrets)
    typer.echo(f"rendered {len(result.files)} files into {result.out_dir}")
    if result.rotation:
        services = result.rotation.services
        typer.echo(f"rotated {len(result.rotation.names)} secrets; restart: {', '.join(services)}")
        typer.echo(f"  docker compose --project-directory {result.out_dir} up -d --force-recreate "
                   + " ".join(services))
    for note in result.notes:
        _err(f"note: {note}")


@app.command()
def token(
    room: str = typer.Option(..., "--room", help="Room name the token admits to ('*' for any room)."),
    name: str = typer.Option(..., "--name", help="Display name (context.user.name)."),
    email: Optional[str] = typer.Option(None, "--email", help="context.user.email."),
    user_id: Optional[str] = typer.Option(None, "--user-id", help="context.user.id (default derived from email or name)."),
    group: Optional[str] = typer.Option(None, "--group", help="context.group."),
    claim: Optional[List[str]] = typer.Option(None, "--claim", help="Custom top-level claim k=v (repeatable)."),
    moderator: bool = typer.Option(False, "--moderator", help="Make the user a moderator."),
    ttl: int = typer.Option(3600, "--ttl", help="Lifetime in seconds."),
    config_path: Path = CONFIG_OPTION,
) -> None:
    """Mint an HS256 JWT the stack accepts (auth type jwt); prints only the token."""
    from . import config as config_mod
    from . import secrets as secrets_mod
    from . import token as token_mod

    config = config_mod.load(config_path)
    values, _ = secrets_mod.read(secrets_mod.path_for(config_path))
    claims = token_mod.parse_claims(claim or [])
    typer.echo(token_mod.mint(config, values, room=room, name=name, email=email, user_id=user_id,
                              group=group, moderator=moderator, ttl=ttl, claims=claims))


# ============================================================================================
# C2: stack lifecycle and checks (up, down, status, logs, doctor, smoke)
# Add commands here (small edits; keep heavy imports inside the functions).
# ============================================================================================

OUT_OPTION = typer.Option(Path("stack"), "--out", "-o",
                          help="Directory of the rendered compose project.")


def _project(out: Path):
    from .compose import ComposeProject

    return ComposeProject(out)


@app.command()
def up(
    config_path: Path = CONFIG_OPTION,
    out: Path = OUT_OPTION,
    xmpp: Optional[str] = typer.Option(
        None, "--xmpp", help="prosody or openfire; used when jitsictl.yaml is created, checked otherwise."),
    wait: bool = typer.Option(False, "--wait", help="Wait until every service is healthy (see `status`)."),
    timeout: float = typer.Option(300.0, "--timeout", help="Seconds --wait waits before failing."),
) -> None:
    """Render the stack and start it (docker compose up -d).

    With no jitsictl.yaml, one is created from --xmpp and the defaults (no prompts), so this one
    command starts a stack. With xmpp openfire, Openfire is then configured through its REST API
    (as `jitsictl openfire apply`). Exit code 1 when --wait runs out of time (the unhealthy
    services are listed), 2 on a configuration or Docker error.
    """
    from . import stack

    if xmpp is not None and xmpp not in ("prosody", "openfire"):
        raise UsageError(f"--xmpp {xmpp!r} is not supported", "use --xmpp prosody or --xmpp openfire")
    if stack.ensure_config(config_path, xmpp):
        _err(f"created {config_path} with defaults (edit it and run `jitsictl up` again to change them)")
    config, secrets, project, notes = stack.render_project(config_path, out, xmpp)
    for note in notes:
        _err(f"note: {note}")
    _err(f"rendered {project.directory}; starting the stack…")
    if config.xmpp == "openfire":
        # Openfire alone first, configured, then the services that log in to it: jicofo and jvb
        # join the brewery only at login (jitsictl/openfire/README.md, "Start order").
        project.up(["openfire"], echo=sys.stderr)
        _err("waiting for Openfire to configure it through its REST API…")
        changes = stack.configure_openfire(config, secrets, project, timeout=timeout)
        _err(f"Openfire configured ({len(changes)} change{'s' if len(changes) != 1 else ''}); "
             "starting the other services…")
    project.up(echo=sys.stderr)
    if not wait:
        typer.echo(f"started; check it with `jitsictl status --out {out}`")
        return
    running = stack.Stack(project)
    try:
        with stack.HealthProgress(timeout) as progress:
            running.wait_healthy(timeout, on_update=progress.update)
    except stack.StackNotHealthy as exc:
        _err(f"error: {exc.message}")
        _err(f"hint: see `jitsictl logs SERVICE --out {out}` for the services listed")
        raise typer.Exit(code=1) from None
    typer.echo("the stack is healthy")


@app.command()
def down(
    out: Path = OUT_OPTION,
    volumes: bool = typer.Option(False, "--volumes", help="Also remove named volumes (the data bind-mounted from OUT/config stays; delete it to start over)."),
) -> None:
    """Stop and remove the stack's containers and network (docker compose down)."""
    _project(out).down(volumes=volumes, echo=sys.stderr)
    typer.echo("the stack is down")


@app.command()
def status(
    out: Path = OUT_OPTION,
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """Per service: container state, Docker health, HTTP probe. Exit code 1 if anything is unhealthy.

    Probes: web /, prosody :5280/health, jicofo :8888/about/health, jvb :8080/about/health,
    logger :8080/healthz, openfire :9090 readiness; run from this host to the container address
    on a local Linux engine, else inside the container (docker exec). See `jitsictl.stack`.
    """
    import json

    from . import stack

    result = stack.Stack(_project(out)).status()
    if as_json:
        typer.echo(json.dumps(result.to_dict(), indent=2))
    else:
        from rich.console import Console

        Console().print(stack.status_table(result))
    if not result.healthy:
        raise typer.Exit(code=1)


@app.command()
def logs(
    service: Optional[List[str]] = typer.Argument(None, help="Service(s) to show; all when omitted."),
    out: Path = OUT_OPTION,
    follow: bool = typer.Option(False, "--follow", "-f", help="Keep streaming new lines."),
    tail: Optional[int] = typer.Option(None, "--tail", help="Only the last N lines per container."),
) -> None:
    """Print the containers' logs as `service | line`, merged in time order."""
    from . import stack

    stack.Stack(_project(out)).logs(service or (), follow=follow, tail=tail)


@app.command()
def doctor(
    config_path: Path = CONFIG_OPTION,
    out: Path = OUT_OPTION,
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of lines."),
) -> None:
    """Check this machine can run the stack: engine, Compose, ports, DNS, media (UDP) note.

    Exit code 1 when a check fails; warnings do not fail. See `jitsictl.doctor` for each check.
    """
    import json

    from . import doctor as doctor_mod

    report = doctor_mod.run_for(config_path, out)
    if as_json:
        typer.echo(json.dumps(report.to_dict(), indent=2))
    else:
        for check in report.checks:
            typer.echo(f"[{check.status:>4}] {check.name}: {check.detail}")
            if check.hint and check.status != "ok":
                typer.echo(f"       hint: {check.hint}")
    if not report.ok:
        raise typer.Exit(code=1)


@app.command()
def smoke(
    config_path: Path = CONFIG_OPTION,
    participants: int = typer.Option(3, "--participants", "-n", help="How many synthetic participants join."),
    room: Optional[str] = typer.Option(None, "--room", help="Room name (default: a new random jitsictl-smoke-… room)."),
    url: Optional[str] = typer.Option(None, "--url", help="XMPP WebSocket URL (default ws://127.0.0.1:<ports.http>/xmpp-websocket)."),
    attendance_url: Optional[str] = typer.Option(None, "--attendance-url", help="Receiver URL (default http://127.0.0.1:<ports.attendance>)."),
    hold: float = typer.Option(4.0, "--hold", help="Seconds the participants stay in the room."),
    timeout: float = typer.Option(30.0, "--timeout", help="Seconds to wait for the receiver's attendance."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Synthetic participants join a room through the stack; their attendance is checked.

    Each participant (with a token when auth is jwt) opens /xmpp-websocket?room=&token=, sends
    the conference request to focus, joins with a display name; one renames; all leave. Then the
    receiver's attendance for that meeting must list exactly them, with their names, ids, claims
    and roughly their time in the room. Exit code 1 on any difference (listed), 2 when the run
    cannot happen (stack unreachable, login refused).
    """
    import json

    from . import config as config_mod
    from . import secrets as secrets_mod
    from . import smoke as smoke_mod

    config = config_mod.load(config_path)
    values, _ = secrets_mod.read(secrets_mod.path_for(config_path))
    plan = smoke_mod.plan_for(config, values, participants=participants, room=room, url=url,
                              attendance_url=attendance_url, hold=hold, timeout=timeout)
    if not as_json:
        _err(f"{plan.participants} participants join {plan.room_jid} via {plan.websocket_url}…")
    result = smoke_mod.run(plan)
    if as_json:
        typer.echo(json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
    elif result.ok:
        typer.echo(f"smoke passed: meeting {result.meeting} of room {result.room} lists "
                   f"{len(result.participants)} participants as they were")
    else:
        typer.echo(f"smoke FAILED: the receiver's attendance for room {result.room} differs:")
        for problem in result.problems:
            typer.echo(f"  {problem}")
    if not result.ok:
        raise typer.Exit(code=1)



# ============================================================================================
# D2: Openfire configuration (`jitsictl openfire plan|apply`)
# Add a sub-app here: openfire_app = typer.Typer(...); app.add_typer(openfire_app, name="openfire")
# ============================================================================================

from .openfire.cli import app as openfire_app  # noqa: E402 - typer only; the rest loads per command

app.add_typer(openfire_app, name="openfire")


def main() -> None:
    app()
