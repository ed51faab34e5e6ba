"""Attendance as Excel workbooks (.xlsx, XlsxWriter) that open right in Excel and LibreOffice.

Dates are dates, times are times (local, in the export's time zone) and numbers are numbers, so
a teacher can sort, filter and sum at once; names are written as text cells, never read as
formulas, so nothing needs escaping. Headers are in the reader's language.

A workbook is written in XlsxWriter's constant-memory mode (each row goes to a temporary file as
it is written), and handed out as a stream of chunks of the finished file, which is unlinked as
soon as it is open: a big course never sits in memory whole, and nothing is left on disk.
"""
from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
from typing import Iterator

import xlsxwriter

from .course_report import CourseReport
from .reports import Layout, cell_text, lesson_heading
from .rules import Settings
from .times import format_time

CHUNK_BYTES = 64 * 1024
_SHEET_NAME_FORBIDDEN = str.maketrans({c: " " for c in "[]:*?/\\"})


def claim_heading(claim: str, layout: Layout, t) -> str:
    """A claim's column heading for people: the configured label, else the catalogue's, else its name."""
    if claim in layout.claim_labels:
        return layout.claim_labels[claim]
    return t(f"claims.{claim}") if t.has(f"claims.{claim}") else claim


class _Book:
    def __init__(self, path: str):
        self.book = xlsxwriter.Workbook(path, {
            "constant_memory": True, "tmpdir": os.path.dirname(path),
            # Person-supplied text stays text: never a formula, a link or a number.
            "strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False})
        self.heading = self.book.add_format({"bold": True, "text_wrap": True, "valign": "top"})
        self.date = self.book.add_format({"num_format": "yyyy-mm-dd"})
        self.time = self.book.add_format({"num_format": "hh:mm:ss"})
        self.decimal = self.book.add_format({"num_format": "0.0"})

    def sheet(self, name: str, headings: list[str], widths: list[float]):
        sheet = self.book.add_worksheet(name.translate(_SHEET_NAME_FORBIDDEN)[:31])
        for column, (heading, width) in enumerate(zip(headings, widths, strict=True)):
            sheet.set_column(column, column, width)
            sheet.write_string(0, column, heading, self.heading)
        sheet.freeze_panes(1, 1)
        return sheet

    def text(self, sheet, row: int, column: int, value) -> None:
        if value not in (None, ""):
            sheet.write_string(row, column, str(value))

    def moment(self, sheet, row: int, column: int, value: dt.datetime | None, zone, as_date: bool = False) -> None:
        if value is not None:
            local = value.astimezone(zone)
            if as_date:
                sheet.write_datetime(row, column, dt.datetime(local.year, local.month, local.day), self.date)
            else:
                sheet.write_datetime(row, column, local.time().replace(tzinfo=None, microsecond=0), self.time)


def _rows_sheet(book: _Book, lessons, keep, settings: Settings, layout: Layout, t) -> None:
    """A row per person per lesson, typed: the CSV's rows as people read them."""
    headings = [t("rows.date"), t("rows.start"), t("rows.room"), t("rows.name"), t("rows.email"), t("rows.user_id"),
                t("rows.role"), *(claim_heading(c, layout, t) for c in settings.claims), t("rows.first_join"),
                t("rows.last_leave"), t("rows.minutes"), t("rows.percent"), t("rows.status"), t("rows.late"),
                t("rows.left_early"), t("rows.first_join_utc"), t("rows.last_leave_utc"), t("rows.meeting_id")]
    widths = [11, 9, 16, 26, 28, 12, 10, *(12 for _ in settings.claims), 10, 10, 9, 9, 10, 7, 9, 25, 25, 38]
    sheet = book.sheet(t("rows.sheet"), headings, widths)
    row = 0
    zone = layout.zone
    for lesson in lessons:
        for person in lesson.people:
            if not keep(person):
                continue
            row += 1
            column = iter(range(len(headings)))
            book.moment(sheet, row, next(column), lesson.started_at, zone, as_date=True)
            book.moment(sheet, row, next(column), lesson.started_at, zone)
            for value in (lesson.room, person.name, person.email, person.user_id, t(f"roles.{person.role}"),
                          *(person.claims.get(c) for c in settings.claims)):
                book.text(sheet, row, next(column), value)
            book.moment(sheet, row, next(column), person.first_join, zone)
            book.moment(sheet, row, next(column), person.last_leave, zone)
            sheet.write_number(row, next(column), round(person.minutes, 1), book.decimal)
            sheet.write_number(row, next(column), person.percent, book.decimal)
            book.text(sheet, row, next(column), t(f"status.{person.status}") if person.joined
                      else t("status.never_joined"))
            sheet.write_boolean(row, next(column), person.late)
            sheet.write_boolean(row, next(column), person.left_early)
            for moment in (person.first_join, person.last_leave):
                book.text(sheet, row, next(column), None if moment is None else format_time(moment))
            book.text(sheet, row, next(column), lesson.id)


def _summary_sheet(book: _Book, report: CourseReport, rows, layout: Layout, t) -> None:
    headings = [t("grid.student"), t("grid.email"), t("grid.group"),
                *(lesson_heading(c.lesson, layout.zone, t) for c in report.columns),
                t("grid.attended"), t("grid.expected"), t("grid.minutes"), t("grid.average_percent"),
                t("grid.times_late"), t("grid.times_left_early"), t("grid.missed")]
    sheet = book.sheet(t("grid.sheet"), headings, [26, 28, 8, *(16 for _ in report.columns), 9, 9, 9, 9, 9, 9, 9])
    for index, student in enumerate(rows, start=1):
        book.text(sheet, index, 0, student.name)
        book.text(sheet, index, 1, student.email)
        book.text(sheet, index, 2, student.group)
        for column, cell in enumerate(student.cells, start=3):
            book.text(sheet, index, column, cell_text(cell, t))
        first = 3 + len(report.columns)
        for offset, value in enumerate((student.attended, student.expected)):
            sheet.write_number(index, first + offset, value)
        sheet.write_number(index, first + 2, round(student.minutes, 1), book.decimal)
        sheet.write_number(index, first + 3, round(student.average_percent, 1), book.decimal)
        for offset, value in enumerate((student.late, student.left_early, student.missed), start=4):
            sheet.write_number(index, first + offset, value)
    last = len(rows) + 1
    sheet.write_string(last, 0, t("grid.rate"), book.heading)
    for column, lesson_column in enumerate(report.columns, start=3):
        sheet.write_number(last, column, round(lesson_column.rate, 1), book.decimal)


def _stream(write) -> Iterator[bytes]:
    """Run `write(path)` in a private temporary directory now (a failure is an error answer, not
    a cut download), and return the finished file as an iterator of chunks."""
    folder = tempfile.mkdtemp(prefix="attendance-xlsx-")
    path = os.path.join(folder, "export.xlsx")
    try:
        write(path)
        handle = open(path, "rb")
    finally:
        shutil.rmtree(folder, ignore_errors=True)  # the open handle keeps the file readable
    return _chunks(handle)


def _chunks(handle) -> Iterator[bytes]:
    with handle:
        while chunk := handle.read(CHUNK_BYTES):
            yield chunk


def meeting_xlsx(lesson, settings: Settings, layout: Layout, t) -> Iterator[bytes]:
    """One meeting: everyone who was there, their role telling students from teachers and guests."""

    def write(path):
        book = _Book(path)
        _rows_sheet(book, [lesson], lambda person: True, settings, layout, t)
        book.book.close()

    return _stream(write)


def course_xlsx(report: CourseReport, rows, settings: Settings, layout: Layout, t) -> Iterator[bytes]:
    """A course: the grid as the course page shows it (`rows`: its students in the page's order),
    then a sheet with a row per student per lesson."""

    def write(path):
        book = _Book(path)
        _summary_sheet(book, report, rows, layout, t)
        _rows_sheet(book, [c.lesson for c in report.columns], lambda person: person.role == "student",
                    settings, layout, t)
        book.book.close()

    return _stream(write)
