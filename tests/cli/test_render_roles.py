"""Who becomes moderator, as rendered: Prosody's modules and jicofo's settings together.

jicofo cannot run here, so its rendered environment is read the way docker-jitsi-meet
stable-11146-2's `jicofo/rootfs/defaults/jicofo.conf` template reads it (the template's logic is
restated below; the values come from the real `docker compose config` of the rendered project),
and the result is compared with what jicofo does with those settings (jicofo
`JitsiMeetConferenceImpl.joinTheRoom`, `ChatRoomRoleManager.kt`, `reference.conf`):

- `jicofo.authentication.enabled` comes from JICOFO_ENABLE_AUTH, defaulting to ENABLE_AUTH;
  with it jicofo uses AuthenticationRoleManager: every authenticated user becomes owner;
- `jicofo.conference.enable-auto-owner` is written only when ENABLE_AUTO_OWNER is set; unset,
  reference.conf's `true` applies: the first participant (AutoOwnerRoleManager) becomes owner;
- neither: jicofo grants ownership to no one, and Prosody's token_moderators decides.
"""
from __future__ import annotations

import pytest

from jitsictl import render as render_mod

from .conftest import VARIANTS, compose_config, write_project
from .test_render_golden import render_variant


def go_template_bool(value: str) -> bool:
    """sprig's toBool (spf13/cast ToBool on a string, strconv.ParseBool)."""
    text = value.strip()
    if text in ("1", "t", "T", "TRUE", "true", "True"):
        return True
    if text in ("", "0", "f", "F", "FALSE", "false", "False"):
        return False
    raise AssertionError(f"{value!r} is no boolean to the template: jicofo.conf would not render")


def jicofo_owner_policy(env: dict[str, str]) -> str:
    """Who jicofo makes room owner with this environment."""
    # `{{ $JICOFO_ENABLE_AUTH := .Env.JICOFO_ENABLE_AUTH | default $ENABLE_AUTH | toBool }}`,
    # `$ENABLE_AUTH := .Env.ENABLE_AUTH | default "0"` (sprig's default treats "" as unset)
    authentication = go_template_bool(env.get("JICOFO_ENABLE_AUTH") or env.get("ENABLE_AUTH") or "0")
    if authentication:
        return "every authenticated user"
    # `{{ if .Env.ENABLE_AUTO_OWNER }} enable-auto-owner = {{ .Env.ENABLE_AUTO_OWNER | toBool }}`
    auto_owner = go_template_bool(env["ENABLE_AUTO_OWNER"]) if env.get("ENABLE_AUTO_OWNER") else True
    return "the first participant" if auto_owner else "no one"


def services_of(tmp_path, data: dict) -> dict:
    from jitsictl import config as config_mod
    from jitsictl import secrets as secrets_mod

    config_path = write_project(tmp_path, data)
    config = config_mod.load(config_path)
    secrets = secrets_mod.ensure(secrets_mod.path_for(config_path), config)
    return compose_config(render_mod.render(config, secrets, tmp_path / "stack").out_dir)["services"]


def test_with_tokens_deciding_jicofo_grants_no_one_and_prosody_reads_the_token(tmp_path):
    services = compose_config(render_variant("prosody-jwt", tmp_path))["services"]
    assert jicofo_owner_policy(services["jicofo"]["environment"]) == "no one"
    prosody = services["prosody"]["environment"]
    for key in ("XMPP_MUC_MODULES", "XMPP_BREAKOUT_MUC_MODULES"):
        assert prosody[key].split(",") == ["presence_logger", "token_moderators"]
    # Prosody still requires and verifies a token for everyone.
    assert (prosody["ENABLE_AUTH"], prosody["AUTH_TYPE"]) == ("1", "jwt")
    assert (services["web"]["environment"]["ENABLE_AUTH"], services["web"]["environment"]["AUTH_TYPE"]) == ("1", "jwt")
    # jicofo's REST server stays on its container's loopback (never /debug to the network).
    assert "JICOFO_ENABLE_REST" not in services["jicofo"]["environment"]
    assert "ports" not in services["jicofo"]


def test_without_moderators_from_token_every_token_holder_moderates(tmp_path):
    data = {**VARIANTS["prosody-jwt"]}
    data["auth"] = {**data["auth"], "jwt": {**data["auth"]["jwt"], "moderators_from_token": False}}
    services = services_of(tmp_path, data)
    assert jicofo_owner_policy(services["jicofo"]["environment"]) == "every authenticated user"
    assert services["prosody"]["environment"]["XMPP_MUC_MODULES"] == "presence_logger"


@pytest.mark.parametrize("variant,policy", [
    ("prosody-none", "the first participant"),
    ("prosody-internal-letsencrypt", "every authenticated user"),  # account holders; guests are not
    ("openfire-none", "the first participant"),
])
def test_other_auth_types_keep_jicofos_own_rules(tmp_path, variant, policy):
    services = compose_config(render_variant(variant, tmp_path))["services"]
    assert jicofo_owner_policy(services["jicofo"]["environment"]) == policy
    if "prosody" in services:
        assert "token_moderators" not in services["prosody"]["environment"]["XMPP_MUC_MODULES"]


def test_guests_are_rendered_with_the_guest_domain(tmp_path):
    services = compose_config(render_variant("prosody-internal-letsencrypt", tmp_path))["services"]
    for service in ("web", "prosody"):
        environment = services[service]["environment"]
        assert (environment["ENABLE_GUESTS"], environment["XMPP_GUEST_DOMAIN"]) == ("1", "guest.meet.jitsi")
    assert compose_config(render_variant("prosody-none", tmp_path / "none"))["services"]["web"][
        "environment"]["ENABLE_GUESTS"] == "0"


def test_no_jibri_or_jigasi_account_is_rendered(tmp_path):
    """docker-jitsi-meet registers (and makes admins of) Jibri and Jigasi accounts whenever their
    passwords are set (prosody register-setup, jitsi-meet.cfg.lua): the stack runs neither."""
    for variant in VARIANTS:
        out = render_variant(variant, tmp_path / variant)
        text = (out / "docker-compose.yml").read_text() + (out / ".env").read_text()
        assert "JIBRI" not in text and "JIGASI" not in text, variant
        assert not any(name.startswith(("JIBRI", "JIGASI"))
                       for name in (out.parent / "jitsictl.secrets.yaml").read_text().split())
