"""`jitsictl init`: build a Config from flags, asking on a terminal for what is missing.

`init()` is the library verb; `prompt` is any callable `(question, default) -> answer`, so the
CLI passes a terminal prompt and CI passes none (flags and defaults only). Each answer is checked
as soon as it is given, by the same rules as jitsictl.yaml (jitsictl.config): a wrong one is
explained through `report` and asked again, and the answers before it are kept. Choices (XMPP
server, authentication, yes/no) are case-insensitive, and only the authentication types the
chosen XMPP server supports are offered.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

from . import config as config_mod
from . import secrets as secrets_mod
from .config import ConfigError

Prompt = Callable[[str, str], str]
Report = Callable[[str], None]

# Flags (names as in `jitsictl init --help`) whose values are choices, compared in lower case.
CHOICES = ("xmpp", "auth")

# flag name -> key path in jitsictl.yaml
PATHS = {
    "domain": "domain", "public_url": "public_url", "xmpp": "xmpp", "timezone": "timezone",
    "jvb_advertise_ips": "jvb_advertise_ips", "image_repository": "images.repository",
    "image_version": "images.version", "openfire_image": "images.openfire",
    "auth": "auth.type",
    "guests": "auth.guests", "jwt_app_id": "auth.jwt.app_id", "jwt_issuers": "auth.jwt.issuers",
    "jwt_audiences": "auth.jwt.audiences", "http_port": "ports.http", "https_port": "ports.https",
    "jvb_port": "ports.jvb_udp", "attendance_port": "ports.attendance",
    "letsencrypt_email": "letsencrypt.email", "letsencrypt_domain": "letsencrypt.domain",
    "claims": "attendance.claims", "database_url": "attendance.database_url",
}


@dataclass
class InitResult:
    config: config_mod.Config
    config_path: Path
    secrets_path: Path
    secret_names: list[str]


def auth_choices(xmpp: str) -> tuple[str, ...]:
    """The authentication types an XMPP server supports (Openfire cannot verify Jitsi tokens)."""
    return ("none", "internal") if xmpp == "openfire" else config_mod.AUTH_TYPES


def _words(choices: tuple[str, ...]) -> str:
    return ", ".join(choices[:-1]) + " or " + choices[-1]


def _yes_no(answer: str) -> bool:
    word = answer.strip().lower()
    if word in ("y", "yes", "true"):
        return True
    if word in ("", "n", "no", "false"):
        return False
    raise ConfigError("", f"{answer!r} is not yes or no", "answer y or n")


def _ip_list(answer: str) -> list[str]:
    return [ip.strip() for ip in answer.split(",") if ip.strip()]


@dataclass(frozen=True)
class Question:
    flag: str
    text: Callable[[dict], str]
    default: str
    convert: Callable[[str], Any] = str.strip
    when: Callable[[dict], bool] = lambda answers: True
    # Config keys whose errors are about this answer (besides its own).
    also: tuple[str, ...] = field(default=())


QUESTIONS = (
    Question("domain", lambda v: "Public DNS name of the server", "localhost",
             lambda a: a.strip().lower()),
    Question("xmpp", lambda v: "XMPP server (prosody or openfire)", "prosody",
             lambda a: a.strip().lower()),
    Question("auth", lambda v: f"Authentication ({_words(auth_choices(v.get('xmpp', 'prosody')))})",
             "none", lambda a: a.strip().lower()),
    Question("jwt_app_id", lambda v: "JWT app id (JWT_APP_ID, shared with your LMS)", "",
             when=lambda v: v.get("auth") == "jwt"),
    Question("guests", lambda v: "Let people without an account join as guests? (y/n)", "n",
             _yes_no, when=lambda v: v.get("auth") == "internal" and v.get("xmpp") != "openfire"),
    Question("letsencrypt_email",
             lambda v: "Let's Encrypt account email (empty: self-signed certificate)", "",
             also=("letsencrypt.domain", "ports.http")),
    Question("timezone", lambda v: "Time zone", "UTC"),
    Question("jvb_advertise_ips",
             lambda v: "Public IP(s) of the video bridge, comma-separated (empty: let JVB detect)",
             "", _ip_list),
)


def _data(values: dict[str, Any]) -> dict:
    """jitsictl.yaml content (as a dict) for flag values."""
    data: dict[str, Any] = {}
    for flag, path in PATHS.items():
        if values.get(flag) in (None, "", []):
            continue
        node = data
        *parents, leaf = path.split(".")
        for parent in parents:
            node = node.setdefault(parent, {})
        node[leaf] = values[flag]
    if values.get("letsencrypt_email"):
        data.setdefault("letsencrypt", {})["enabled"] = True
        # Let's Encrypt validates on port 80 and browsers expect 443.
        data.setdefault("ports", {}).setdefault("http", 80)
        data["ports"].setdefault("https", 443)
    return data


def _problem_with(values: dict[str, Any], question: Question) -> Optional[str]:
    """Why the answer to `question` in `values` is not acceptable, or None."""
    own = PATHS[question.flag]
    try:
        config_mod.from_dict(_data(values))
    except ConfigError as exc:
        if any(exc.key == key or exc.key.startswith(key + "[") for key in (own, *question.also)):
            return str(exc)
    return None


def _ask(question: Question, answers: dict[str, Any], prompt: Prompt, report: Report) -> Any:
    while True:
        try:
            answer = question.convert(prompt(question.text(answers), question.default))
        except ConfigError as exc:
            report(f"{PATHS[question.flag]}: {exc.problem} — {exc.hint}")
            continue
        problem = _problem_with({**answers, question.flag: answer}, question)
        if problem is None:
            return answer
        report(problem)


def build(values: dict[str, Any], prompt: Optional[Prompt] = None,
          report: Optional[Report] = None) -> config_mod.Config:
    """A validated Config from flag values, asking `prompt` for the questions flags left open."""
    answers = {flag: value.strip().lower() if flag in CHOICES and isinstance(value, str) else value
               for flag, value in values.items()}
    if prompt is not None:
        for question in QUESTIONS:
            if question.flag not in answers and question.when(answers):
                answers[question.flag] = _ask(question, answers, prompt, report or print)
    return config_mod.from_dict(_data(answers))


def init(config_path: str | Path, values: dict[str, Any], prompt: Optional[Prompt] = None,
         report: Optional[Report] = None) -> InitResult:
    """Write jitsictl.yaml and create (or complete) the secrets file beside it."""
    config = build(values, prompt, report)
    config_path = Path(config_path)
    config_path.parent.mkdir(parents=True, exist_ok=True)
    config_mod.write(config, config_path)
    secrets = secrets_mod.ensure(secrets_mod.path_for(config_path), config)
    return InitResult(config=config, config_path=config_path, secrets_path=secrets.path,
                      secret_names=sorted(secrets.values))


def terminal_prompt(question: str, default: str) -> str:
    import typer

    return typer.prompt(question, default=default, show_default=bool(default))


def terminal_report(problem: str) -> None:
    import typer

    typer.echo(f"  {problem}", err=True)
