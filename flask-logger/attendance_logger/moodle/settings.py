"""The Moodle sync's configuration, from ATTENDANCE_MOODLE_* variables, checked at start.

The web-service token comes from a file readable by its owner only (ATTENDANCE_MOODLE_TOKEN_FILE,
what jitsictl renders from its secrets file) or from ATTENDANCE_MOODLE_TOKEN. It is never
logged, never part of a message or a repr, and travels only in HTTPS request bodies (client.py).
"""
from __future__ import annotations

import dataclasses
import os
import stat
from typing import Mapping

from ..course_names import parse_pairs
from .client import MoodleClient, _endpoint
from .sync import OUTCOMES, StatusMapping, SyncSettings

PREFIX = "ATTENDANCE_MOODLE_"


@dataclasses.dataclass(frozen=True)
class MoodleSettings:
    url: str
    token: str = dataclasses.field(repr=False)
    token_source: str  # where the token is configured, for error hints
    ca_file: str | None = None
    statuses: StatusMapping = StatusMapping()
    # shortname -> the course module id (mod/attendance/view.php?id=...) of the Attendance activity to use
    attendance_modules: Mapping[str, int] = dataclasses.field(default_factory=dict)
    auto_sync: bool = True

    @classmethod
    def from_environment(cls, environ: Mapping[str, str]) -> MoodleSettings | None:
        """The settings, or None when ATTENDANCE_MOODLE_URL is unset; ValueError says what is wrong."""
        url = environ.get("ATTENDANCE_MOODLE_URL", "").strip()
        if not url:
            others = sorted(k for k in environ if k.startswith(PREFIX) and environ[k].strip())
            if others:
                raise ValueError(f"{', '.join(others)} set but ATTENDANCE_MOODLE_URL is not: set it to the Moodle "
                                 "site's address (https://moodle.school.example) or unset them")
            return None
        try:
            _endpoint(url)
        except ValueError as exc:
            raise ValueError(f"ATTENDANCE_MOODLE_URL: {exc}") from None
        token, source = read_token(environ)
        ca_file = environ.get("ATTENDANCE_MOODLE_CA_FILE", "").strip() or None
        if ca_file and not os.access(ca_file, os.R_OK):
            raise ValueError(f"ATTENDANCE_MOODLE_CA_FILE: cannot read {ca_file}; give the PEM file of the CA that "
                             "signed Moodle's certificate")
        auto = environ.get("ATTENDANCE_MOODLE_AUTO_SYNC", "1").strip().lower()
        if auto not in ("0", "1", "true", "false", "yes", "no", "on", "off"):
            raise ValueError(f"ATTENDANCE_MOODLE_AUTO_SYNC must be 1 (sync each meeting when it ends) or 0 (only "
                             f"`attendance-logger moodle sync`), got {auto!r}")
        return cls(url=url, token=token, token_source=source, ca_file=ca_file,
                   statuses=parse_statuses(environ.get("ATTENDANCE_MOODLE_STATUSES", "")),
                   attendance_modules=parse_attendance_modules(environ.get("ATTENDANCE_MOODLE_ATTENDANCE", "")),
                   auto_sync=auto in ("1", "true", "yes", "on"))

    def client(self, **options) -> MoodleClient:
        return MoodleClient(self.url, self.token, ca_file=self.ca_file, token_source=self.token_source, **options)

    def sync_settings(self, shortname: str, activities=()) -> SyncSettings:
        """The planner's settings for a course whose Attendance activities (model.Activity) are
        `activities`; ValueError when the configured one is not among them."""
        cmid = self.attendance_modules.get(shortname)
        if cmid is None:
            return SyncSettings(statuses=self.statuses)
        chosen = [a.instance for a in activities if a.cmid == cmid]
        if not chosen:
            have = ", ".join(f"{a.name!r} (id {a.cmid})" for a in activities) or "none"
            raise ValueError(f"ATTENDANCE_MOODLE_ATTENDANCE names activity {cmid} for {shortname}, which has no "
                             f"Attendance activity with that id; it has {have}")
        return SyncSettings(statuses=self.statuses, attendance_id=chosen[0])


def read_token(environ: Mapping[str, str]) -> tuple[str, str]:
    """The token and where it came from. A token file must be readable by its owner only."""
    path = environ.get("ATTENDANCE_MOODLE_TOKEN_FILE", "").strip()
    inline = environ.get("ATTENDANCE_MOODLE_TOKEN", "").strip()
    if path and inline:
        raise ValueError("both ATTENDANCE_MOODLE_TOKEN_FILE and ATTENDANCE_MOODLE_TOKEN are set; keep one (the file)")
    if inline:
        return inline, "ATTENDANCE_MOODLE_TOKEN"
    if not path:
        raise ValueError("ATTENDANCE_MOODLE_URL is set but no web-service token: put it in a file only its owner can "
                         "read (chmod 600) and set ATTENDANCE_MOODLE_TOKEN_FILE to its path")
    try:
        info = os.stat(path)
        with open(path, encoding="utf-8") as file:
            token = file.read().strip()
    except OSError as exc:
        raise ValueError(f"ATTENDANCE_MOODLE_TOKEN_FILE: cannot read {path} ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise ValueError(f"ATTENDANCE_MOODLE_TOKEN_FILE: {path} is not text; it must hold the token alone") from None
    if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ValueError(f"ATTENDANCE_MOODLE_TOKEN_FILE: {path} can be read by other users (mode "
                         f"{stat.S_IMODE(info.st_mode):04o}); the web-service token writes into Moodle: make it "
                         f"readable by its owner only: chmod 600 {path}")
    if not token:
        raise ValueError(f"ATTENDANCE_MOODLE_TOKEN_FILE: {path} is empty; put the web-service token in it")
    if any(ch.isspace() for ch in token):
        raise ValueError(f"ATTENDANCE_MOODLE_TOKEN_FILE: {path} holds more than one word; it must hold the token alone")
    return token, f"ATTENDANCE_MOODLE_TOKEN_FILE ({path})"


def parse_statuses(text: str) -> StatusMapping:
    """`present=P,late=L,partial=L,absent=A`, any subset; the rest keep their defaults."""
    given = parse_pairs(text, "ATTENDANCE_MOODLE_STATUSES", "OUTCOME=ACRONYM, e.g. partial=L")
    unknown = sorted(set(given) - set(OUTCOMES))
    if unknown:
        raise ValueError(f"ATTENDANCE_MOODLE_STATUSES: {', '.join(unknown)} is not an outcome; the outcomes are "
                         f"{', '.join(OUTCOMES)}")
    return dataclasses.replace(StatusMapping(), **given)


def parse_attendance_modules(text: str) -> dict[str, int]:
    """`MAT-1A=412,FIS-2B=530`: for courses with several Attendance activities, the one to write
    into, by the id its address shows (mod/attendance/view.php?id=412)."""
    pairs = parse_pairs(text, "ATTENDANCE_MOODLE_ATTENDANCE", "SHORTNAME=ID, e.g. MAT-1A=412")
    try:
        return {shortname: int(value) for shortname, value in pairs.items()}
    except ValueError:
        raise ValueError("ATTENDANCE_MOODLE_ATTENDANCE: each id must be a whole number: the id= in the Attendance "
                         "activity's address, mod/attendance/view.php?id=412") from None
