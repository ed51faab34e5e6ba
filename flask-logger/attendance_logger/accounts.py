"""The school's accounts: who may read attendance, with which role, for which courses.

An `admin` account reads every meeting; a `teacher` reads the meetings of the courses granted to it
(access.py applies that rule). Passwords are kept as argon2id hashes (argon2-cffi) with OWASP's
minimum parameters (19 MiB, 2 passes, 1 lane: ~25 ms on a small server), so a burst of logins on
8 threads stays under 160 MiB; hashes made with other parameters are upgraded at the next login.
`attendance-logger users …` (cli.py) is a thin layer over this module, with the same verbs.
"""
from __future__ import annotations

import dataclasses
import re
import time
from typing import Iterable

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, exists, insert, select, update

from .names import fold_course
from .tables import account_courses, account_preferences, accounts, meeting_courses, sessions

ROLES = ("admin", "teacher")
MIN_PASSWORD_LENGTH = 12
BOOTSTRAP_ADMIN = "admin"  # the account ATTENDANCE_ADMIN_PASSWORD keeps (jitsictl and scripts use it)
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
# Verified when the account does not exist, so a wrong name takes as long as a wrong password.
_UNKNOWN_ACCOUNT_HASH = _hasher.hash("no account has this password")


class AccountError(ValueError):
    """A request about accounts that cannot be done; the message says why and what to do."""


@dataclasses.dataclass(frozen=True)
class Account:
    name: str
    role: str
    courses: frozenset[str]

    @property
    def sees_every_course(self) -> bool:
        return self.role == "admin"


def check_password(password: str, what: str = "the password") -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        length = f"{len(password)} character{'s' if len(password) != 1 else ''}"
        raise AccountError(f"{what} is too short ({length}): use at least "
                           f"{MIN_PASSWORD_LENGTH} characters (a few words make a long one that is easy to type)")


def _check_name(name: str) -> None:
    if not _NAME.match(name):
        raise AccountError(f"{name!r}: account names are 1 to 64 letters, digits and . _ @ -, starting with a "
                           "letter or digit (e.g. ms.dupont)")


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise AccountError(f"role {role!r} is not one of {', '.join(ROLES)}")


def _no_such(name: str) -> AccountError:
    return AccountError(f"no account named {name!r} (list them with `attendance-logger users list`)")


def _taken(name: str) -> AccountError:
    return AccountError(f"an account named {name!r} already exists (change its password with "
                        f"`attendance-logger users passwd {name}`)")


class Accounts:
    def __init__(self, storage):
        self.storage = storage

    # -- reading ---------------------------------------------------------------------------
    def get(self, name: str) -> Account | None:
        with self.storage.read() as conn:
            return self._get(conn, name)

    @staticmethod
    def _get(conn, name: str) -> Account | None:
        role = conn.execute(select(accounts.c.role).where(accounts.c.name == name)).scalar()
        if role is None:
            return None
        courses = conn.execute(select(account_courses.c.course).where(account_courses.c.account == name)).scalars()
        return Account(name, role, frozenset(courses))

    def list(self) -> list[Account]:
        with self.storage.read() as conn:
            names = conn.execute(select(accounts.c.name).order_by(accounts.c.name)).scalars().all()
            return [self._get(conn, name) for name in names]

    def check(self, name: str, password: str) -> Account | None:
        """The account when `password` is its password, else None (in about the same time)."""
        with self.storage.read() as conn:
            stored = conn.execute(select(accounts.c.password_hash).where(accounts.c.name == name)).scalar()
        try:
            _hasher.verify(stored or _UNKNOWN_ACCOUNT_HASH, password)
        except (VerificationError, InvalidHashError):
            return None
        if stored is None:
            return None
        if _hasher.check_needs_rehash(stored):
            with self.storage.write() as conn:
                conn.execute(update(accounts).where(accounts.c.name == name, accounts.c.password_hash == stored)
                             .values(password_hash=_hasher.hash(password)))
        return self.get(name)

    def known_courses(self, courses: Iterable[str]) -> set[str]:
        """Which of `courses` some meeting has carried as its courseid claim (in any case, as
        the access rule compares them)."""
        with self.storage.read() as conn:
            carried = {fold_course(c) for c in conn.execute(select(meeting_courses.c.course).distinct()).scalars()}
        return {course for course in courses if fold_course(course) in carried}

    # -- changing --------------------------------------------------------------------------
    def require(self, name: str) -> Account:
        """The account named `name`; AccountError saying so when there is none."""
        account = self.get(name)
        if account is None:
            raise _no_such(name)
        return account

    def check_new(self, name: str, *, role: str = "teacher", courses: Iterable[str] = ()) -> None:
        """AccountError unless `add` can make this account (the password aside)."""
        _check_name(name)
        _check_role(role)
        if set(courses) and role == "admin":
            raise AccountError("admin accounts see every course: grant courses to teacher accounts only")
        if self.get(name) is not None:
            raise _taken(name)

    def add(self, name: str, password: str, *, role: str = "teacher", courses: Iterable[str] = ()) -> Account:
        courses = set(courses)
        self.check_new(name, role=role, courses=courses)
        check_password(password)
        password_hash = _hasher.hash(password)
        with self.storage.write() as conn:
            if conn.execute(select(exists().where(accounts.c.name == name))).scalar():
                raise _taken(name)
            conn.execute(insert(accounts).values(name=name, role=role, password_hash=password_hash,
                                                 created_ms=int(time.time() * 1000)))
            if courses:
                conn.execute(insert(account_courses), [{"account": name, "course": c} for c in sorted(courses)])
        return Account(name, role, frozenset(courses))

    def remove(self, name: str) -> None:
        with self.storage.write() as conn:
            self._must_exist(conn, name)
            conn.execute(delete(sessions).where(sessions.c.account == name))
            conn.execute(delete(account_courses).where(account_courses.c.account == name))
            conn.execute(delete(account_preferences).where(account_preferences.c.account == name))
            conn.execute(delete(accounts).where(accounts.c.name == name))

    def set_password(self, name: str, password: str) -> None:
        """A new password; every session of the account ends (a copied cookie stops working)."""
        check_password(password)
        password_hash = _hasher.hash(password)
        with self.storage.write() as conn:
            self._must_exist(conn, name)
            conn.execute(update(accounts).where(accounts.c.name == name).values(password_hash=password_hash))
            conn.execute(delete(sessions).where(sessions.c.account == name))

    def grant(self, name: str, courses: Iterable[str]) -> None:
        courses = set(courses)
        with self.storage.write() as conn:
            if self._must_exist(conn, name) == "admin":
                raise AccountError(f"{name} is an admin: admin accounts see every course already")
            held = set(conn.execute(select(account_courses.c.course).where(account_courses.c.account == name)).scalars())
            new = sorted(courses - held)
            if new:
                conn.execute(insert(account_courses), [{"account": name, "course": c} for c in new])

    def revoke(self, name: str, courses: Iterable[str]) -> None:
        with self.storage.write() as conn:
            self._must_exist(conn, name)
            conn.execute(delete(account_courses).where(account_courses.c.account == name,
                                                       account_courses.c.course.in_(list(courses))))

    @staticmethod
    def _must_exist(conn, name: str) -> str:
        role = conn.execute(select(accounts.c.role).where(accounts.c.name == name)).scalar()
        if role is None:
            raise _no_such(name)
        return role

    def keep_bootstrap_admin(self, password: str) -> None:
        """Make the account `admin` an admin with `password` (ATTENDANCE_ADMIN_PASSWORD), at each
        start. A changed password ends the account's sessions; the same one changes nothing."""
        current = self.get(BOOTSTRAP_ADMIN)
        if current is None:
            try:
                self.add(BOOTSTRAP_ADMIN, password, role="admin")
            except AccountError:  # another worker added it meanwhile
                pass
            return
        if current.role != "admin":
            with self.storage.write() as conn:
                conn.execute(update(accounts).where(accounts.c.name == BOOTSTRAP_ADMIN).values(role="admin"))
                conn.execute(delete(account_courses).where(account_courses.c.account == BOOTSTRAP_ADMIN))
        if self.check(BOOTSTRAP_ADMIN, password) is None:
            self.set_password(BOOTSTRAP_ADMIN, password)
