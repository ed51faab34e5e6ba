"""A class list from a CSV file, for schools whose students are not in Moodle.

One row per student and course. Columns (header names are matched without regard to case, and
`_` or `-` read as spaces; other columns are ignored):

| column | required | also accepted as | meaning |
|---|---|---|---|
| `user_id` | no | `userid`, `id`, `lms user id` | the student's id in the LMS (what a token's user id claim carries) |
| `name` | yes | `full name`, `fullname` | the student's full name, as the LMS signs it in tokens |
| `username` | no | `user name`, `login` | the student's login, which mod_jitsi signs as the name by default |
| `email` | no | `email address`, `e-mail`, `mail` | the student's email |
| `course` | yes, unless the import names the course | `course shortname`, `shortname` | the course (its shortname in the LMS) |
| `group` | no | `group name` | the group within the course |

Two rows of one course may not share a user id, a username or an email, and two rows with the
same name must each carry a user id, a username or an email to tell them apart.
"""
from __future__ import annotations

import dataclasses
import re

from .names import fold_name
from .table_import import Column, ImportFailed, Problem, Table, read_table

COLUMNS = [
    Column("user_id", ("userid", "id", "lms user id")),
    Column("name", ("full name", "fullname"), required=True),
    Column("username", ("user name", "login")),
    Column("email", ("email address", "e-mail", "mail")),
    Column("course", ("course shortname", "shortname"), required=True),
    Column("group", ("group name",)),
]
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


@dataclasses.dataclass(frozen=True)
class RosterEntry:
    course: str
    name: str
    user_id: str | None
    email: str | None
    group: str | None
    line: int
    username: str | None = None


def parse_roster(data: bytes, source: str = "roster.csv", *, course: str | None = None) -> list[RosterEntry]:
    """The entries of a roster CSV; raises table_import.ImportFailed (nothing imported) listing every
    problem with its line and column. With `course`, the file is that course's class list: its
    course column may be missing or empty, and must not name another course."""
    columns = COLUMNS if course is None else \
        [dataclasses.replace(c, required=False) if c.name == "course" else c for c in COLUMNS]
    table = read_table(data, source, columns)
    problems: list[Problem] = []
    entries: list[RosterEntry] = []
    for row in table.rows:
        values = row.values
        bad = False
        if course is not None:
            given = values.get("course", "")
            if given and given != course:
                problems.append(table.problem(row.line, "course", f"{given!r} is not {course!r}, the course this "
                                              "class list is imported for"))
                bad = True
            values = {**values, "course": course}
        for column in ("course", "name"):
            if not values[column]:
                problems.append(table.problem(row.line, column, f"the {column} is empty"))
                bad = True
        email = values.get("email") or None
        if email and not _EMAIL.fullmatch(email):
            problems.append(table.problem(row.line, "email", f"{email!r} is not an email address"))
            bad = True
        user_id = values.get("user_id") or None
        username = values.get("username") or None
        for column, value in (("user_id", user_id), ("username", username)):
            if value and any(ch.isspace() for ch in value):
                problems.append(table.problem(row.line, column, f"{value!r} has spaces; a {column.replace('_', ' ')} "
                                              "is one word"))
                bad = True
        if not bad:
            entries.append(RosterEntry(course=values["course"], name=values["name"], user_id=user_id,
                                       email=email, group=values.get("group") or None, line=row.line,
                                       username=username))
    problems.extend(_duplicates(table, entries))
    if problems:
        raise ImportFailed(source, sorted(problems, key=lambda p: (p.line or 0, p.column or 0)))
    return entries


def _duplicates(table: Table, entries: list[RosterEntry]) -> list[Problem]:
    problems = []
    seen: dict[tuple, RosterEntry] = {}
    for entry in entries:
        keys = [("user_id", entry.user_id, f"user id {entry.user_id}")] if entry.user_id else []
        if entry.username:
            keys.append(("username", entry.username.casefold(), f"username {entry.username}"))
        if entry.email:
            keys.append(("email", entry.email.casefold(), f"email {entry.email}"))
        for column, value, said in keys:
            earlier = seen.setdefault((entry.course, column, value), entry)
            if earlier is not entry:
                problems.append(table.problem(entry.line, column, f"course {entry.course} lists {said} twice "
                                         f"(also line {earlier.line})"))
    namesakes: dict[tuple, list[RosterEntry]] = {}
    for entry in entries:
        namesakes.setdefault((entry.course, fold_name(entry.name)), []).append(entry)
    for same in namesakes.values():
        for entry in same[1:] if len(same) > 1 else []:
            if not (entry.user_id or entry.username or entry.email) or \
                    not (same[0].user_id or same[0].username or same[0].email):
                problems.append(table.problem(entry.line, "name", f"course {entry.course} lists {entry.name!r} twice "
                                         f"(also line {same[0].line}); give both a user id, a username or an "
                                         "email to tell them apart"))
    return problems

