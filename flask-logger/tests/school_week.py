"""A realistic school week as contract-v1 events: five lessons of MATH101 (group 3B) in Paris.

Monday to Friday of last week, 08:00-08:55 local time (Europe/Paris), room `maths-3b`. The
teacher, Claire Dupont (a moderator), opens the room two minutes early. 25 students with
accented, Arabic and Hebrew names; what happens to them is written down in `PLAN`, so tests can
check the pages against it:

- absent: never joined that day;       - late: first join at 08:12 (08:20 for one);
- left early: left for good at 08:30;  - reconnect: away 40 s at 08:20 (merged: grace is 60 s);
- away: gone 08:15-08:25 (a real gap);  - two tabs: a second connection 08:10-08:40;
- renamed: changes the display name during the lesson (the token's name stays the name shown).

And a guest without an account, "iPad", on Tuesday 08:05-08:50: never counted as a student.
"""
from __future__ import annotations

import datetime as dt
import uuid
from zoneinfo import ZoneInfo

ZONE = ZoneInfo("Europe/Paris")
COURSE = "MATH101"
ROOM = "maths-3b"
ROOM_JID = f"{ROOM}@muc.meet.jitsi"
SOURCE = {"server": "prosody", "host": "muc.meet.jitsi", "instance": "week-prosody-1"}
TEACHER = {"user_id": "t-100", "name": "Claire Dupont", "email": "c.dupont@school.example"}
DAYS = ("mon", "tue", "wed", "thu", "fri")
NAMES = [
    "Zoë Øster", "José Álvarez", "François Lefèvre", "Chloé Bernard", "مريم أحمد", "يوسف الخطيب", "שרה כהן",
    "דוד לוי", "Ana-Sofía Núñez", "Łukasz Wójcik", "Aïcha Diallo", "Björn Ågren", "Émilie Roux", "Noé Garnier",
    "Inès Haddad", "Mathis Girard", "Léa Fontaine", "Hugo Moreau", "Camille Dubois", "Lucas Petit",
    "Jade Laurent", "Nathan Simon", "Manon Michel", "Tom Lefebvre", "Sarah Mercier",
]
STUDENTS = [{"user_id": f"s-{n:02d}", "name": name, "email": f"student{n:02d}@school.example"}
            for n, name in enumerate(NAMES, start=1)]
# student number -> day -> what happens (default: there 08:00-08:55)
PLAN = {
    3: {"mon": "late", "tue": "late", "thu": "late"},     # François: often late
    4: {"tue": "left_early"},
    5: {"mon": "absent", "wed": "absent"},              # مريم: missed two lessons
    6: {d: "reconnect" for d in DAYS},
    7: {"wed": "very_late"},                            # שרה
    8: {"fri": "absent"},
    9: {"wed": "away"},
    10: {"thu": "left_early"},
    11: {"tue": "two_tabs"},
    1: {"mon": "renamed"},
    15: {"fri": "late"},
    25: {d: "absent" for d in DAYS[1:]},                # Sarah: came on Monday only
}


def week_start(today: dt.date | None = None) -> dt.date:
    """Monday of last week."""
    today = today or dt.date.today()
    return today - dt.timedelta(days=today.weekday() + 7)


def local(day: dt.date, hh: int, mm: int, ss: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hh, mm, ss, tzinfo=ZONE)


def _time(moment: dt.datetime) -> str:
    moment = moment.astimezone(dt.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class _Events:
    def __init__(self, tag: str):
        self.tag = tag
        self.events: list[dict] = []

    def add(self, kind: str, at: dt.datetime, **fields) -> None:
        event_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"week/{self.tag}/{len(self.events)}"))
        room = {} if kind == "source.started" else {"room": {"jid": ROOM_JID, "name": ROOM}}
        self.events.append({"id": event_id, "type": kind, "time": _time(at), "source": SOURCE, **room, **fields})

    def presence(self, person: dict | None, nick: str, start: dt.datetime, end: dt.datetime | None,
                 tab: str = "a", moderator: bool = False, rename_to: str | None = None) -> None:
        who = person["user_id"] if person else nick.lower()
        occupant = {"occupant_jid": f"{ROOM_JID}/{who}-{tab}", "user_jid": f"{who}-{tab}@meet.jitsi/{tab}",
                    "bare_jid": f"{who}-{tab}@meet.jitsi", "nick": nick}
        fields = {"occupant": occupant}
        if person:
            fields["identity"] = {**person, "moderator": moderator,
                                  "claims": {"courseid": COURSE, "groupid": "3B"}}
        self.add("occupant.joined", start, **fields)
        if rename_to:
            self.add("occupant.renamed", start + (end - start) / 2,
                     occupant={**occupant, "nick": rename_to, "previous_nick": nick})
            occupant = {**occupant, "nick": rename_to}
        if end is not None:
            self.add("occupant.left", end, occupant=occupant)


def lesson_events(day: dt.date, name: str, *, running_until: dt.datetime | None = None) -> list[dict]:
    """One lesson's events (`name` in DAYS picks the plan's day). With `running_until`, the lesson
    is still going on: only what happened before that moment, and no room.destroyed."""
    events = _Events(f"{day.isoformat()}/{name}")
    start, end = local(day, 8, 0), local(day, 8, 55)
    events.add("source.started", local(day, 7, 57))
    events.add("room.created", local(day, 7, 58))
    events.presence(TEACHER, "Mme Dupont", local(day, 7, 58), end, moderator=True)
    for number, student in enumerate(STUDENTS, start=1):
        what = PLAN.get(number, {}).get(name)
        nick = student["name"].split()[0]
        if what == "absent":
            continue
        if what == "late":
            events.presence(student, nick, local(day, 8, 12), end)
        elif what == "very_late":
            events.presence(student, nick, local(day, 8, 20), end)
        elif what == "left_early":
            events.presence(student, nick, start, local(day, 8, 30))
        elif what == "reconnect":
            events.presence(student, nick, start, local(day, 8, 20))
            events.presence(student, nick, local(day, 8, 20, 40), end, tab="b")
        elif what == "away":
            events.presence(student, nick, start, local(day, 8, 15))
            events.presence(student, nick, local(day, 8, 25), end, tab="b")
        elif what == "two_tabs":
            events.presence(student, nick, start, end)
            events.presence(student, nick, local(day, 8, 10), local(day, 8, 40), tab="b")
        elif what == "renamed":
            events.presence(student, nick, start, end, rename_to=nick + " Ø.")
        else:
            events.presence(student, nick, start, end)
    if name == "tue":
        events.presence(None, "iPad", local(day, 8, 5), local(day, 8, 50))
    events.add("room.destroyed", end + dt.timedelta(seconds=30))
    if running_until is None:
        return events.events
    return [e for e in events.events if e["type"] != "room.destroyed" and e["time"] <= _time(running_until)]


def week_events(monday: dt.date | None = None) -> list[dict]:
    monday = monday or week_start()
    return [event for offset, name in enumerate(DAYS)
            for event in lesson_events(monday + dt.timedelta(days=offset), name)]
