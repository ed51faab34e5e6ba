"""A course at a glance: its students × its lessons, each student's totals, each lesson's rate.

The course's students are the participants of its lessons who are neither teachers, guests nor
visitors from another course (lesson.py), plus the class list's students who never joined when
the meetings carry them. A student is expected at a lesson unless the lesson was for other groups
(the `groupid` claims of its students) than the student's; an expected student who is not among
the lesson's participants missed it: absent, never joined. Without a class list, a student who
never joined any lesson shown cannot be known.

Totals per student, over the lessons they were expected at: lessons attended (status present or
partial), minutes present, the average percent (a missed lesson counts 0) and the times late and
left early. A lesson's rate is the share of its expected students who attended.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Callable, Iterable

from .lesson import ATTENDED, Lesson, Person
from .names import fold_name


@dataclasses.dataclass
class Cell:
    """One student at one lesson."""

    status: str
    joined: bool
    late: bool = False
    left_early: bool = False
    percent: float = 0.0
    minutes: float = 0.0
    first_join: dt.datetime | None = None
    last_leave: dt.datetime | None = None
    still_present: bool = False

    @property
    def attended(self) -> bool:
        return self.status in ATTENDED

    @classmethod
    def of(cls, person: Person) -> "Cell":
        return cls(status=person.status, joined=person.joined, late=person.late, left_early=person.left_early,
                   percent=person.percent, minutes=person.minutes, first_join=person.first_join,
                   last_leave=person.last_leave, still_present=person.still_present)


MISSED = Cell(status="absent", joined=False)


@dataclasses.dataclass
class Column:
    """One lesson of the course, with its rate over the students expected."""

    lesson: Lesson
    expected: int = 0
    attended: int = 0

    @property
    def rate(self) -> float:
        return 100.0 * self.attended / self.expected if self.expected else 0.0


@dataclasses.dataclass
class StudentRow:
    key: str
    name: str
    names: list[str]  # other names they used (display names typed, earlier signed names)
    email: str | None
    group: str | None
    cells: list[Cell | None]  # one per column; None: not expected (another group's lesson)

    def _expected(self) -> list[Cell]:
        return [cell for cell in self.cells if cell is not None]

    @property
    def expected(self) -> int:
        return len(self._expected())

    @property
    def attended(self) -> int:
        return sum(cell.attended for cell in self._expected())

    @property
    def missed(self) -> int:
        return sum(not cell.joined for cell in self._expected())

    @property
    def minutes(self) -> float:
        return sum(cell.minutes for cell in self._expected())

    @property
    def average_percent(self) -> float:
        cells = self._expected()
        return sum(cell.percent for cell in cells) / len(cells) if cells else 0.0

    @property
    def late(self) -> int:
        return sum(cell.late for cell in self._expected())

    @property
    def left_early(self) -> int:
        return sum(cell.left_early for cell in self._expected())


SORTS: dict[str, Callable[[StudentRow], object]] = {
    "name": lambda row: (fold_name(row.name), row.key),
    "attended": lambda row: (row.attended, row.expected),
    "minutes": lambda row: row.minutes,
    "percent": lambda row: row.average_percent,
    "late": lambda row: row.late,
    "left_early": lambda row: row.left_early,
    "missed": lambda row: row.missed,
}
DEFAULT_SORT = "name"


@dataclasses.dataclass
class CourseReport:
    course: str
    columns: list[Column]
    students: list[StudentRow]
    guests: list[tuple[Lesson, Person]]  # shown apart, never counted
    teachers: list[str]  # names of the teachers seen

    @property
    def empty(self) -> bool:
        return not self.columns

    def sorted(self, sort: str = DEFAULT_SORT, descending: bool = False) -> list[StudentRow]:
        """The students sorted by `sort` (one of SORTS), ties by name."""
        by_name = sorted(self.students, key=SORTS["name"])
        if sort == "name":
            return list(reversed(by_name)) if descending else by_name
        return sorted(by_name, key=SORTS[sort], reverse=descending)

    def student(self, key: str) -> StudentRow | None:
        return next((row for row in self.students if row.key == key), None)


def _expected(row_group: str | None, lesson_groups: set[str]) -> bool:
    return not lesson_groups or row_group is None or row_group in lesson_groups


def course_report(course: str, lessons: Iterable[Lesson]) -> CourseReport:
    """The grid of `course` over `lessons` (oldest first), whose roles were set for this course."""
    columns: list[Column] = []
    seen: dict[str, dict[int, Person]] = {}  # student key -> column index -> their row there
    latest: dict[str, Person] = {}
    guests: list[tuple[Lesson, Person]] = []
    teachers: dict[str, None] = {}
    for index, lesson in enumerate(lessons):
        columns.append(Column(lesson))
        for person in lesson.people:
            if person.role == "student":
                seen.setdefault(person.key, {})[index] = person
                latest[person.key] = person
            elif person.role == "guest":
                guests.append((lesson, person))
            elif person.role == "teacher":
                teachers.setdefault(person.name, None)

    groups_of_column = [{p.group for p in column.lesson.students if p.group} for column in columns]
    students = []
    for key, by_column in seen.items():
        person = latest[key]
        group = next((p.group for p in reversed(list(by_column.values())) if p.group), None)
        cells: list[Cell | None] = []
        for index, column in enumerate(columns):
            there = by_column.get(index)
            if there is not None:
                cell = Cell.of(there)
            elif _expected(group, groups_of_column[index]):
                cell = MISSED
            else:
                cell = None
            if cell is not None:
                column.expected += 1
                column.attended += cell.attended
            cells.append(cell)
        names = list(dict.fromkeys(n for p in by_column.values() for n in [p.name, *p.names] if n and n != person.name))
        students.append(StudentRow(key=key, name=person.name, names=names, email=person.email, group=group,
                                   cells=cells))
    return CourseReport(course=course, columns=columns, students=students, guests=guests, teachers=list(teachers))
