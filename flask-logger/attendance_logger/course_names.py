"""Which courses (and group) a meeting belongs to.

The courses are the `courseid` claims its participants' tokens carried. When none carried one (a
stock mod_jitsi token has no course claim), the room's name may say it: ATTENDANCE_ROOM_PATTERN,
a regular expression with the named groups `course`, `group` and `activity` (room_pattern.py).
The course a room names is mod_jitsi's reduced form of the shortname (`MAT-1A` becomes `mat-1a`),
so it is resolved to the course the receiver knows by that name:

1. ATTENDANCE_ROOM_COURSES, an explicit map (`mat-1a=MAT-1A,fis-2b=FIS-2B`), when it names it;
2. else the one course of the class lists and timetables (class_store.py) that mod_jitsi would
   reduce to it (room_pattern.courses_named); two that reduce alike (`MAT_1A`, `MAT1A`) are not
   chosen between;
3. else the room's course as it is.

The meeting's group is the `groupid` claim when every participant that carries one agrees, else
the room's group.
"""
from __future__ import annotations

import dataclasses
import hashlib
from typing import Collection, Iterable, Mapping

from .named_pattern import PatternError
from .room_pattern import RoomPattern, courses_named

COURSE_CLAIM = "courseid"
GROUP_CLAIM = "groupid"


@dataclasses.dataclass(frozen=True)
class CourseNames:
    pattern: RoomPattern | None = None
    room_courses: Mapping[str, str] = dataclasses.field(default_factory=dict)

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> CourseNames:
        """From ATTENDANCE_ROOM_PATTERN and ATTENDANCE_ROOM_COURSES; ValueError says what is wrong."""
        text = environ.get("ATTENDANCE_ROOM_PATTERN", "").strip()
        try:
            pattern = RoomPattern.compile(text, setting="ATTENDANCE_ROOM_PATTERN") if text else None
        except PatternError as exc:
            raise ValueError(str(exc)) from None
        return cls(pattern, parse_pairs(environ.get("ATTENDANCE_ROOM_COURSES", ""), "ATTENDANCE_ROOM_COURSES",
                                        "room-course=COURSE, e.g. mat-1a=MAT-1A"))

    @property
    def fingerprint(self) -> str:
        """Changes when the rules that read rooms' courses change (the index is then rebuilt)."""
        text = (self.pattern.pattern.text if self.pattern else "") + "\n" + \
            "\n".join(f"{k}={v}" for k, v in sorted(self.room_courses.items()))
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def of_room(self, room_name: str, known: Collection[str]) -> tuple[str, str | None] | None:
        """(course, group) the room's name gives, the course resolved as the module says; None
        without a pattern or when the name does not fit it."""
        if self.pattern is None:
            return None
        found = self.pattern.classify(room_name)
        if found is None:
            return None
        course = self.room_courses.get(found.course)
        if course is None:
            course = resolve(found.course, known)
        return course, found.group

    def of_meeting(self, room_name: str, people: Iterable, known: Collection[str],
                   claims: Collection[str] = (COURSE_CLAIM, GROUP_CLAIM)) -> tuple[list[tuple[str, str]], str | None]:
        """The meeting's courses as (course, source "claim" | "room") and its group. `people`
        carry `claims` and `moderator` (rules.PersonPresence); only the claims named in `claims`
        (the receiver's allow-list) are read."""
        people = list(people)

        def claimed(name: str, who) -> set[str]:
            if name not in claims:
                return set()
            return {str(p.claims[name]) for p in who if p.claims and p.claims.get(name) not in (None, "")}

        claimed_courses = sorted(claimed(COURSE_CLAIM, people))
        groups = claimed(GROUP_CLAIM, [p for p in people if not p.moderator])
        room = None if claimed_courses and groups else self.of_room(room_name, known)
        group = groups.pop() if len(groups) == 1 else (room[1] if room else None)
        if claimed_courses:
            return [(course, "claim") for course in claimed_courses], group
        return ([(room[0], "room")] if room else []), group


def resolve(room_course: str, known: Collection[str]) -> str:
    if room_course in known:
        return room_course
    named = courses_named(room_course, sorted(known))
    return named[0] if len(named) == 1 else room_course


def parse_pairs(text: str, setting: str, example: str) -> dict[str, str]:
    """`a=B,c=D` as {"a": "B", "c": "D"}; ValueError naming `setting` for anything else."""
    pairs: dict[str, str] = {}
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        key, equals, value = item.partition("=")
        if not equals or not key.strip() or not value.strip():
            raise ValueError(f"{setting}: {item!r} is not {example}")
        if key.strip() in pairs:
            raise ValueError(f"{setting}: {key.strip()!r} is given twice")
        pairs[key.strip()] = value.strip()
    return pairs
