"""Times as teachers read them: in the school's time zone, named, in their language.

Attendance is kept and computed in UTC (times.py); pages and exports show it in a zone: the
reader's choice on the settings page, else the deployment's `ATTENDANCE_TIMEZONE` (an IANA name
such as Europe/Paris, checked at start), else UTC.
"""
from __future__ import annotations

import datetime as dt
import functools
import zoneinfo

from .i18n import Translator

DEFAULT_ZONE = "UTC"


class UnknownZone(ValueError):
    pass


def zone_named(name: str) -> zoneinfo.ZoneInfo:
    """The IANA zone `name`; UnknownZone, saying what is expected, otherwise."""
    try:
        if name and name == name.strip():
            return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        pass
    raise UnknownZone(f"{name!r} is not an IANA time zone name; use one such as Europe/Paris, "
                      "America/New_York or UTC (the zones are listed in /usr/share/zoneinfo)")


@functools.cache
def zone_names() -> list[str]:
    """Every zone a reader may choose, sorted (for the settings page)."""
    return sorted(name for name in zoneinfo.available_timezones() if "/" in name or name == "UTC")


def local(moment: dt.datetime | None, zone: dt.tzinfo) -> dt.datetime | None:
    return None if moment is None else moment.astimezone(zone)


def clock(moment: dt.datetime | None, zone: dt.tzinfo, seconds: bool = False) -> str:
    """"08:03" (or "08:03:12") in `zone`; "" for no time."""
    if moment is None:
        return ""
    return moment.astimezone(zone).strftime("%H:%M:%S" if seconds else "%H:%M")


DAY_FORMATS = {"long": "date.long", "short": "date.short", "column": "date.column"}


def day(moment: dt.datetime | None, zone: dt.tzinfo, t: Translator, style: str = "long") -> str:
    """In `zone`: "Tue 24 Nov 2026" (long), "24 Nov 2026" (short), "Tue 24 Nov" (column); in
    French "mar. 24 nov. 2026"..."""
    if moment is None:
        return ""
    when = moment.astimezone(zone)
    return t(DAY_FORMATS[style], weekday=t(f"date.weekdays.{when.weekday()}"), day=when.day,
             month=t(f"date.months.{when.month}"), year=when.year)


def zone_label(zone: dt.tzinfo, moment: dt.datetime | None = None) -> str:
    """"Europe/Paris (UTC+01:00)" at `moment` (default: now): the name, and the offset then."""
    moment = moment or dt.datetime.now(dt.timezone.utc)
    offset = moment.astimezone(zone).utcoffset() or dt.timedelta(0)
    sign = "-" if offset < dt.timedelta(0) else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    name = getattr(zone, "key", None) or str(zone)
    return f"{name} (UTC{sign}{minutes // 60:02d}:{minutes % 60:02d})"
