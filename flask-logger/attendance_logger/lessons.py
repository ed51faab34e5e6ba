"""What a meeting is measured against: its scheduled lesson and its course's class list.

Pure and standard-library only, like rules.py, which applies it. The store (class_store.py)
supplies a meeting's MeetingContext: its courses and group, the lessons of those courses around
it, and the students enrolled in them.

The lesson of a meeting (`choose_lesson`): among the lessons of the meeting's courses, and of its
group when the meeting's group is known (lessons without a group are the whole course's), the one
that overlaps the meeting longest, provided the overlap is at least half of the shorter of the two
(so a help session that starts a minute before a lesson ends is not measured against it). A
running meeting is taken to go on: it can match a lesson that has begun, however long it still
runs. Two lessons overlapping equally long give no lesson (the meeting is its own reference, and
the report says why): a coin toss would move late and absent marks.

Who was there (`match_roster`): a participant is an enrolled student by the LMS user id in their
token, else its e-mail, else the name it signed (the full name or the username), compared without
case or accents; a guest's typed display name never matches anyone. A participant matching several
students leaves all of them unmarked rather than choosing; enrolled students nobody matched are
absent, never joined.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

from .names import fold_name


@dataclass(frozen=True)
class Lesson:
    course: str
    group: str | None
    start_ms: int
    end_ms: int
    source: str  # "file" or "moodle"
    origin: str = ""  # where it came from: "line 4", an iCalendar UID, "session 812"
    external_id: int | None = None  # the Moodle Attendance session it is
    external_group: int | None = None  # that session's Moodle group id (0: the whole course)


@dataclass(frozen=True)
class Enrolled:
    """A student on a course's class list."""
    course: str
    name: str
    user_id: str | None = None  # what the LMS puts in tokens' user id
    username: str | None = None  # what mod_jitsi signs as the name by default
    email: str | None = None
    group: str | None = None
    source: str = "file"


@dataclass(frozen=True)
class MeetingContext:
    courses: tuple[str, ...] = ()
    group: str | None = None
    from_room: bool = False  # the courses come from the room's name, not from tokens' claims
    lessons: tuple[Lesson, ...] = ()
    roster: tuple[Enrolled, ...] = ()


@dataclass(frozen=True)
class LessonChoice:
    lesson: Lesson | None
    note: str | None = None  # why no lesson was taken although some were near


def same_group(a: str | None, b: str | None) -> bool:
    return a is not None and b is not None and a.casefold() == b.casefold()


def choose_lesson(lessons: Iterable[Lesson], start_ms: int, end_ms: int | None, now_ms: int,
                  group: str | None = None) -> LessonChoice:
    """The meeting's lesson by the rule in the module's docstring; `end_ms` None: still running."""
    fitting = []
    for lesson in lessons:
        if group is not None and lesson.group is not None and not same_group(group, lesson.group):
            continue
        if end_ms is None:
            if lesson.start_ms > now_ms:
                continue
            overlap = lesson.end_ms - max(lesson.start_ms, start_ms)
            shorter = lesson.end_ms - lesson.start_ms
        else:
            overlap = min(lesson.end_ms, end_ms) - max(lesson.start_ms, start_ms)
            shorter = min(lesson.end_ms - lesson.start_ms, end_ms - start_ms)
        if overlap > 0 and 2 * overlap >= shorter:
            fitting.append((overlap, lesson))
    if not fitting:
        return LessonChoice(None)
    best = max(overlap for overlap, _ in fitting)
    top = [lesson for overlap, lesson in fitting if overlap == best]
    if len(top) > 1:
        names = ", ".join(sorted(f"{l.course}" + (f" ({l.group})" if l.group else "") for l in top))
        return LessonChoice(None, f"{len(top)} lessons fit this meeting equally ({names}): it is measured against "
                                  "itself; give the meeting's group in the room name or the tokens to tell them apart")
    return LessonChoice(top[0])


def expected_students(roster: Sequence[Enrolled], group: str | None) -> list[Enrolled]:
    """The class list of a lesson: its group's students (and those listed without a group), or
    everyone when the group is unknown."""
    if group is None:
        return list(roster)
    return [entry for entry in roster if entry.group is None or same_group(entry.group, group)]


def candidates(roster: Sequence[Enrolled], *, user_id: str | None, email: str | None,
               signed_name: str | None) -> list[Enrolled]:
    """The students a participant may be, by the strongest identifier they carry."""
    if user_id:
        return [e for e in roster if e.user_id is not None and e.user_id == user_id.strip()]
    if email:
        folded = email.strip().casefold()
        return [e for e in roster if e.email is not None and e.email.casefold() == folded]
    if signed_name and fold_name(signed_name):
        name, login = fold_name(signed_name), signed_name.strip().casefold()
        return [e for e in roster if fold_name(e.name) == name or (e.username and e.username.casefold() == login)]
    return []


@dataclass(frozen=True)
class RosterMatch:
    enrolled: dict  # participant key -> True (on the list) | False (not on it)
    absent: list[Enrolled]  # on the list, never joined
    undecided: list[Enrolled]  # a participant may be any of these: none is marked absent


def match_roster(people: Iterable, roster: Sequence[Enrolled]) -> RosterMatch:
    """`people` carry `key`, `user_id`, `email`, `name` and `key_kind` (rules.Participant)."""
    enrolled: dict[str, bool] = {}
    attended: set[int] = set()
    undecided: set[int] = set()
    for person in people:
        found = candidates(roster, user_id=person.user_id, email=person.email,
                           signed_name=person.name if person.key_kind == "signed_name" else None)
        enrolled[person.key] = bool(found)
        if len(found) == 1:
            attended.add(id(found[0]))
        else:
            undecided.update(id(entry) for entry in found)
    undecided -= attended
    return RosterMatch(enrolled=enrolled,
                       absent=[e for e in roster if id(e) not in attended and id(e) not in undecided],
                       undecided=[e for e in roster if id(e) in undecided])
