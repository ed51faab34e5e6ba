"""Reading a school's CSV file (a class list, a timetable) all or nothing, with errors a person can act on.

Files come from spreadsheets: UTF-8 with or without the byte-order mark Excel writes, columns
separated by `,` or `;` (spreadsheets in locales with a decimal comma use `;`), header names typed
by people. Every problem found is reported with its line and column, and a file with any problem
yields nothing, so a half-imported class list never passes for a whole one.
"""
from __future__ import annotations

import csv
import dataclasses
import io
import re

MAX_PROBLEMS = 20  # reported at once; a file with more is usually the wrong file altogether


@dataclasses.dataclass(frozen=True)
class Problem:
    line: int | None
    column: int | None  # 1-based field number in the CSV, or character in a line
    field: str | None  # the column's header name as written in the file
    message: str

    def __str__(self) -> str:
        where = []
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.column is not None:
            where.append(f"column {self.column}" + (f" ({self.field})" if self.field else ""))
        return (", ".join(where) + ": " if where else "") + self.message


class ImportFailed(ValueError):
    """Nothing was imported; `problems` says what to fix, each with its place in the file."""

    def __init__(self, source: str, problems: list[Problem]):
        self.source = source
        self.problems = problems[:MAX_PROBLEMS]
        more = len(problems) - len(self.problems)
        lines = [f"{source}: {problem}" for problem in self.problems]
        if more > 0:
            lines.append(f"{source}: ... and {more} more problems")
        super().__init__("nothing imported:\n" + "\n".join(lines))


@dataclasses.dataclass(frozen=True)
class Column:
    """A column the importer understands: its canonical name and the header spellings accepted
    (compared after lower-casing, with `_` and `-` read as spaces)."""
    name: str
    headers: tuple[str, ...]
    required: bool = False


@dataclasses.dataclass(frozen=True)
class Row:
    line: int
    values: dict[str, str]  # canonical column name -> stripped text ("" when empty)


@dataclasses.dataclass(frozen=True)
class Table:
    source: str
    headers: dict[str, tuple[int, str]]  # canonical name -> (1-based column, header as written)
    rows: list[Row]

    def problem(self, line: int, column: str, message: str) -> Problem:
        """A problem in `column` (a canonical name) of the row on `line`."""
        number, written = self.headers[column]
        return Problem(line, number, written, message)


def _header_key(text: str) -> str:
    return " ".join(re.sub(r"[_\-]", " ", text.strip().lower()).split())


def decode_text(data: bytes, source: str) -> str:
    """`data` as text: UTF-8, a leading byte-order mark dropped. Other encodings are refused with
    the line and column of the first byte that is not UTF-8."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ImportFailed(source, [Problem(1, 1, None, "the file is UTF-16 (\"Unicode text\"); save it as "
                                            "\"CSV UTF-8\" (comma or semicolon delimited)")])
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        line_start = data.rfind(b"\n", 0, exc.start) + 1
        column = len(data[line_start:exc.start].decode("utf-8", errors="replace")) + 1
        raise ImportFailed(source, [Problem(line, column, None, f"byte 0x{data[exc.start]:02X} is not UTF-8; save the "
                                            "file as \"CSV UTF-8\" (in LibreOffice: Save As, Text CSV, character "
                                            "set Unicode (UTF-8))")]) from None


def _split_header(line: str, delimiter: str) -> list[str]:
    try:
        return next(csv.reader([line], delimiter=delimiter, strict=True), [])
    except csv.Error:
        return []


def read_table(data: bytes, source: str, columns: list[Column]) -> Table:
    """The rows of a CSV file whose header names some of `columns`; unknown columns are ignored.

    Raises ImportFailed for an undecodable file, a header missing a required column, quoting
    errors, rows longer than the header, or a file without rows."""
    text = decode_text(data, source)
    lines = re.split(r"\r\n|\n|\r", text)  # as the csv module counts lines
    header_index = next((i for i, line in enumerate(lines) if line.strip()), None)
    if header_index is None:
        raise ImportFailed(source, [Problem(None, None, None, "the file is empty; the first line must name the "
                                            "columns: " + ", ".join(c.name for c in columns))])
    by_key = {_header_key(spelling): column for column in columns for spelling in (column.name, *column.headers)}

    def recognised(delimiter):
        return sum(_header_key(cell) in by_key for cell in _split_header(lines[header_index], delimiter))

    scores = {delimiter: recognised(delimiter) for delimiter in (",", ";")}
    delimiter = max(scores, key=scores.get)
    single_column = scores[","] == 1 and not any(d in lines[header_index] for d in ",;")
    if scores[","] == scores[";"] and not single_column:
        found = ", ".join(repr(cell) for cell in _split_header(lines[header_index], ",")) or "nothing"
        raise ImportFailed(source, [Problem(header_index + 1, None, None,
                                            "the first line must name the columns "
                                            f"({', '.join(c.name for c in columns)}) "
                                            f"separated by , or ; but it holds {found}")])
    header = _split_header(lines[header_index], delimiter)
    problems: list[Problem] = []
    headers: dict[str, tuple[int, str]] = {}
    for number, cell in enumerate(header, start=1):
        column = by_key.get(_header_key(cell))
        if column is None:
            continue
        if column.name in headers:
            problems.append(Problem(header_index + 1, number, cell, f"a second {column.name} column (the first is "
                                    f"column {headers[column.name][0]}); keep one"))
        else:
            headers[column.name] = (number, cell.strip())
    for column in columns:
        if column.required and column.name not in headers:
            accepted = ", ".join(repr(h) for h in (column.name, *column.headers))
            problems.append(Problem(header_index + 1, None, None, f"no {column.name} column; name one of the columns "
                                    f"{accepted}"))
    if problems:
        raise ImportFailed(source, problems)

    reader = csv.reader(io.StringIO(text), delimiter=delimiter, strict=True)
    rows: list[Row] = []
    previous_end = 0
    try:
        for fields in reader:
            line, previous_end = previous_end + 1, reader.line_num
            if line <= header_index + 1 or not any(field.strip() for field in fields):
                continue
            if len(fields) > len(header) and any(field.strip() for field in fields[len(header):]):
                problems.append(Problem(line, len(header) + 1, None, f"{len(fields)} fields but the header names "
                                        f"{len(header)} columns; quote values that contain {delimiter!r}"))
                continue
            values = {name: (fields[number - 1].strip() if number <= len(fields) else "")
                      for name, (number, _) in headers.items()}
            rows.append(Row(line, values))
    except csv.Error as exc:
        problems.append(Problem(previous_end + 1, None, None, f"broken quoting ({exc}); a value with quotes must be "
                                "wholly quoted, its quotes doubled"))
    if problems:
        raise ImportFailed(source, problems)
    if not rows:
        raise ImportFailed(source, [Problem(None, None, None, "the file has a header but no rows")])
    return Table(source, headers, rows)
