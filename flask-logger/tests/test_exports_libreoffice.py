"""Exports opened by a real LibreOffice Calc (headless), their cells read back: names intact
(accented, Arabic, Hebrew), dates as dates, times as times, numbers as numbers.

LibreOffice converts each file to flat ODF (.fods), whose XML says how it typed every cell. CSV
files are opened with the options its Text Import dialog fills in for them: UTF-8, which the
dialog detects from the byte-order mark (LibreOffice core, sc/source/ui/dbgui/scuiasciiopt.cxx),
"detect special numbers" (on by default there), and the separator; `?sep=;` files are opened as
a French LibreOffice would, with `;` and decimal commas. Workbooks open with no options at all.
"""
from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import school_week as week
from attendance_logger import create_app
from logger_helpers import ADMIN_PASSWORD, WEBHOOK_SECRET, Sender, basic_auth
from tests.support import real_components

pytestmark = pytest.mark.slow  # real LibreOffice

SOFFICE = shutil.which("soffice") or "/usr/bin/soffice"
NS = {"table": "urn:oasis:names:tc:opendocument:xmlns:table:1.0",
      "office": "urn:oasis:names:tc:opendocument:xmlns:office:1.0",
      "text": "urn:oasis:names:tc:opendocument:xmlns:text:1.0"}
CSV_ENGLISH = "CSV:44,34,76,1,,1033,false,true"  # comma, quote, UTF-8, from line 1, en-US, detect numbers
CSV_FRENCH = "CSV:59,34,76,1,,1036,false,true"  # semicolon, fr-FR (decimal comma)
NAMES = ("José Álvarez", "Zoë Øster", "مريم أحمد", "שרה כהן", "Łukasz Wójcik")


@pytest.fixture(scope="module")
def libreoffice(tmp_path_factory):
    if not os.path.exists(SOFFICE):
        message = "LibreOffice not installed (scripts/install-system-deps installs libreoffice-calc-nogui)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    real_components.starting("LibreOffice")
    profile = tmp_path_factory.mktemp("lo-profile")  # our own profile: other soffice processes never interfere

    def open_in_calc(path: Path, infilter: str | None = None) -> dict[str, list[list[tuple]]]:
        out = path.parent / "converted"
        argv = [SOFFICE, f"-env:UserInstallation=file://{profile}", "--headless", "--norestore"]
        if infilter:
            argv.append(f"--infilter={infilter}")
        argv += ["--convert-to", "fods", "--outdir", str(out), str(path)]
        subprocess.run(argv, check=True, capture_output=True, timeout=180)
        return read_fods(out / (path.stem + ".fods"))

    return open_in_calc


def read_fods(path: Path) -> dict[str, list[list[tuple]]]:
    """Sheet name -> rows of (type, value, text) cells, as LibreOffice typed them."""
    sheets = {}
    root = ET.parse(path).getroot()
    for table in root.iter(f"{{{NS['table']}}}table"):
        rows = []
        for row in table.iter(f"{{{NS['table']}}}table-row"):
            cells = []
            for cell in row:
                if not cell.tag.endswith(("table-cell", "covered-table-cell")):
                    continue
                kind = cell.get(f"{{{NS['office']}}}value-type")
                value = (cell.get(f"{{{NS['office']}}}date-value") or cell.get(f"{{{NS['office']}}}time-value")
                         or cell.get(f"{{{NS['office']}}}value") or cell.get(f"{{{NS['office']}}}boolean-value"))
                text = "\n".join("".join(p.itertext()) for p in cell.findall("text:p", NS))
                repeat = int(cell.get(f"{{{NS['table']}}}number-columns-repeated", "1"))
                cells.extend([(kind, value, text)] * min(repeat, 50))
            while cells and cells[-1][0] is None and not cells[-1][2]:
                cells.pop()
            if cells:
                rows.append(cells)
        sheets[table.get(f"{{{NS['table']}}}name")] = rows
    return sheets


def records(rows: list[list[tuple]]) -> list[dict]:
    header = [text for _, _, text in rows[0]]
    # A row can be shorter than the header: sheets() drops its trailing empty cells.
    return [dict(zip(header, row, strict=False)) for row in rows[1:]]


def pt(hh: int, mm: int, ss: int = 0) -> str:
    return f"PT{hh:02d}H{mm:02d}M{ss:02d}S"


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    folder = tmp_path_factory.mktemp("exports")
    app = create_app({"DATABASE_URL": f"sqlite:///{folder / 'attendance.db'}", "WEBHOOK_SECRET": WEBHOOK_SECRET,
                      "ADMIN_PASSWORD": ADMIN_PASSWORD, "REFRESH_INTERVAL_SECONDS": 0, "TIMEZONE": "Europe/Paris"})
    monday = week.week_start()
    Sender(app.test_client()).post_all(week.week_events(monday))
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    meetings = client.get("/v1/meetings", headers=basic_auth()).get_json()["meetings"]
    tuesday = sorted(meetings, key=lambda m: m["started_at"])[1]["id"]
    files = {}
    for name, path in (("meeting.csv", f"/v1/meetings/{tuesday}/attendance.csv"),
                       ("meeting-fr.csv", f"/v1/meetings/{tuesday}/attendance.csv?sep=;"),
                       ("meeting.xlsx", f"/v1/meetings/{tuesday}/attendance.xlsx"),
                       ("course.xlsx", "/v1/courses/MATH101/attendance.xlsx?sort=late&order=desc"),
                       ("summary.csv", "/v1/courses/MATH101/summary.csv?sort=late&order=desc")):
        response = client.get(path, headers=basic_auth())
        assert response.status_code == 200, (path, response.get_data(as_text=True)[:300])
        files[name] = folder / name
        files[name].write_bytes(response.get_data())
    app.extensions["storage"].close()
    return {"files": files, "tuesday": monday + dt.timedelta(days=1)}


def check_meeting_rows(rows: list[dict], tuesday: dt.date) -> None:
    by_name = {row["name"][2]: row for row in rows}
    assert set(NAMES) <= set(by_name), sorted(by_name)  # every name read back exactly
    jose = by_name["José Álvarez"]
    assert jose["date"][:2] == ("date", tuesday.isoformat())
    assert jose["first_join_time"][:2] == ("time", pt(8, 0))  # Paris time, not 07:00 UTC
    assert jose["last_leave_time"][:2] == ("time", pt(8, 55))
    assert jose["minutes"][:2] == ("float", "55")
    assert jose["percent"][0] == "float" and float(jose["percent"][1]) == pytest.approx(95.7)
    assert jose["first_join"][2].endswith("Z")  # the instant stays as written
    chloe = by_name["Chloé Bernard"]  # left at 08:30 on Tuesday
    assert chloe["last_leave_time"][:2] == ("time", pt(8, 30))
    assert by_name["iPad"]["role"][2] == "guest" and by_name["Claire Dupont"]["role"][2] == "teacher"
    assert chloe["percent"][:2] == ("float", "52.2")  # read as a number: with `;`, from "52,2"


def test_the_meeting_csv_opens_with_names_dates_and_times_intact(libreoffice, exports):
    sheet, = libreoffice(exports["files"]["meeting.csv"], CSV_ENGLISH).values()
    assert sheet[0][0][2] == "meeting_id"  # the byte-order mark is not part of the first heading
    check_meeting_rows(records(sheet), exports["tuesday"])


def test_the_semicolon_csv_opens_in_a_french_libreoffice(libreoffice, exports):
    sheet, = libreoffice(exports["files"]["meeting-fr.csv"], CSV_FRENCH).values()
    check_meeting_rows(records(sheet), exports["tuesday"])
    assert exports["files"]["meeting-fr.csv"].read_text(encoding="utf-8-sig").splitlines()[1].count(";") > 10


def test_the_meeting_workbook_is_typed(libreoffice, exports):
    sheet, = libreoffice(exports["files"]["meeting.xlsx"]).values()
    rows = {row["Name"][2]: row for row in records(sheet)}
    assert set(NAMES) <= set(rows)
    jose = rows["José Álvarez"]
    assert jose["Date"][:2] == ("date", exports["tuesday"].isoformat())
    assert jose["Start"][:2] == ("time", pt(7, 58))
    assert jose["First join"][:2] == ("time", pt(8, 0)) and jose["Last leave"][:2] == ("time", pt(8, 55))
    assert jose["Minutes"][:2] == ("float", "55")
    # Calc keeps a boolean as a number shown TRUE/FALSE (it has no boolean cell type of its own).
    assert jose["Late"] == ("float", "0", "FALSE") and rows["Chloé Bernard"]["Left early"] == ("float", "1", "TRUE")
    assert rows["iPad"]["Role"][2] == "guest"


def test_the_course_workbook_is_the_grid_then_the_rows(libreoffice, exports):
    sheets = libreoffice(exports["files"]["course.xlsx"])
    assert list(sheets) == ["Summary", "Lessons"]
    grid = records(sheets["Summary"])
    assert grid[0]["Student"][2] == "François Lefèvre"  # sorted as shown: the most often late first
    assert grid[0]["Late"][:2] == ("float", "3")
    names = [row["Student"][2] for row in grid]
    assert set(NAMES) <= set(names)
    miriam = grid[names.index("مريم أحمد")]
    assert (miriam["Attended"][:2], miriam["Missed"][:2]) == (("float", "3"), ("float", "2"))
    assert miriam["Average %"][0] == "float"
    assert sheets["Summary"][-1][0][2] == "Attendance rate (%)" and sheets["Summary"][-1][3][0] == "float"
    lessons = records(sheets["Lessons"])
    assert len(lessons) == 24 + 24 + 23 + 24 + 23  # students only, who joined
    assert {row["Role"][2] for row in lessons} == {"student"}
    assert all(row["Date"][0] == "date" and row["First join"][0] == "time" for row in lessons)


def test_the_course_summary_csv_opens_as_shown(libreoffice, exports):
    sheet, = libreoffice(exports["files"]["summary.csv"], CSV_ENGLISH).values()
    rows = records(sheet)
    assert rows[0]["Student"][2] == "François Lefèvre" and rows[0]["Late"][:2] == ("float", "3")
    assert set(NAMES) <= {row["Student"][2] for row in rows}
    assert sheet[-1][0][2] == "Attendance rate (%)" and sheet[-1][3][:2] == ("float", "96")
