"""Class lists and timetables imported from files, by command and by API: all or nothing, errors by
line and column, re-imports that change nothing, and only into the courses an account may read."""
from __future__ import annotations

import datetime as dt
import json
import subprocess

import pytest

from logger_helpers import CLI, basic_auth, server_env

ROSTER = (b"name,username,email,course,group\n"
          b"Ana Garcia,agarcia,ana@school.example,MAT-1A,A\n"
          b"Bea Ruiz,bruiz,bea@school.example,MAT-1A,B\n"
          b"Carla Diaz,cdiaz,carla@school.example,FIS-2B,\n")
TIMETABLE = b"course,group,start,end\nMAT-1A,A,2026-09-14 08:30,09:25\nMAT-1A,B,2026-09-14 09:30,10:25\n"
ICS = b"""BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//School//Timetable//EN\r
BEGIN:VEVENT\r
UID:mat-1a-a@school.example\r
DTSTAMP:20260901T000000Z\r
DTSTART;TZID=Europe/Madrid:20260914T083000\r
DTEND;TZID=Europe/Madrid:20260914T092500\r
RRULE:FREQ=WEEKLY;COUNT=3\r
SUMMARY:Matem\xc3\xa1ticas (MAT-1A / Grupo A)\r
END:VEVENT\r
END:VCALENDAR\r
"""
PATTERN = r".*\((?P<course>[A-Z0-9-]+) / Grupo (?P<group>\w+)\)"


def run(database_url, tmp_path, *args, stdin=None):
    env = server_env(tmp_path, ATTENDANCE_DATABASE_URL=database_url, ATTENDANCE_TIMEZONE="Europe/Madrid")
    return subprocess.run([CLI, *args], env=env, capture_output=True, text=True, timeout=120, input=stdin)


def write(tmp_path, name, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_roster_import_replaces_a_course_and_a_second_import_changes_nothing(app, database_url, tmp_path):
    path = write(tmp_path, "classes.csv", ROSTER)
    first = run(database_url, tmp_path, "roster", "import", path, "--json")
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout) | {"source": None} == {"source": None, "courses": ["FIS-2B", "MAT-1A"],
                                                            "imported": 3, "replaced": 0, "changed": True}
    again = run(database_url, tmp_path, "roster", "import", path)
    assert again.returncode == 0 and again.stdout.startswith("students of FIS-2B, MAT-1A unchanged (3 already there)")
    # one course's new list replaces that course only
    one = write(tmp_path, "mat.csv", b"name,username\nAna Garcia,agarcia\nDani Gil,dgil\n")
    assert run(database_url, tmp_path, "roster", "import", one, "--course", "MAT-1A").returncode == 0
    classes = app.extensions["attendance"].classes
    assert [e.name for e in classes.class_list("MAT-1A")] == ["Ana Garcia", "Dani Gil"]
    assert [e.name for e in classes.class_list("FIS-2B")] == ["Carla Diaz"]


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_bad_file_imports_nothing_and_names_line_and_column(app, database_url, tmp_path):
    bad = write(tmp_path, "bad.csv", b"name,email,course\nAna,ana@school.example,MAT-1A\nBea,not-an-email,MAT-1A\n"
                                     b",c@school.example,MAT-1A\n")
    result = run(database_url, tmp_path, "roster", "import", bad)
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.splitlines() == [
        "attendance-logger: nothing imported:",
        "bad.csv: line 3, column 2 (email): 'not-an-email' is not an email address",
        "bad.csv: line 4, column 1 (name): the name is empty"]
    assert app.extensions["attendance"].classes.class_list("MAT-1A") == []
    timetable = write(tmp_path, "t.csv", b"course,start,duration\nMAT-1A,2026-09-14 08:30,55\nMAT-1A,2026-03-29 02:30,55\n")
    result = run(database_url, tmp_path, "schedule", "import", timetable)
    assert result.returncode == 1
    assert "t.csv: line 3, column 2 (start): 2026-03-29 02:30 does not exist in Europe/Madrid" in result.stderr


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_schedule_import_csv_and_ics_replace_their_window(app, database_url, tmp_path):
    classes = app.extensions["attendance"].classes
    week = (dt.datetime(2026, 9, 1, tzinfo=dt.timezone.utc), dt.datetime(2026, 10, 1, tzinfo=dt.timezone.utc))
    csv_result = run(database_url, tmp_path, "schedule", "import", write(tmp_path, "t.csv", TIMETABLE), "--json")
    assert csv_result.returncode == 0, csv_result.stderr
    assert json.loads(csv_result.stdout)["window"] == ["2026-09-14T06:30:00Z", "2026-09-14T08:25:00Z"]
    assert [(l.group, l.start_ms) for l in classes.lessons_of("MAT-1A", *week)] == [
        ("A", 1789367400000), ("B", 1789371000000)]

    ics = write(tmp_path, "timetable.ics", ICS)
    args = ("schedule", "import", ics, "--course-pattern", PATTERN, "--from", "2026-09-01", "--to", "2026-09-30")
    result = run(database_url, tmp_path, *args)
    assert result.returncode == 0, result.stderr
    assert "imported 3 lessons for MAT-1A (replacing 2)" in result.stdout  # the CSV's two lie in the window
    assert [(l.group, l.start_ms, l.source) for l in classes.lessons_of("MAT-1A", *week)] == [
        ("A", 1789367400000, "file"), ("A", 1789972200000, "file"), ("A", 1790577000000, "file")]
    assert "unchanged (3 already there)" in run(database_url, tmp_path, *args).stdout


# -- the API --------------------------------------------------------------------------------------

DUPONT = ("ms.dupont", "dupont's long password")


@pytest.fixture
def teacher(app):
    app.extensions["accounts"].add(*DUPONT, role="teacher", courses=["MAT-1A"])
    return basic_auth(DUPONT[1], user=DUPONT[0])


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_teacher_imports_and_reads_only_their_courses(client, teacher):
    mine = b"name,email\nAna Garcia,ana@school.example\n"
    response = client.post("/v1/roster?course=MAT-1A", data=mine, headers=teacher)
    assert response.status_code == 200 and response.get_json()["imported"] == 1
    refused = client.post("/v1/roster", data=ROSTER, headers=teacher)  # names FIS-2B too
    assert refused.status_code == 403
    assert refused.get_json() == {"error": "forbidden", "message": "course 'FIS-2B' is not among your courses"}
    assert client.get("/v1/courses/MAT-1A/roster", headers=teacher).get_json()["students"][0]["name"] == "Ana Garcia"
    assert client.get("/v1/courses/FIS-2B/roster", headers=teacher).status_code == 404
    # the admin imports any course's, and the file as a form upload (the dashboard's way)
    admin = client.post("/v1/roster", data={"file": (__import__("io").BytesIO(ROSTER), "classes.csv")},
                        headers=basic_auth(), content_type="multipart/form-data")
    assert admin.status_code == 200 and admin.get_json()["courses"] == ["FIS-2B", "MAT-1A"]
    assert client.post("/v1/roster", data=mine, headers={}).status_code == 401


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_bad_file_over_the_api_is_a_400_listing_the_problems(client, teacher):
    response = client.post("/v1/schedule?course=MAT-1A&timezone=Europe/Madrid",
                           data=b"start,duration\n2026-09-14 08:30,55\n2026-09-14 25:00,55\n", headers=teacher)
    assert response.status_code == 400
    assert response.get_json() == {"error": "bad_file", "message": "nothing imported: 1 problem(s) in upload",
                                   "problems": [{"line": 3, "column": 1, "field": "start",
                                                 "message": "'2026-09-14 25:00' is not a valid date and time "
                                                            "(hour must be in 0..23)"}]}
    assert client.get("/v1/courses/MAT-1A/lessons", headers=teacher).get_json()["lessons"] == []
    ics = client.post("/v1/schedule?from=2026-09-01&to=2026-09-30&course_pattern=" + PATTERN.replace("+", "%2B"),
                      data=ICS, headers=teacher, content_type="text/calendar")
    assert ics.status_code == 200, ics.get_json()
    assert len(client.get("/v1/courses/MAT-1A/lessons", headers=teacher).get_json()["lessons"]) == 3


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_an_import_from_another_site_is_refused(client):
    response = client.post("/v1/roster?course=MAT-1A", data=b"name\nAna\n",
                           headers={**basic_auth(), "Origin": "https://evil.example"})
    assert response.status_code == 403
