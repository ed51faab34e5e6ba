"""Course, group and activity read from room names, with mod_jitsi's naming as the example."""
from __future__ import annotations

import pytest

from attendance_logger.named_pattern import PatternError
from attendance_logger.room_pattern import (MOD_JITSI_HYPHEN_PATTERN, MOD_JITSI_UNDERSCORE_PATTERN, RoomCourse,
                                            RoomPattern, courses_named, mod_jitsi_room_name, mod_jitsi_room_part)


@pytest.mark.parametrize("text, part", [
    ("My Session 4.6.0", "my-session-460"),  # mod_jitsi's own example in tests/lib_test.php
    ("MAT-1A", "mat-1a"),
    ("MAT_1A", "mat1a"),  # "_" is removed, so it can only ever be a separator
    ("Álgebra  básica", "lgebra-bsica"),  # accented letters are deleted, not transliterated
    ("  <b>Física</b> (2º) ", "fsica-2"),
    ("It's \u2018quoted\u2019 text", "its-quoted-text"),
])
def test_parts_are_reduced_as_mod_jitsi_reduces_them(text, part):
    assert mod_jitsi_room_part(text) == part


def test_mod_jitsis_default_dot_separator_disappears():
    assert mod_jitsi_room_name("MAT-1A", 7, "Álgebra básica") == "mat-1a7lgebra-bsica"
    assert mod_jitsi_room_name("mycourse", 7, "My Session", separator="-") == "mycourse-7-my-session"
    assert mod_jitsi_room_name("prueba", 4, "Prueba dev to master 4.6.0", separator="") == \
        "prueba4prueba-dev-to-master-460"  # mod_jitsi's tests/lib_test.php


@pytest.mark.parametrize("shortname, activity, name, fields", [
    ("MAT-1A", 7, "Álgebra básica", (0, 1, 2)),
    ("Física 2º Bach", 12, "Tema 3: Ondas", (0, 1, 2)),
    ("HIST_4", 3, "Roma", (0, 1)),
    ("a b c", 99999, "x", (0, 1, 2)),
])
def test_the_underscore_pattern_reads_back_every_mod_jitsi_room(shortname, activity, name, fields):
    pattern = RoomPattern.compile(MOD_JITSI_UNDERSCORE_PATTERN)
    room = mod_jitsi_room_name(shortname, activity, name, fields=fields, separator="_")
    assert pattern.classify(room) == RoomCourse(course=mod_jitsi_room_part(shortname), activity=str(activity))


def test_the_hyphen_pattern_works_only_for_shortnames_without_hyphens():
    pattern = RoomPattern.compile(MOD_JITSI_HYPHEN_PATTERN)
    assert pattern.classify(mod_jitsi_room_name("MAT1A", 7, "Álgebra", separator="-")) == \
        RoomCourse(course="mat1a", activity="7")
    assert pattern.classify(mod_jitsi_room_name("MAT-1A", 7, "Álgebra", separator="-")) is None


def test_a_pattern_with_a_group_and_rooms_that_do_not_fit():
    pattern = RoomPattern.compile(r"(?P<course>[a-z0-9]+)-(?P<group>g[0-9]+)")
    assert pattern.classify("fis2-g3") == RoomCourse(course="fis2", group="g3")
    assert pattern.classify("fis2-g3-extra") is None  # the whole name must fit
    assert pattern.classify("staffroom") is None


@pytest.mark.parametrize("text, complaint", [
    ("", "is empty"),
    ("(?P<course>[a-z+", "not a valid regular expression: unterminated character set at position 11"),
    ("[a-z]+_[0-9]+", "has no named group course: write the part that holds it as (?P<course>...)"),
    ("(?P<cours>[a-z]+)_(?P<course>[0-9]+)", "named group(s) cours, which mean nothing here; the fields are course, "
                                             "group, activity"),
])
def test_a_bad_pattern_is_refused_with_what_to_fix(text, complaint):
    with pytest.raises(PatternError) as caught:
        RoomPattern.compile(text)
    assert complaint in str(caught.value) and str(caught.value).startswith("attendance.room_pattern")


def test_shortnames_that_reduce_alike_are_all_returned():
    assert courses_named("mat1a", ["MAT_1A", "MAT1A", "MAT-1A"]) == ["MAT_1A", "MAT1A"]
    assert courses_named("mat-1a", ["MAT_1A", "MAT1A", "MAT-1A"]) == ["MAT-1A"]
