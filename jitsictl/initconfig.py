"""`jitsictl init`: build a Config from flags, prompting on a terminal for what is missing.

`init()` is the library verb; `prompt` is any callable `(question, default) -> answer`, so the
CLI passes a terminal prompt and CI passes none (flags and defaults only).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional

from . import config as config_mod
from . import secrets as secrets_mod

Prompt = Callable[[str, str], str]


@dataclass
class InitResult:
    config: config_mod.Config
    config_path: Path
    secrets_path: Path
    secret_names: list[str]


def build(values: dict[str, Any], prompt: Optional[Prompt] = None) -> config_mod.Config:
    """A validated Config from flag values (names as in `jitsictl init --help`)."""
    v = dict(values)

    def ask(key: str, question: str, default: str) -> None:
        if key not in v and prompt is not None:
            v[key] = prompt(question, default).strip()

    ask("domain", "Public DNS name of the server", "localhost")
    ask("xmpp", "XMPP server (prosody or openfire)", "prosody")
    ask("auth", "Authentication (none, internal or jwt)", "none")
    if v.get("auth") == "jwt":
        ask("jwt_app_id", "JWT app id (JWT_APP_ID, shared with your LMS)", "")
    ask("letsencrypt_email", "Let's Encrypt account email (empty: self-signed certificate)", "")
    ask("timezone", "Time zone", "UTC")
    if prompt is not None and "jvb_advertise_ips" not in v:
        answer = prompt("Public IP(s) of the video bridge, comma-separated (empty: let JVB detect)", "")
        v["jvb_advertise_ips"] = [ip.strip() for ip in answer.split(",") if ip.strip()]

    data: dict[str, Any] = {}

    def put(path: str, key: str) -> None:
        if v.get(key) not in (None, "", []):
            node = data
            *parents, leaf = path.split(".")
            for parent in parents:
                node = node.setdefault(parent, {})
            node[leaf] = v[key]

    for path, key in (
        ("domain", "domain"), ("public_url", "public_url"), ("xmpp", "xmpp"),
        ("timezone", "timezone"), ("jvb_advertise_ips", "jvb_advertise_ips"),
        ("images.repository", "image_repository"), ("images.version", "image_version"),
        ("images.openfire", "openfire_image"), ("auth.type", "auth"),
        ("auth.jwt.app_id", "jwt_app_id"), ("auth.jwt.issuers", "jwt_issuers"),
        ("auth.jwt.audiences", "jwt_audiences"), ("ports.http", "http_port"),
        ("ports.https", "https_port"), ("ports.jvb_udp", "jvb_port"),
        ("ports.attendance", "attendance_port"), ("letsencrypt.email", "letsencrypt_email"),
        ("letsencrypt.domain", "letsencrypt_domain"), ("attendance.claims", "claims"),
        ("attendance.database_url", "database_url"),
    ):
        put(path, key)
    if v.get("letsencrypt_email"):
        data.setdefault("letsencrypt", {})["enabled"] = True
        # Let's Encrypt validates on port 80 and browsers expect 443.
        data.setdefault("ports", {}).setdefault("http", 80)
        data["ports"].setdefault("https", 443)
    return config_mod.from_dict(data)


def init(config_path: str | Path, values: dict[str, Any], prompt: Optional[Prompt] = None) -> InitResult:
    """Write jitsictl.yaml and create (or complete) the secrets file beside it."""
    config = build(values, prompt)
    config_path = Path(config_path)
    config_path.parent.mkdir(parents=True, exist_ok=True)
    config_mod.write(config, config_path)
    secrets = secrets_mod.ensure(secrets_mod.path_for(config_path), config)
    return InitResult(config=config, config_path=config_path, secrets_path=secrets.path,
                      secret_names=sorted(secrets.values))


def terminal_prompt(question: str, default: str) -> str:
    import typer

    return typer.prompt(question, default=default, show_default=bool(default)) if default \
        else typer.prompt(question, default="", show_default=False)
