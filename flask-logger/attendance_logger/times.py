"""Times as the receiver handles them: integer milliseconds since the Unix epoch (UTC).

The contract carries milliseconds (RFC 3339 UTC, three decimals), integers keep sums exact, and
they compare and index the same way on SQLite and PostgreSQL. Standard library only: the
attendance rules (rules.py) use these too.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

UTC = timezone.utc
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ONE_MS = timedelta(milliseconds=1)


def parse_time(value: str | datetime) -> datetime:
    """An aware UTC datetime from an RFC 3339 string (`Z` allowed) or a datetime (naive = UTC)."""
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def to_ms(value: str | datetime) -> int:
    """Milliseconds since the epoch of an RFC 3339 string or a datetime (naive = UTC)."""
    return (parse_time(value) - EPOCH) // ONE_MS


def from_ms(ms: int) -> datetime:
    return EPOCH + timedelta(milliseconds=ms)


def format_time(moment: datetime) -> str:
    """RFC 3339 UTC with milliseconds, as the contract writes times."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def format_ms(ms: int | None) -> str | None:
    return None if ms is None else format_time(from_ms(ms))
