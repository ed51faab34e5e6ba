"""Finding a student by name or e-mail among the meetings a reader may read.

Matching ignores case and accents (names.fold_name): "jose alvarez" finds "José Álvarez", and
part of a name or address is enough. Each meeting's kept presence (who was there, before any
setting applies) is read, not its attendance: a school year of a teacher's courses is a few
hundred small JSON documents. Teachers and guests are not students and are never found.
"""
from __future__ import annotations

import dataclasses
import json

from sqlalchemy import select

from .access import readable
from .attendance import presence_from_json
from .lesson import GUEST_KEY_PREFIXES
from .names import fold_course, fold_name
from .tables import meeting_courses, meetings

MIN_QUERY = 2
MAX_RESULTS = 50
_IDS_PER_QUERY = 500


@dataclasses.dataclass
class Found:
    key: str
    name: str
    email: str | None
    courses: list[str]  # readable courses they were a student of, as the meetings spell them


def _people(presence_text: str | None, result_text: str | None):
    """(key, name, names, email, moderator, claims) of each participant of a meeting row."""
    presence = presence_from_json(presence_text) if presence_text else None
    if presence is not None:
        return [(p.key, p.name, p.names, p.email, p.moderator, p.claims) for p in presence.people]
    if result_text:
        return [(p["key"], p["name"], p["names"], p["email"], p["moderator"], p["claims"])
                for p in json.loads(result_text)["participants"]]
    return []


def matches(query: str, name: str, names: list[str], email: str | None) -> bool:
    folded = fold_name(query)
    return (any(folded in fold_name(n) for n in [name, *names] if n)
            or (email is not None and query.strip().casefold() in email.casefold()))


def search(view, query: str) -> list[Found]:
    """The students matching `query` in the meetings `view` (access.View) may read, by name."""
    if len(fold_name(query)) < MIN_QUERY:
        return []
    ids = [row.id for row in view.meetings(limit=None)]
    found: dict[str, Found] = {}
    storage = view.attendance.storage
    with storage.read() as conn:
        for start in range(0, len(ids), _IDS_PER_QUERY):
            chunk = ids[start:start + _IDS_PER_QUERY]
            courses_of: dict[str, list[str]] = {}
            for meeting, course in conn.execute(select(meeting_courses.c.meeting, meeting_courses.c.course)
                                                .where(meeting_courses.c.meeting.in_(chunk))):
                courses_of.setdefault(meeting, []).append(course)
            rows = conn.execute(select(meetings.c.id, meetings.c.presence, meetings.c.result)
                                .where(meetings.c.id.in_(chunk)))
            for meeting_id, presence_text, result_text in rows:
                for key, name, names, email, moderator, claims in _people(presence_text, result_text):
                    if moderator or key.startswith(GUEST_KEY_PREFIXES) or not matches(query, name, names, email):
                        continue
                    claimed = (claims or {}).get("courseid")
                    courses = [str(claimed)] if claimed not in (None, "") else courses_of.get(meeting_id, [])
                    entry = found.setdefault(key, Found(key=key, name=name, email=email, courses=[]))
                    entry.name, entry.email = name or entry.name, email or entry.email
                    for course in courses:
                        if all(fold_course(course) != fold_course(c) for c in entry.courses):
                            entry.courses.append(course)
    results = sorted(found.values(), key=lambda f: (fold_name(f.name), f.key))
    for entry in results:
        # A visitor from another course may sit in a readable meeting: only readable courses link.
        entry.courses = sorted((c for c in entry.courses if readable(view.account, [c])), key=fold_course)
    return results[:MAX_RESULTS]
