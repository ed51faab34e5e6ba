"""Regular expressions that pull named fields out of a text, checked when they are configured.

A school writes such a pattern in its configuration (how its room names or its timetable's event
titles carry the course and group), so a mistake must be reported when the pattern is read, in
words that say how to fix it, not discovered later as meetings that belong to no course.
"""
from __future__ import annotations

import dataclasses
import re


class PatternError(ValueError):
    """A configured pattern that cannot be used; the message says why and how to fix it."""


@dataclasses.dataclass(frozen=True)
class NamedPattern:
    """A compiled pattern whose named groups are a known set of fields.

    The pattern must match the whole text (like re.fullmatch), so `(?P<course>[a-z0-9-]+)` does not
    silently match the first part of a longer name.
    """
    text: str
    regex: re.Pattern

    @classmethod
    def compile(cls, text: str, *, fields: tuple[str, ...], required: tuple[str, ...], what: str) -> NamedPattern:
        """Compile `text`, whose named groups must all be in `fields` and include `required`.

        `what` names the setting in error messages ("attendance.room_pattern").
        """
        if not isinstance(text, str) or not text:
            raise PatternError(f"{what} is empty: give a regular expression with a named group "
                               f"such as (?P<{required[0]}>...)")
        try:
            regex = re.compile(text)
        except re.error as exc:
            where = f" at position {exc.pos}" if exc.pos is not None else ""
            raise PatternError(f"{what} is not a valid regular expression: {exc.msg}{where} in {text!r}") from None
        names = set(regex.groupindex)
        unknown = sorted(names - set(fields))
        if unknown:
            raise PatternError(f"{what} has the named group(s) {', '.join(unknown)}, which mean nothing here; "
                               f"the fields are {', '.join(fields)} (use (?:...) for parts to skip)")
        missing = [name for name in required if name not in names]
        if missing:
            raise PatternError(f"{what} has no named group {', '.join(missing)}: write the part that holds it "
                               f"as (?P<{missing[0]}>...), e.g. (?P<{missing[0]}>[a-z0-9-]+)")
        return cls(text=text, regex=regex)

    def match(self, value: str) -> dict[str, str] | None:
        """The fields found in `value`, or None when the pattern does not match all of it.

        A field whose group took no part in the match, or matched nothing, is left out."""
        found = self.regex.fullmatch(value)
        if found is None:
            return None
        return {name: part for name, part in found.groupdict().items() if part}
