"""The `jitsictl` command line: a thin layer over the library modules of this package.

Each command parses options, calls the library function of the same verb and prints its result;
the work lives in `jitsictl.config`, `jitsictl.initconfig`, `jitsictl.secrets`, `jitsictl.render`,
`jitsictl.token`, `jitsictl.stack`, `jitsictl.doctor`, `jitsictl.smoke`, `jitsictl.users` and
`jitsictl.openfire`. Heavy modules (docker, jinja2, yaml, jwt, rich) are imported inside the
commands so that `jitsictl --help` stays fast (see bench/cli_startup.py).

Every command keeps one exit-code contract (EXIT_CODES, also in the README). User mistakes and
environment failures (`ConfigError`, `UsageError`, any exception with a `hint`, unusable paths)
are printed by the root command group (`_Commands`) as one line on stderr plus a hint, never a
traceback; under `--json` the same error is also printed on stdout as
`{"ok": false, "error": ..., "hint": ...}`, so a script reading stdout always gets JSON.
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import List, Optional

import typer
from typer.core import TyperGroup

from . import __version__

EXIT_CODES = ("Exit codes: 0 success; 1 a check failed (an unhealthy service, a failed doctor "
              "check, a smoke run that differs); 2 the command could not do its work (a "
              "configuration or usage error, Docker or the network).")


class UsageError(Exception):
    """A user mistake outside the config file; printed as one line plus the hint."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.hint = hint


class _Commands(TyperGroup):
    """Turns user mistakes raised by any command into one line on stderr (and JSON on stdout
    under --json), exit code 2."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        _plain_arguments(self)

    def invoke(self, ctx):
        words = [*getattr(ctx, "_protected_args", []), *ctx.args]
        as_json = "--json" in words
        try:
            return super().invoke(ctx)
        except Exception as exc:  # noqa: BLE001 - bugs are re-raised with their traceback
            if _is_usage_error(exc):
                if not as_json:
                    raise  # Click prints the usage and the error itself
                _fail(exc.format_message(), "see the command's --help", as_json)
            if isinstance(exc, OSError) and exc.filename and not _is_user_error(exc):
                # A path we cannot read or write (permissions, a file where a directory should
                # be): the environment, not a bug.
                _fail(f"cannot use {exc.filename}: {exc.strerror or exc}",
                      "check the path and its permissions", as_json)
            if not _is_user_error(exc):
                raise
            if hasattr(exc, "key"):  # ConfigError: one line naming the key, the fix after a dash
                _fail(f"{exc.key}: {exc.problem}" if exc.key else exc.problem, exc.hint, as_json,
                      one_line=True)
            _fail(str(exc), getattr(exc, "hint", "") or "", as_json)


def _plain_arguments(command) -> None:
    """Typer writes an argument's Python type after its name in help (`SERVICE <list[str]>`);
    the name already says what to give, so the type is left out, in every subcommand too."""
    for param in getattr(command, "params", []):
        if param.param_type_name == "argument" and hasattr(param, "display_type"):
            param.display_type = lambda ctx: ""
    for subcommand in getattr(command, "commands", {}).values():
        _plain_arguments(subcommand)


def _is_usage_error(exc: BaseException) -> bool:
    """A command line Click could not parse (Click's UsageError, whichever copy of Click
    Typer uses: recent Typer versions vendor their own)."""
    return hasattr(exc, "format_message") and getattr(exc, "exit_code", None) == 2


def _is_user_error(exc: BaseException) -> bool:
    from .config import ConfigError

    return isinstance(exc, (ConfigError, UsageError)) or hasattr(exc, "hint")


def _fail(message: str, hint: str, as_json: bool, code: int = 2, one_line: bool = False):
    if as_json:
        import json

        typer.echo(json.dumps({"ok": False, "error": message, "hint": hint or None}, indent=2))
    if one_line:
        _err(f"error: {message}" + (f" — {hint}" if hint else ""))
    else:
        _err(f"error: {message}")
        if hint:
            _err(f"hint: {hint}")
    raise typer.Exit(code=code)


app = typer.Typer(
    cls=_Commands,
    name="jitsictl",
    help="Deploy Jitsi Meet classrooms with attendance.",
    epilog=EXIT_CODES,
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
)

CONFIG_OPTION = typer.Option(
    Path("jitsictl.yaml"), "--config", "-c", envvar="JITSICTL_CONFIG", metavar="FILE",
    help="The configuration file; the secrets file sits beside it.",
)
OUT_OPTION = typer.Option(Path("stack"), "--out", "-o", metavar="DIR",
                          help="Directory of the rendered compose project.")
JSON_OPTION = typer.Option(False, "--json", help="Print JSON for scripts instead of text.")


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


def _print_json(data) -> None:
    import json

    typer.echo(json.dumps(data, indent=2, ensure_ascii=False))


# -- configuration, secrets, rendering, tokens ----------------------------------------------------


@app.command(epilog=EXIT_CODES)
def init(
    config_path: Path = CONFIG_OPTION,
    domain: Optional[str] = typer.Option(None, metavar="NAME", help="Public DNS name of the server, e.g. meet.example.org."),
    public_url: Optional[str] = typer.Option(None, metavar="URL", help="Address people open (default https://DOMAIN, with the HTTPS port unless 443)."),
    xmpp: Optional[str] = typer.Option(None, metavar="SERVER", help="XMPP server: prosody or openfire."),
    auth: Optional[str] = typer.Option(None, metavar="TYPE", help="Who may open rooms: none (anyone), internal (accounts) or jwt (tokens from your LMS; prosody only)."),
    guests: Optional[bool] = typer.Option(None, "--guests/--no-guests", help="With internal accounts: let people without one join rooms an account holder opened."),
    jwt_app_id: Optional[str] = typer.Option(None, metavar="ID", help="App id shared with your LMS (auth jwt)."),
    jwt_issuer: Optional[List[str]] = typer.Option(None, metavar="ISSUER", help="Token issuer to accept (repeat for several)."),
    jwt_audience: Optional[List[str]] = typer.Option(None, metavar="AUDIENCE", help="Token audience to accept (repeat for several)."),
    timezone: Optional[str] = typer.Option(None, metavar="ZONE", help="Time zone, e.g. Europe/Paris."),
    jvb_advertise_ip: Optional[List[str]] = typer.Option(None, metavar="IP", help="Address clients reach the video bridge on, e.g. the public IP (repeat for several)."),
    http_port: Optional[int] = typer.Option(None, metavar="PORT", help="Published HTTP port (default 8000)."),
    https_port: Optional[int] = typer.Option(None, metavar="PORT", help="Published HTTPS port (default 8443)."),
    jvb_port: Optional[int] = typer.Option(None, metavar="PORT", help="UDP port of the video (default 10000)."),
    attendance_port: Optional[int] = typer.Option(None, metavar="PORT", help="Port of the attendance receiver on this server's 127.0.0.1 (default 8090)."),
    letsencrypt_email: Optional[str] = typer.Option(None, metavar="EMAIL", help="Get a Let's Encrypt certificate, with this account email."),
    letsencrypt_domain: Optional[str] = typer.Option(None, metavar="NAME", help="Name on the certificate (default the domain)."),
    image_repository: Optional[str] = typer.Option(None, metavar="REPOSITORY", help="Where the Jitsi images come from (default ghcr.io/jitsi)."),
    image_version: Optional[str] = typer.Option(None, metavar="TAG", help="Version of the Jitsi images (default stable-11146-2)."),
    openfire_image: Optional[str] = typer.Option(None, metavar="IMAGE", help="Openfire image to build on."),
    claim: Optional[List[str]] = typer.Option(None, metavar="NAME", help="Token claim to keep in attendance (repeat for several; default courseid and groupid)."),
    database_url: Optional[str] = typer.Option(None, metavar="URL", help="Attendance database (default SQLite in the receiver's volume)."),
    non_interactive: bool = typer.Option(False, "--non-interactive", help="Never ask; use the options and the defaults."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing configuration file."),
) -> None:
    """Write jitsictl.yaml (commented, no secrets) and jitsictl.secrets.yaml (mode 0600).

    On a terminal it asks for what the options leave open, checking each answer as it comes.
    """
    from . import initconfig as setup

    values = {k: v for k, v in dict(
        domain=domain, public_url=public_url, xmpp=xmpp, auth=auth, guests=guests,
        jwt_app_id=jwt_app_id, jwt_issuers=jwt_issuer or None, jwt_audiences=jwt_audience or None,
        timezone=timezone, jvb_advertise_ips=jvb_advertise_ip or None, http_port=http_port,
        https_port=https_port, jvb_port=jvb_port, attendance_port=attendance_port,
        letsencrypt_email=letsencrypt_email, letsencrypt_domain=letsencrypt_domain,
        image_repository=image_repository, image_version=image_version,
        openfire_image=openfire_image,
        claims=claim or None, database_url=database_url,
    ).items() if v is not None}
    if config_path.exists() and not force:
        raise UsageError(f"{config_path} already exists", "edit it, or pass --force to overwrite it")
    interactive = not non_interactive and sys.stdin.isatty()
    result = setup.init(config_path, values, prompt=setup.terminal_prompt if interactive else None,
                        report=setup.terminal_report)
    typer.echo(f"wrote {result.config_path}")
    typer.echo(f"wrote {result.secrets_path} (mode 0600; {len(result.secret_names)} secrets)")
    typer.echo("next: `jitsictl up` (or `jitsictl render` to look at ./stack first)")


@app.command(epilog=EXIT_CODES)
def render(
    config_path: Path = CONFIG_OPTION,
    out: Path = OUT_OPTION,
    rotate_secrets: bool = typer.Option(False, "--rotate-secrets", help="Replace every secret with a new one on purpose (then restart what it lists)."),
) -> None:
    """Write the compose project (docker-compose.yml, .env, config/) from jitsictl.yaml.

    Secrets are made once and kept: a rendered stack's secrets never change unless you ask.
    """
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


@app.command(epilog=EXIT_CODES)
def token(
    room: str = typer.Option(..., "--room", metavar="ROOM", help="Room the token admits to ('*' for any room)."),
    name: str = typer.Option(..., "--name", metavar="NAME", help="The participant's name as shown in the meeting."),
    email: Optional[str] = typer.Option(None, "--email", metavar="EMAIL", help="The participant's email."),
    user_id: Optional[str] = typer.Option(None, "--user-id", metavar="ID", help="The participant's id in the LMS (default made from the email or name)."),
    group: Optional[str] = typer.Option(None, "--group", metavar="GROUP", help="Group (context.group)."),
    claim: Optional[List[str]] = typer.Option(None, "--claim", metavar="NAME=VALUE", help="Extra claim such as courseid=MATH101 (repeat for several)."),
    moderator: bool = typer.Option(False, "--moderator", help="A teacher: moderator of the room."),
    ttl: int = typer.Option(3600, "--ttl", metavar="SECONDS", help="How long the token is valid."),
    config_path: Path = CONFIG_OPTION,
) -> None:
    """Print a token (HS256 JWT, shaped like Moodle's) the stack accepts, for tests and LMS setup."""
    from . import config as config_mod
    from . import secrets as secrets_mod
    from . import token as token_mod

    config = config_mod.load(config_path)
    values, _ = secrets_mod.read(secrets_mod.path_for(config_path))
    claims = token_mod.parse_claims(claim or [])
    typer.echo(token_mod.mint(config, values, room=room, name=name, email=email, user_id=user_id,
                              group=group, moderator=moderator, ttl=ttl, claims=claims))


# -- the stack: up, down, status, logs, doctor, smoke ---------------------------------------------


def _project(out: Path):
    from .compose import ComposeProject

    return ComposeProject(out)


def _config_for_up(config_path: Path, xmpp: Optional[str]) -> None:
    """No jitsictl.yaml: on a terminal, ask as `init` does; elsewhere refuse, saying how."""
    from . import initconfig

    if config_path.exists():
        return
    if not sys.stdin.isatty():
        flags = f" --xmpp {xmpp}" if xmpp else ""
        raise UsageError(f"{config_path} not found",
                         f"create it first: `jitsictl init` (in scripts: `jitsictl init "
                         f"--non-interactive --domain meet.example.org{flags}`)")
    _err(f"{config_path} does not exist yet: a few questions first (as `jitsictl init`)")
    initconfig.init(config_path, {"xmpp": xmpp} if xmpp else {}, prompt=initconfig.terminal_prompt,
                    report=initconfig.terminal_report)


@app.command(epilog=EXIT_CODES)
def up(
    config_path: Path = CONFIG_OPTION,
    out: Path = OUT_OPTION,
    xmpp: Optional[str] = typer.Option(None, "--xmpp", metavar="SERVER", help="prosody or openfire: must match jitsictl.yaml (asked for when it is being created)."),
    wait: bool = typer.Option(False, "--wait", help="Wait until every service is healthy (as `status` reports)."),
    timeout: float = typer.Option(300.0, "--timeout", metavar="SECONDS", help="How long --wait waits."),
    build: bool = typer.Option(False, "--build", help="Rebuild the images jitsictl builds even when their sources did not change."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Render the stack and start it, then say where the meetings and the attendance are.

    Needs jitsictl.yaml (`jitsictl init`; on a terminal `up` asks). The ports are checked before
    anything starts. The images jitsictl builds (the attendance receiver, Openfire) are tagged by
    a digest of their sources, so they are rebuilt when those changed. With xmpp openfire,
    Openfire is then configured through its REST API (as `jitsictl openfire apply`).
    """
    from . import stack

    if xmpp is not None:
        xmpp = xmpp.strip().lower()
        if xmpp not in ("prosody", "openfire"):
            raise UsageError(f"--xmpp {xmpp!r} is not supported", "use --xmpp prosody or --xmpp openfire")
    _config_for_up(config_path, xmpp)
    config, secrets, project, notes = stack.render_project(config_path, out, xmpp)
    for note in notes:
        _err(f"note: {note}")
    stack.check_ports_free(project)
    _err(f"rendered {project.directory}; starting the stack…")
    if config.xmpp == "openfire":
        # Openfire alone first, configured, then the services that log in to it: jicofo and jvb
        # join the brewery only at login (jitsictl/openfire/README.md, "Start order").
        project.up(["openfire"], build=build, echo=sys.stderr)
        _err("waiting for Openfire to configure it through its REST API…")
        changes = stack.configure_openfire(config, secrets, project, timeout=timeout)
        _err(f"Openfire configured ({len(changes)} change{'s' if len(changes) != 1 else ''}); "
             "starting the other services…")
    project.up(build=build, echo=sys.stderr)
    summary = stack.summary(config, secrets.path)
    if wait:
        try:
            with stack.HealthProgress(timeout) as progress:
                stack.Stack(project).wait_healthy(timeout, on_update=progress.update)
            summary.healthy = True
        except stack.StackNotHealthy as exc:
            summary.healthy = False
            _fail(exc.message, f"see `jitsictl logs SERVICE --out {out}` for the services listed",
                  as_json, code=1)
    if as_json:
        _print_json({"ok": True, **summary.to_dict()})
        return
    typer.echo("the stack is healthy" if wait else f"started; check it with `jitsictl status --out {out}`")
    for line in summary.lines():
        typer.echo(line)


@app.command(epilog=EXIT_CODES)
def down(
    out: Path = OUT_OPTION,
    volumes: bool = typer.Option(False, "--volumes", help="Also remove the named volumes (what is kept under OUT/config stays; delete it to start over)."),
) -> None:
    """Stop the stack and remove its containers and network."""
    _project(out).down(volumes=volumes, echo=sys.stderr)
    typer.echo("the stack is down")


@app.command(epilog=EXIT_CODES)
def status(out: Path = OUT_OPTION, as_json: bool = JSON_OPTION) -> None:
    """Show each service's state and health, and whether it answers its health check.

    Each service is asked on its own health address: the web page, Prosody's /health, jicofo's
    and the video bridge's /about/health, the attendance receiver's /healthz, Openfire's
    readiness. Exit code 1 when any service is not healthy.
    """
    from . import stack

    result = stack.Stack(_project(out)).status()
    if as_json:
        _print_json(result.to_dict())
    else:
        from rich.console import Console

        Console().print(stack.status_table(result))
    if not result.healthy:
        raise typer.Exit(code=1)


@app.command(epilog=EXIT_CODES)
def logs(
    service: Optional[List[str]] = typer.Argument(None, metavar="SERVICE", show_default=False, help="Services to show (all when none is given)."),
    out: Path = OUT_OPTION,
    follow: bool = typer.Option(False, "--follow", "-f", help="Keep showing new lines until interrupted (Ctrl-C)."),
    tail: Optional[int] = typer.Option(None, "--tail", metavar="N", help="Only the last N lines of each service."),
) -> None:
    """Show the services' logs as `service | line`, in time order."""
    from . import stack

    stack.Stack(_project(out)).logs(service or (), follow=follow, tail=tail)


@app.command(epilog=EXIT_CODES)
def doctor(config_path: Path = CONFIG_OPTION, out: Path = OUT_OPTION, as_json: bool = JSON_OPTION) -> None:
    """Check this machine can run the stack, before `up` finds out.

    Docker and Compose, the images (or their registry; the air-gapped route when there is
    none), free ports, the domain, and a reminder about the video's UDP port. Exit code 1 when a
    check fails; warnings do not fail.
    """
    from . import doctor as doctor_mod

    report = doctor_mod.run_for(config_path, out)
    if as_json:
        _print_json(report.to_dict())
    else:
        for check in report.checks:
            typer.echo(f"[{check.status:>4}] {check.name}: {check.detail}")
            if check.hint and check.status != "ok":
                typer.echo(f"       hint: {check.hint}")
    if not report.ok:
        raise typer.Exit(code=1)


@app.command(epilog=EXIT_CODES)
def smoke(
    config_path: Path = CONFIG_OPTION,
    participants: int = typer.Option(3, "--participants", "-n", metavar="N", help="How many synthetic participants join."),
    room: Optional[str] = typer.Option(None, "--room", metavar="ROOM", help="Room name (default: a new jitsictl-smoke-… room)."),
    url: Optional[str] = typer.Option(None, "--url", metavar="URL", help="The site or its XMPP WebSocket (default ws://127.0.0.1:<HTTP port>/xmpp-websocket)."),
    attendance_url: Optional[str] = typer.Option(None, "--attendance-url", metavar="URL", help="The attendance receiver (default http://127.0.0.1:<attendance port>)."),
    hold: float = typer.Option(4.0, "--hold", metavar="SECONDS", help="How long the participants stay."),
    timeout: float = typer.Option(30.0, "--timeout", metavar="SECONDS", help="How long to wait for the attendance."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Send synthetic participants through the stack and check their attendance.

    They join a room the way Jitsi's web page does (with tokens when auth is jwt), one renames
    itself, all leave; then the attendance must list exactly them, with their names, ids, claims
    and roughly their time in the room. Exit code 1 on any difference (listed).
    """
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
        _print_json(result.to_dict())
    elif result.ok:
        typer.echo(f"smoke passed: meeting {result.meeting} of room {result.room} lists "
                   f"{len(result.participants)} participants as they were")
    else:
        typer.echo(f"smoke FAILED: the receiver's attendance for room {result.room} differs:")
        for problem in result.problems:
            typer.echo(f"  {problem}")
    if not result.ok:
        raise typer.Exit(code=1)


# -- accounts (auth internal) ---------------------------------------------------------------------

users_app = typer.Typer(
    name="users", no_args_is_help=True, add_completion=False, rich_markup_mode=None, epilog=EXIT_CODES,
    help="Accounts of a stack with internal authentication: teachers, who open rooms and "
         "moderate them (Prosody or Openfire).")
app.add_typer(users_app, name="users")

NAME_ARGUMENT = typer.Argument(..., metavar="NAME", show_default=False, help="Account name, e.g. m.curie (the login is NAME@meet.jitsi).")
PASSWORD_STDIN = typer.Option(False, "--password-stdin", help="Read the password from the first line of standard input (for scripts) instead of asking.")
URL_OPTION = typer.Option(None, "--url", envvar="JITSICTL_OPENFIRE_URL", metavar="URL", help="Openfire only: its admin address, when the container's own address is not reachable from here.")


def _accounts(config_path: Path, out: Path, url: Optional[str], *, changing: bool):
    from . import config as config_mod
    from . import secrets as secrets_mod
    from . import users

    config = config_mod.load(config_path)
    if changing and config.auth.type != "internal":
        raise UsageError(f"accounts are used only with auth.type internal; this stack uses {config.auth.type}",
                         "set auth.type: internal in jitsictl.yaml and run `jitsictl up`")
    values, _ = secrets_mod.read(secrets_mod.path_for(config_path))
    return users.for_stack(config, values, _project(out), openfire_url=url)


def _password(from_stdin: bool) -> str:
    """The new password: from stdin's first line, or asked twice on a terminal; never argv."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin.isatty():
        raise UsageError("no terminal to ask for the password on",
                         "pass --password-stdin and write the password to standard input")
    return typer.prompt("Password", hide_input=True, confirmation_prompt=True)


@users_app.command("add", epilog=EXIT_CODES)
def users_add(name: str = NAME_ARGUMENT, password_stdin: bool = PASSWORD_STDIN,
              config_path: Path = CONFIG_OPTION, out: Path = OUT_OPTION, url: Optional[str] = URL_OPTION) -> None:
    """Create an account (asks for its password)."""
    from . import users

    accounts = _accounts(config_path, out, url, changing=True)
    typer.echo(f"created {users.add(accounts, name, _password(password_stdin))}")


@users_app.command("list", epilog=EXIT_CODES)
def users_list(config_path: Path = CONFIG_OPTION, out: Path = OUT_OPTION, url: Optional[str] = URL_OPTION,
               as_json: bool = JSON_OPTION) -> None:
    """List the accounts."""
    from . import users

    found = users.list_users(_accounts(config_path, out, url, changing=False))
    if as_json:
        _print_json({"ok": True, "users": found})
        return
    for jid in found:
        typer.echo(jid)


@users_app.command("remove", epilog=EXIT_CODES)
def users_remove(name: str = NAME_ARGUMENT, config_path: Path = CONFIG_OPTION, out: Path = OUT_OPTION,
                 url: Optional[str] = URL_OPTION) -> None:
    """Delete an account."""
    from . import users

    typer.echo(f"removed {users.remove(_accounts(config_path, out, url, changing=False), name)}")


@users_app.command("passwd", epilog=EXIT_CODES)
def users_passwd(name: str = NAME_ARGUMENT, password_stdin: bool = PASSWORD_STDIN,
                 config_path: Path = CONFIG_OPTION, out: Path = OUT_OPTION, url: Optional[str] = URL_OPTION) -> None:
    """Set an account's password (asks for it)."""
    from . import users

    accounts = _accounts(config_path, out, url, changing=True)
    typer.echo(f"password changed for {users.passwd(accounts, name, _password(password_stdin))}")


# -- Openfire configuration (`jitsictl openfire plan|apply`) ---------------------------------------

from .openfire.cli import app as openfire_app  # noqa: E402 - typer only; the rest loads per command

app.add_typer(openfire_app, name="openfire")


def main() -> None:
    app()
