"""What each account chose on the settings page: its language and its time zone.

Neither is required: without a choice the language follows the browser (Accept-Language) and the
time zone is the deployment's (ATTENDANCE_TIMEZONE).
"""
from __future__ import annotations

import dataclasses

from sqlalchemy import delete, select

from .i18n import CATALOGUES
from .localtime import zone_named
from .storage import insert_for
from .tables import account_preferences


@dataclasses.dataclass(frozen=True)
class Preferences:
    language: str | None = None
    timezone: str | None = None




def read(storage, account: str) -> Preferences:
    with storage.read() as conn:
        row = conn.execute(select(account_preferences.c.language, account_preferences.c.timezone)
                           .where(account_preferences.c.account == account)).first()
    if row is None:
        return Preferences()
    # A language or zone that is no longer known (a catalogue removed, tzdata changed) is no choice.
    language = row.language if row.language in CATALOGUES else None
    try:
        timezone = row.timezone and zone_named(row.timezone).key
    except ValueError:
        timezone = None
    return Preferences(language=language, timezone=timezone or None)


def write(storage, account: str, preferences: Preferences) -> None:
    """Keep `preferences` (checked: a language of the catalogues, an IANA zone, or None each)."""
    if preferences.language is not None and preferences.language not in CATALOGUES:
        raise ValueError(f"unknown language {preferences.language!r}")
    if preferences.timezone is not None:
        zone_named(preferences.timezone)
    with storage.write() as conn:
        conn.execute(delete(account_preferences).where(account_preferences.c.account == account))
        if preferences != Preferences():
            conn.execute(insert_for(conn, account_preferences).values(
                account=account, language=preferences.language, timezone=preferences.timezone))
