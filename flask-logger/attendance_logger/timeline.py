"""A meeting's timeline: a time axis, and each person's presence as bars placed on it.

Positions are percentages of the window shown (the meeting, widened to its scheduled lesson when
it has one), so the page lays them out at any width with inline `left`/`width` styles. Ticks
fall on round local times (every 5, 10, 15, 30 or 60 minutes, whichever gives at most 8).
"""
from __future__ import annotations

import dataclasses
import datetime as dt

from .lesson import Lesson, Person

TICK_MINUTES = (1, 2, 5, 10, 15, 30, 60, 120, 240)
MAX_TICKS = 8
MIN_BAR_PERCENT = 0.6  # a 10-second visit stays visible (and clickable)


@dataclasses.dataclass
class Bar:
    left: float
    width: float
    start: dt.datetime
    end: dt.datetime

    @property
    def minutes(self) -> float:
        return (self.end - self.start).total_seconds() / 60


@dataclasses.dataclass
class Lane:
    person: Person
    bars: list[Bar]


@dataclasses.dataclass
class Timeline:
    start: dt.datetime
    end: dt.datetime
    ticks: list[tuple[float, dt.datetime]]  # (percent, time)
    reference: tuple[float, float] | None  # the scheduled lesson: (left, width) in percent
    lanes: dict[str, list[Lane]]  # by role: student, teacher, guest, visitor


def _percent(moment: dt.datetime, start: dt.datetime, span: float) -> float:
    return round(min(100.0, max(0.0, (moment - start).total_seconds() / span * 100)), 3)


def ticks(start: dt.datetime, end: dt.datetime, zone: dt.tzinfo) -> list[tuple[float, dt.datetime]]:
    """Round local times within [start, end], at most MAX_TICKS of them."""
    span = max((end - start).total_seconds(), 1.0)
    step = next((m for m in TICK_MINUTES if span / 60 / m <= MAX_TICKS), TICK_MINUTES[-1])
    local = start.astimezone(zone)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    minutes = (local - midnight).total_seconds() / 60
    first = midnight + dt.timedelta(minutes=-(-minutes // step) * step)
    found = []
    moment = first
    while moment <= end:
        found.append((_percent(moment, start, span), moment))
        moment = (moment.astimezone(dt.timezone.utc) + dt.timedelta(minutes=step)).astimezone(zone)
    return found


def timeline(lesson: Lesson, zone: dt.tzinfo) -> Timeline:
    start, end = lesson.window
    span = max((end - start).total_seconds(), 0.001)
    lanes: dict[str, list[Lane]] = {}
    for person in lesson.people:
        bars = []
        for a, b in person.intervals:
            left = _percent(a, start, span)
            width = max(MIN_BAR_PERCENT, (b - a).total_seconds() / span * 100)
            bars.append(Bar(left=left, width=round(min(width, 100 - left), 3), start=a, end=b))
        lanes.setdefault(person.role, []).append(Lane(person, bars))
    reference = None
    if lesson.reference:
        left = _percent(lesson.reference[0], start, span)
        reference = (left, round(_percent(lesson.reference[1], start, span) - left, 3))
    return Timeline(start=start, end=end, ticks=ticks(start, end, zone), reference=reference, lanes=lanes)
