"""The reader's language and time zone in this request, and the deployment's defaults.

- `ATTENDANCE_TIMEZONE`: the IANA zone local times are shown in (default UTC), checked at start;
  an account may choose another one on the settings page.
- `ATTENDANCE_CLAIM_LABELS`: `claim=Label,...`, the headings of claim columns on pages and in
  exports. Without one, CSV files say `course` and `group` for courseid and groupid
  (reports.DEFAULT_CLAIM_HEADERS) and pages and workbooks the catalogue's words for them.
- The language: the account's choice, else the browser's Accept-Language, else English (i18n.py).
"""
from __future__ import annotations

import datetime as dt

from flask import current_app, g, request

from . import i18n, localtime, preferences
from .config import ConfigError
from .reports import SEPARATORS, Layout
from .times import from_ms
from .workbooks import claim_heading

def parse_claim_labels(text: str | None, claims: tuple[str, ...]) -> dict[str, str]:
    """`courseid=Course,groupid=Group` -> {"courseid": "Course", ...} (None: none configured).
    ConfigError, saying what is wrong, for anything else."""
    if text is None:
        return {}
    labels: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        claim, sep, label = (piece.strip() for piece in item.partition("="))
        if not sep or not claim or not label:
            raise ConfigError(f"ATTENDANCE_CLAIM_LABELS: {item!r} is not claim=Label "
                              "(e.g. ATTENDANCE_CLAIM_LABELS=courseid=Course,groupid=Group)")
        if claim not in claims:
            raise ConfigError(f"ATTENDANCE_CLAIM_LABELS names {claim!r}, which is not among the claims reports show "
                              f"(ATTENDANCE_CLAIMS: {', '.join(claims) or 'none'}); add it there or remove its label")
        if claim in labels:
            raise ConfigError(f"ATTENDANCE_CLAIM_LABELS gives {claim!r} two labels; keep one")
        labels[claim] = label
    return labels


def init_app(app) -> None:
    try:
        app.extensions["timezone"] = localtime.zone_named(app.config["TIMEZONE"])
    except localtime.UnknownZone as exc:
        raise ConfigError(f"ATTENDANCE_TIMEZONE: {exc}") from None
    claims = app.extensions["attendance"].settings.claims
    labels = app.config["CLAIM_LABELS"]
    app.extensions["claim_labels"] = parse_claim_labels(labels, claims)
    app.context_processor(lambda: template_helpers())


def _preferences() -> preferences.Preferences:
    if "preferences" not in g:
        account = g.get("account")
        g.preferences = (preferences.read(current_app.extensions["storage"], account.name) if account
                         else preferences.Preferences())
    return g.preferences


def translator() -> i18n.Translator:
    if "translator" not in g:
        g.translator = i18n.Translator(i18n.best_language(_preferences().language, request.accept_languages))
    return g.translator


def zone() -> dt.tzinfo:
    chosen = _preferences().timezone
    return localtime.zone_named(chosen) if chosen else current_app.extensions["timezone"]


def layout(separator: str | None = None) -> Layout:
    """The export layout of this request: the reader's zone, the configured claim labels, and the
    separator of `?sep=` (`,` unless `;`)."""
    if separator not in SEPARATORS:
        separator = ","
    return Layout(zone=zone(), claim_labels=current_app.extensions["claim_labels"], separator=separator)


def template_helpers() -> dict:
    t = translator()
    here = zone()
    return {
        "t": t,
        "zone": here,
        "zone_label": localtime.zone_label(here),
        "clock": lambda moment, seconds=False: localtime.clock(moment, here, seconds),
        "day": lambda moment, style="long": localtime.day(moment, here, t, style),
        "claim_heading": lambda claim: _claim_heading(claim, t),
        "from_ms": from_ms,
        "now": dt.datetime.now(dt.timezone.utc),
        "default_zone": getattr(current_app.extensions["timezone"], "key", "UTC"),
    }


def _claim_heading(claim: str, t: i18n.Translator) -> str:
    return claim_heading(claim, layout(), t)
