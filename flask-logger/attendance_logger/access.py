"""Who reads which attendance: the one access rule, and the only way reads reach attendance.

The rule (`readable`): an admin reads every meeting; a teacher reads a meeting when one of its
courses is granted to them. A meeting's courses are the `courseid` claims its participants'
tokens carried, or when none did, the course its room's name gives (the meeting_courses index,
course_names.py); a meeting without any is for admins only. The same rule says whose class lists
and timetables an account may import and read: an admin's any course's, a teacher's their own.

Every read endpoint, page and export gets its data from `view()`, the reader's View of the
attendance, which applies the rule; a meeting the reader may not read is "not found", exactly as
a meeting that does not exist, so the answers never tell whether another course's meeting exists.
"""
from __future__ import annotations

from typing import Iterable, Iterator

from flask import current_app, g
from sqlalchemy import select

from .accounts import Account
from .attendance import MeetingNotFound
from .names import fold_course
from .tables import meeting_courses


class CourseNotReadable(Exception):
    def __init__(self, course: str):
        super().__init__(f"course {course!r} is not among your courses")


def readable(account: Account, courses: Iterable[str]) -> bool:
    """The access rule: may `account` read what belongs to `courses`? Course ids compare without
    regard to case (names.fold_course), as the filters do: a grant of MATH101 covers math101."""
    if account.sees_every_course:
        return True
    granted = {fold_course(c) for c in account.courses}
    return any(fold_course(c) in granted for c in courses)


class View:
    """The attendance as one account may read it."""

    def __init__(self, attendance, account: Account):
        self.attendance = attendance
        self.account = account
        self.settings = attendance.settings

    def meetings(self, *, course: str | None = None, limit: int | None = 1000, **filters) -> list:
        """Index rows of the meetings matching `filters` (see Storage.list_meetings), newest first;
        `limit` None: all of them."""
        if self.account.sees_every_course:
            return self.attendance.meetings(course=course, limit=limit, **filters)
        courses = [course] if course is not None else sorted(self.account.courses)
        found = {}
        for one in courses:
            if readable(self.account, [one]):
                found.update((row.id, row) for row in self.attendance.meetings(course=one, limit=limit, **filters))
        return sorted(found.values(), key=lambda row: (-row.started_ms, row.id))[:limit]

    def meeting(self, meeting_id: str):
        """One meeting's attendance (engine.Meeting); MeetingNotFound if absent or not readable."""
        meeting = self.attendance.meeting(meeting_id)
        if not self.account.sees_every_course:
            with self.attendance.storage.read() as conn:
                courses = conn.execute(select(meeting_courses.c.course)
                                       .where(meeting_courses.c.meeting == meeting_id)).scalars().all()
            if not readable(self.account, courses):
                raise MeetingNotFound(meeting_id)
        return meeting

    def courses(self) -> dict[str, int]:
        """The courses the reader may read, with their number of meetings (0: not met yet)."""
        self.attendance.refresh()
        held = self.attendance.storage.courses()
        if self.account.sees_every_course:
            return dict(sorted(held.items()))
        found = {course: 0 for course in self.account.courses}
        for course, count in held.items():
            for granted in self.account.courses:
                if fold_course(granted) == fold_course(course):
                    found[granted] += count
        return dict(sorted(found.items()))

    def require_courses(self, courses: Iterable[str]) -> None:
        """CourseNotReadable for the first of `courses` the account may not read (or import for)."""
        for course in sorted(set(courses)):
            if not readable(self.account, [course]):
                raise CourseNotReadable(course)

    def course(self, course: str) -> Iterator:
        """The course's meetings, oldest first (Attendance.course); CourseNotReadable if not granted."""
        if not readable(self.account, [course]):
            raise CourseNotReadable(course)
        return self.attendance.course(course)


def view() -> View:
    """The logged-in reader's view (auth's decorators have put the account in `g`)."""
    return View(current_app.extensions["attendance"], g.account)
