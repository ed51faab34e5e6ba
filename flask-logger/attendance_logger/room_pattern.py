"""Course, group and activity read from a room's name, for tokens that carry none.

Moodle's stock Jitsi activity (mod_jitsi) signs no course or group claim, but it names the room
after the course: its shortname, the activity id and the activity name, joined by a separator and
reduced to the characters [A-Za-z0-9_-] (docs/moodle-facts.md, section 2, from mod_jitsi
classes/local/room.php). The admin configures one regular expression with named groups `course`,
`group` and `activity`; the receiver applies it to the room's name (the node of the room's JID,
which XMPP lower-cases).

With mod_jitsi, choose the separator `_` in its settings: mod_jitsi deletes `_` from the shortname
and the activity name, so `_` appears only between the parts and MOD_JITSI_UNDERSCORE_PATTERN reads
them back. Its default separator `.` is deleted by mod_jitsi's own final reduction, after which
shortname and activity id run together (`mat1a7...`) and no pattern can split them reliably.
"""
from __future__ import annotations

import dataclasses
import re

from .named_pattern import NamedPattern

ROOM_FIELDS = ("course", "group", "activity")

# mod_jitsi with separator "_" and the default fields (shortname, activity id, activity name), or
# only the first two of them: "mat-1a_7_algebra" and "mat-1a_7" give course "mat-1a", activity "7".
MOD_JITSI_UNDERSCORE_PATTERN = r"(?P<course>[a-z0-9-]+)_(?P<activity>[0-9]+)(?:_[a-z0-9-]*)?"

# mod_jitsi with separator "-": only usable when no shortname contains "-" or a space, because
# mod_jitsi keeps "-" and turns spaces into "-".
MOD_JITSI_HYPHEN_PATTERN = r"(?P<course>[a-z0-9]+)-(?P<activity>[0-9]+)(?:-[a-z0-9-]*)?"

# What mod_jitsi's room::sanitize removes (classes/local/room.php): ASCII punctuation except "-".
# Its list also names typographic quotes, but as HTML entity text; the characters themselves go
# only in the final reduction, after spaces around them have become "-".
_SANITIZE_REMOVED = set("~`!@#$%^&*()_=+[{]}\\|;:\"',<.>/?")
_TAG = re.compile(r"<[^>]*>")
_PHP_WHITESPACE = re.compile(r"[ \t\n\r\f\v]+")  # PCRE \s without the u flag
_OUTSIDE_ROOM_ALPHABET = re.compile(r"[^A-Za-z0-9_-]")
_MOD_JITSI_SEPARATORS = {".", "-", "_", ""}


@dataclasses.dataclass(frozen=True)
class RoomCourse:
    """What a room's name says about its lesson; a field the pattern did not capture is None."""
    course: str
    group: str | None = None
    activity: str | None = None


@dataclasses.dataclass(frozen=True)
class RoomPattern:
    pattern: NamedPattern

    @classmethod
    def compile(cls, text: str, *, setting: str = "attendance.room_pattern") -> RoomPattern:
        """Raises named_pattern.PatternError naming `setting` when `text` is unusable."""
        return cls(NamedPattern.compile(text, fields=ROOM_FIELDS, required=("course",), what=setting))

    def classify(self, room_name: str) -> RoomCourse | None:
        """The course (and group, activity) in `room_name`, or None when the name does not fit."""
        fields = self.pattern.match(room_name)
        if not fields or "course" not in fields:
            return None
        return RoomCourse(course=fields["course"], group=fields.get("group"), activity=fields.get("activity"))


def mod_jitsi_room_part(text: str, *, lowercase: bool = True) -> str:
    """`text` (a course shortname or an activity name) as it appears inside a mod_jitsi room name:
    room::sanitize followed by room::normalize_session_name. HTML tags are approximated by <...>."""
    cleaned = "".join(ch for ch in _TAG.sub("", text) if ch not in _SANITIZE_REMOVED)
    cleaned = _PHP_WHITESPACE.sub("-", cleaned.strip(" \t\n\r\0\x0b"))
    if lowercase:
        cleaned = cleaned.lower()
    return _OUTSIDE_ROOM_ALPHABET.sub("", cleaned)


def mod_jitsi_room_name(shortname: str, activity_id: int, activity_name: str, *,
                        fields: tuple[int, ...] = (0, 1, 2), separator: str = ".") -> str:
    """The room name mod_jitsi gives an activity: `fields` are its "Session name fields"
    (0 shortname, 1 activity id, 2 activity name), `separator` its "Separator" setting."""
    if separator not in _MOD_JITSI_SEPARATORS:
        raise ValueError(f"mod_jitsi offers the separators . - _ and none, not {separator!r}")
    parts = {0: lambda: mod_jitsi_room_part(shortname), 1: lambda: str(activity_id),
             2: lambda: mod_jitsi_room_part(activity_name)}
    joined = separator.join(parts[field]() for field in fields)
    return _OUTSIDE_ROOM_ALPHABET.sub("", joined)


def courses_named(room_course: str, shortnames: list[str]) -> list[str]:
    """The shortnames that mod_jitsi would reduce to `room_course`. The reduction loses characters
    (MAT_1A and MAT1A both become mat1a), so more than one answer means the room is ambiguous."""
    return [name for name in shortnames if mod_jitsi_room_part(name) == room_course]
