"""Class lists from CSV files as spreadsheets write them; a bad file imports nothing."""
from __future__ import annotations

import shutil
import subprocess
from xml.sax.saxutils import escape

import pytest

from attendance_logger.roster import RosterEntry, parse_roster
from attendance_logger.table_import import ImportFailed
from tests.support import real_components


def problems(data: bytes) -> list[str]:
    with pytest.raises(ImportFailed) as caught:
        parse_roster(data, "class.csv")
    assert str(caught.value).startswith("nothing imported:")
    return [str(p) for p in caught.value.problems]


def test_a_comma_separated_roster():
    entries = parse_roster(b"user_id,name,email,course,group\n"
                           b"12,Ana Garc\xc3\xada,ana@school.example,MAT-1A,A\n"
                           b'13,"O\'Neil, Beatriz",,MAT-1A,\n')
    assert entries == [RosterEntry("MAT-1A", "Ana García", "12", "ana@school.example", "A", 2),
                       RosterEntry("MAT-1A", "O'Neil, Beatriz", "13", None, None, 3)]


def test_excel_style_semicolons_bom_crlf_and_header_spellings():
    data = "\ufeffFull Name;E-mail;Course Shortname;Group name;Notes\r\n" \
           "Ana García;ana@school.example;MAT-1A;A;likes maths\r\n\r\n" \
           "Carlos Ruiz;;FIS-2B;;\r\n"
    entries = parse_roster(data.encode("utf-8"))
    assert [(e.name, e.email, e.course, e.group, e.line) for e in entries] == [
        ("Ana García", "ana@school.example", "MAT-1A", "A", 2), ("Carlos Ruiz", None, "FIS-2B", None, 4)]


def test_every_bad_value_is_named_by_line_and_column():
    assert problems(b"name,email,course,user_id\n"
                    b"Ana,ana-at-school,MAT,1\n"
                    b",b@school.example,MAT,2\n"
                    b"Carlos,c@school.example,,3 4\n") == [
        "line 2, column 2 (email): 'ana-at-school' is not an email address",
        "line 3, column 1 (name): the name is empty",
        "line 4, column 3 (course): the course is empty",
        "line 4, column 4 (user_id): '3 4' has spaces; a user id is one word"]


def test_duplicates_within_a_course_are_refused():
    assert problems(b"name,email,course,user_id\n"
                    b"Ana,ana@school.example,MAT,1\n"
                    b"Ana B,ANA@school.example,MAT,2\n"
                    b"Bea,bea@school.example,MAT,1\n"
                    b"Ana,ana@school.example,FIS,1\n"  # another course: fine
                    b"Carlos,,MAT,\n"
                    b"Carlos,,MAT,\n") == [
        "line 3, column 2 (email): course MAT lists email ANA@school.example twice (also line 2)",
        "line 4, column 4 (user_id): course MAT lists user id 1 twice (also line 2)",
        "line 7, column 1 (name): course MAT lists 'Carlos' twice (also line 6); give both a user id, a username "
        "or an email to tell them apart"]


def test_namesakes_with_ids_are_two_people():
    entries = parse_roster(b"name,course,user_id\nAna Garcia,MAT,1\nAna Garc\xc3\xada,MAT,2\n")
    assert [e.user_id for e in entries] == ["1", "2"]


@pytest.mark.parametrize("data, complaint", [
    (b"", "the file is empty; the first line must name the columns"),
    (b"name,email,course\n", "the file has a header but no rows"),
    (b"name,email\nAna,a@school.example\n", "line 1: no course column; name one of the columns 'course', "
                                           "'course shortname', 'shortname'"),
    (b"student|class\nAna|MAT\n", "line 1: the first line must name the columns (user_id, name, username, email, "
                                  "course, group) separated by , or ; but it holds 'student|class'"),
    ("name;course\nJosé;MAT\n".encode("latin-1"), "line 2, column 4: byte 0xE9 is not UTF-8"),
    ("name,course\nAna,MAT\n".encode("utf-16"), "the file is UTF-16"),
    (b'name,course\nAna,MAT\n"Bea,MAT\nCarlos,MAT\n', "line 3: broken quoting"),
    (b"name,course\nAna,MAT,extra\n", "line 2, column 3: 3 fields but the header names 2 columns; quote values that "
                                      "contain ','"),
    (b"name,course,Name\nAna,MAT,Ana\n", "line 1, column 3 (Name): a second name column (the first is column 1)"),
])
def test_a_malformed_file_says_what_to_fix(data, complaint):
    assert any(complaint in problem for problem in problems(data)), problems(data)


def test_a_file_with_one_bad_row_imports_nothing():
    rows = b"".join(b"Student %d,s%d@school.example,MAT\n" % (i, i) for i in range(500))
    with pytest.raises(ImportFailed):
        parse_roster(b"name,email,course\n" + rows + b"Broken,not-an-email,MAT\n")


def test_many_problems_are_reported_up_to_a_limit():
    rows = b"".join(b",x%d,MAT\n" % i for i in range(50))
    with pytest.raises(ImportFailed) as caught:
        parse_roster(b"name,email,course\n" + rows)
    assert len(caught.value.problems) == 20 and str(caught.value).endswith("... and 80 more problems")


FLAT_ODS = """<?xml version="1.0" encoding="UTF-8"?>
<office:document xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"
  xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"
  xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2"
  office:mimetype="application/vnd.oasis.opendocument.spreadsheet">
 <office:body><office:spreadsheet><table:table table:name="Class list">{rows}</table:table></office:spreadsheet></office:body>
</office:document>"""


def spreadsheet_row(*cells) -> str:
    def cell(value):
        if isinstance(value, int):
            return f'<table:table-cell office:value-type="float" office:value="{value}"><text:p>{value}</text:p>' \
                   "</table:table-cell>"
        return f'<table:table-cell office:value-type="string"><text:p>{escape(value)}</text:p></table:table-cell>'
    return "<table:table-row>" + "".join(cell(v) for v in cells) + "</table:table-row>"


@pytest.mark.slow
@pytest.mark.parametrize("separator", [";", ","])
def test_a_class_list_saved_by_libreoffice_calc(tmp_path, separator):
    soffice = shutil.which("soffice")
    if soffice is None:
        pytest.skip("LibreOffice is not installed (Debian libreoffice-calc-nogui); it writes the CSV a school would")
    rows = [spreadsheet_row("User ID", "Name", "Email", "Course", "Group"),
            spreadsheet_row(12, "Ana García", "ana@school.example", "MAT-1A", "A"),
            spreadsheet_row("013", "O'Neil; Beatriz \"Bea\"", "bea@school.example", "MAT-1A", ""),
            spreadsheet_row(14, "Jürgen Müller, Jr.", "", "FIS-2B", "B")]
    (tmp_path / "class.fods").write_text(FLAT_ODS.format(rows="".join(rows)), encoding="utf-8")
    # Filter options: field separator, text delimiter ", character set UTF-8 (76), from line 1.
    options = f"{ord(separator)},34,76,1"
    real_components.starting("LibreOffice")
    subprocess.run([soffice, f"-env:UserInstallation=file://{tmp_path}/profile", "--headless", "--convert-to",
                    f"csv:Text - txt - csv (StarCalc):{options}", "--outdir", str(tmp_path), str(tmp_path / "class.fods")],
                   check=True, capture_output=True, timeout=120)
    entries = parse_roster((tmp_path / "class.csv").read_bytes(), "class.csv")
    assert [(e.user_id, e.name, e.email, e.course, e.group) for e in entries] == [
        ("12", "Ana García", "ana@school.example", "MAT-1A", "A"),
        ("013", "O'Neil; Beatriz \"Bea\"", "bea@school.example", "MAT-1A", None),
        ("14", "Jürgen Müller, Jr.", None, "FIS-2B", "B")]


def test_a_class_list_imported_for_one_course_needs_no_course_column():
    entries = parse_roster(b"name,username,email\nAna Garcia,agarcia,ana@school.example\n", course="MAT-1A")
    assert [(e.course, e.name, e.username) for e in entries] == [("MAT-1A", "Ana Garcia", "agarcia")]
    with pytest.raises(ImportFailed) as refused:
        parse_roster(b"name,course\nAna,MAT-1A\nBea,FIS-2B\n", course="MAT-1A")
    assert [str(p) for p in refused.value.problems] == [
        "line 3, column 2 (course): 'FIS-2B' is not 'MAT-1A', the course this class list is imported for"]


def test_usernames_tell_namesakes_apart_and_are_unique():
    assert len(parse_roster(b"name,username,course\nAna,ana1,MAT\nAna,ana2,MAT\n")) == 2
    with pytest.raises(ImportFailed, match="lists username ANA1 twice \\(also line 2\\)"):
        parse_roster(b"name,username,course\nAna,ana1,MAT\nBea,ANA1,MAT\n")


def test_a_class_list_of_names_only_has_one_column_and_no_separator():
    assert [e.name for e in parse_roster(b"Name\r\nAna Garcia\r\nBea Ruiz\r\n", course="MAT-1A")] == [
        "Ana Garcia", "Bea Ruiz"]
