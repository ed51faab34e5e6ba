"""The teacher's view over a realistic week (school_week.py): the course grid, each student's
lessons, search, the meeting page's roles and local times, exports, French, friendly errors.

Pages are read with Flask's test client here; tests/browser/ reads them in Chromium.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile

import pytest

import school_week as week
from attendance_logger import create_app, i18n
from logger_helpers import ADMIN_PASSWORD, WEBHOOK_SECRET, Sender, basic_auth

DUPONT = ("ms.dupont", "dupont's long password")
MONDAY = week.week_start()


@pytest.fixture(scope="module")
def school(tmp_path_factory):
    """One receiver (SQLite) with the week in it; Ms Dupont teaches MATH101."""
    path = tmp_path_factory.mktemp("week") / "attendance.db"
    app = create_app({"DATABASE_URL": f"sqlite:///{path}", "WEBHOOK_SECRET": WEBHOOK_SECRET,
                      "ADMIN_PASSWORD": ADMIN_PASSWORD, "TESTING": True, "REFRESH_INTERVAL_SECONDS": 0,
                      "TIMEZONE": "Europe/Paris"})
    Sender(app.test_client()).post_all(week.week_events(MONDAY))
    app.extensions["accounts"].add(*DUPONT, role="teacher", courses=["MATH101"])
    app.extensions["accounts"].add("mr.haddad", "haddad's long password", role="teacher", courses=["PHYS202"])
    yield app
    app.extensions["storage"].close()


def logged_in(app, account=DUPONT, language="en"):
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
    assert client.post("/login", data={"user": account[0], "password": account[1]}).status_code == 302
    return client


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def grid(app, query: str = "") -> dict:
    response = app.test_client().get("/v1/courses/MATH101" + query, headers=basic_auth())
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def student(data: dict, number: int) -> dict:
    return next(s for s in data["students"] if s["key"] == f"user:s-{number:02d}")


# -- the course at a glance -----------------------------------------------------------------------
def test_the_grid_shows_who_missed_which_lesson_and_each_student_s_totals(school):
    data = grid(school)
    assert len(data["lessons"]) == 5 and len(data["students"]) == 25  # the teacher and the iPad are not students
    cells = {number: [c["status"] if c["joined"] else "missed" for c in student(data, number)["lessons"]]
             for number in range(1, 26)}
    assert cells[5] == ["missed", "present", "missed", "present", "present"]
    assert cells[25] == ["present", "missed", "missed", "missed", "missed"]
    assert cells[8][4] == "missed"
    miriam = student(data, 5)
    assert (miriam["attended"], miriam["expected"], miriam["missed"]) == (3, 5, 2)
    # The room is open 07:58-08:55:30; a student there 08:00-08:55 is present 95.7 % of it.
    assert miriam["average_percent"] == pytest.approx(3 * 95.7 / 5, abs=0.05)
    assert student(data, 1)["minutes"] == pytest.approx(5 * 55, abs=0.01)
    # Two tabs count once; a 40-second reconnect is no gap; a 10-minute one is.
    assert student(data, 11)["lessons"][1]["minutes"] == pytest.approx(55, abs=0.1)
    assert student(data, 6)["lessons"][0]["minutes"] == pytest.approx(55, abs=0.1)
    assert student(data, 9)["lessons"][2]["minutes"] == pytest.approx(45, abs=0.1)
    # Lesson rates over the 25 students: Sarah missed four lessons, مريم two, s-08 Friday's.
    assert [lesson["attended"] for lesson in data["lessons"]] == [24, 24, 23, 24, 23]
    assert [lesson["rate"] for lesson in data["lessons"]] == [96.0, 96.0, 92.0, 96.0, 92.0]


def test_sorting_by_late_puts_the_often_late_first(school):
    data = grid(school, "?sort=late&order=desc")
    assert [(s["name"], s["late"]) for s in data["students"][:3]] == [
        ("François Lefèvre", 3), ("Inès Haddad", 1), ("שרה כהן", 1)]
    assert grid(school, "?sort=name")["students"][0]["name"] == "Aïcha Diallo"  # accents sort as letters
    by_missed = grid(school, "?sort=missed&order=desc")["students"]
    assert [s["name"] for s in by_missed[:2]] == ["Sarah Mercier", "مريم أحمد"]


def test_the_course_page_is_sortable_by_links_and_marks_late_and_early_leaves(school):
    client = logged_in(school)
    page = client.get("/courses/math101?sort=late&order=desc")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Course MATH101" in html  # spelled as the meetings carry it
    assert 'aria-sort="descending"' in html
    assert html.index("François Lefèvre") < html.index("Aïcha Diallo")
    assert html.count('class="mark">late</span>') == 3 + 1 + 1  # François thrice, שרה and Inès once
    assert html.count('class="mark">left early</span>') == 2
    assert html.count("absent, never joined") == 2 + 4 + 1
    # The header link reverses the order; the period filter is kept in sort links and exports.
    assert "sort=late&amp;order=asc" in html
    filtered = client.get(f"/courses/MATH101?from={MONDAY + dt.timedelta(days=1)}&to={MONDAY + dt.timedelta(days=2)}")
    filtered_html = filtered.get_data(as_text=True)
    assert text_of(filtered_html).count("Attendance rate") == 1
    assert len(re.findall(r'<th scope="col" class="lesson">', filtered_html)) == 2
    assert f"from={MONDAY + dt.timedelta(days=1)}" in filtered_html.split("summary.csv")[1][:200]


def test_the_guest_and_the_teacher_are_shown_apart(school):
    html = logged_in(school).get("/courses/MATH101").get_data(as_text=True)
    guests = html.split("Guests without an account")[1]
    assert "iPad" in guests and "iPad" not in html.split("Guests without an account")[0]
    assert "Teachers: Claire Dupont." in text_of(html)


def test_a_student_s_page_lists_their_lessons_in_local_time(school):
    client = logged_in(school)
    html = client.get("/courses/MATH101/students/user:s-03").get_data(as_text=True)
    text = text_of(html)
    assert "François Lefèvre" in text and "student03@school.example" in text
    assert text.count("late") >= 3
    monday = week.local(MONDAY, 8, 12)
    assert f"{monday:%d}".lstrip("0") + " " in text and "08:12:00" in text  # local time, not 07:12 UTC
    assert client.get("/courses/MATH101/students/user:nobody").status_code == 404


def test_search_ignores_case_and_accents_and_finds_by_email(school):
    client = logged_in(school)
    for query, name in (("jose alvarez", "José Álvarez"), ("LEFEVRE", "François Lefèvre"), ("לוי", "דוד לוי"),
                        ("student07@SCHOOL", "שרה כהן"), ("مريم", "مريم أحمد")):
        html = client.get("/search", query_string={"q": query}).get_data(as_text=True)
        assert name in html, query
        assert "/courses/MATH101/students/user:s-" in html
    assert "Claire Dupont" not in client.get("/search?q=dupont").get_data(as_text=True)  # a teacher, not a student
    assert "iPad" not in client.get("/search?q=ipad").get_data(as_text=True)
    api = school.test_client().get("/v1/students?q=zoe", headers=basic_auth()).get_json()
    assert [(s["name"], s["courses"]) for s in api["students"]] == [("Zoë Øster", ["MATH101"])]


def test_search_shows_a_teacher_only_their_courses(school):
    client = logged_in(school, ("mr.haddad", "haddad's long password"))
    assert "José Álvarez" not in client.get("/search?q=jose").get_data(as_text=True)


# -- the meeting page -------------------------------------------------------------------------------
def meeting_ids(app) -> list[str]:
    meetings = app.test_client().get("/v1/meetings", headers=basic_auth()).get_json()["meetings"]
    return [m["id"] for m in sorted(meetings, key=lambda m: m["started_at"])]


def test_the_meeting_page_is_in_local_time_with_the_zone_named(school):
    tuesday = meeting_ids(school)[1]
    html = logged_in(school).get(f"/meetings/{tuesday}").get_data(as_text=True)
    text = text_of(html)
    assert "07:58–08:55" in text  # Paris, not 06:58-07:55 UTC
    assert re.search(r"Times are shown in Europe/Paris \(UTC\+0[12]:00\)", text)
    assert "08:05:00–08:50:00" in text  # the iPad's presence, in the table a screen reader reads
    teachers = html.split('id="table-teacher"')[1].split("</table>")[0]
    assert "Claire Dupont" in teachers and 'class="badge">teacher' in teachers
    students = html.split('id="table-student"')[1].split("</table>")[0]
    assert "Claire Dupont" not in students and "iPad" not in students
    assert "iPad" in html.split('id="table-guest"')[1]
    # Statistics count students only: 24 of 25 on Tuesday (Sarah missed it).
    assert "24 of 24" in text  # Sarah never joined on Tuesday and there is no class list: 24 students here
    # Every bar is reachable by keyboard and carries its times as text.
    bars = re.findall(r'<span class="bar [a-z]+" tabindex="0"[^>]*><span class="tip">([^<]+)</span>', html)
    assert len(bars) == 1 + 24 + 1  # the teacher, the students (two tabs are one bar), the iPad
    assert "iPad: 08:05:00–08:50:00" in bars


def test_a_running_lesson_refreshes_itself_and_a_finished_one_does_not(school, tmp_path):
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'live.db'}", "WEBHOOK_SECRET": WEBHOOK_SECRET,
                      "ADMIN_PASSWORD": ADMIN_PASSWORD, "REFRESH_INTERVAL_SECONDS": 0, "TIMEZONE": "Europe/Paris"})
    day = MONDAY + dt.timedelta(days=7)  # no room.destroyed yet: the lesson is still going on
    Sender(app.test_client()).post_all(week.lesson_events(day, "mon", running_until=week.local(day, 8, 20)))
    meeting_id, = meeting_ids(app)
    client = app.test_client()
    client.post("/login", data={"user": "admin", "password": ADMIN_PASSWORD})
    html = client.get(f"/meetings/{meeting_id}").get_data(as_text=True)
    assert 'data-running="yes"' in html and "/static/live.js" in html
    assert '<noscript><meta http-equiv="refresh"' in html
    finished = logged_in(school).get(f"/meetings/{meeting_ids(school)[0]}").get_data(as_text=True)
    assert 'data-running="no"' in finished and "live.js" not in finished
    app.extensions["storage"].close()


def test_pages_show_the_class_list_the_scheduled_lesson_and_the_sync_when_the_meeting_has_them(school, monkeypatch):
    """What the Moodle integration adds to reports.meeting_json reaches the pages: class-list
    students who never joined, the scheduled lesson, flagged names, the sync state."""
    from attendance_logger import reports

    plain = reports.meeting_json

    def with_moodle(meeting, *, sync=None):
        data = plain(meeting, sync=sync)
        day = dt.datetime.fromisoformat(data["started_at"].replace("Z", "+00:00")).astimezone(week.ZONE).date()
        data["reference"] = {"kind": "lesson", "start": week._time(week.local(day, 8, 0)),
                             "end": week._time(week.local(day, 8, 55)), "course": "MATH101"}
        data["absentees"] = [
            {"name": "Nour Benali", "email": "nour@school.example", "user_id": "s-99", "username": "nbenali",
             "group": "3B", "course": "MATH101", "source": "moodle", "status": "absent", "never_joined": True},
            {"name": "Of Physics", "email": None, "user_id": "p-1", "username": None, "group": None,
             "course": "PHYS202", "source": "roster", "status": "absent", "never_joined": True}]
        data["sync"] = [{"course": "MATH101", "shortname": "MATH101", "state": "done", "message": None}]
        for participant in data["participants"]:
            if participant["user_id"] == "s-02":
                participant["ambiguous"] = "two people signed in as José Álvarez"
        return data

    monkeypatch.setattr(reports, "meeting_json", with_moodle)
    data = grid(school)
    nour = student(data, 99)
    assert [c["joined"] for c in nour["lessons"]] == [False] * 5 and nour["missed"] == 5
    assert "Of Physics" not in {s["name"] for s in data["students"]}
    assert [lesson["attended"] for lesson in data["lessons"]] == [24, 24, 23, 24, 23]  # of 26 now
    html = logged_in(school).get(f"/meetings/{meeting_ids(school)[0]}").get_data(as_text=True)
    text = text_of(html)
    assert "Scheduled lesson: 08:00–08:55" in text and "MATH101: written to Moodle" in text
    students = html.split('id="table-student"')[1].split("</table>")[0]
    assert "Nour Benali" in students and "absent, never joined" in text_of(students)
    assert "same name as another person" in students
    assert 'class="scheduled"' in html


# -- exports ------------------------------------------------------------------------------------------
def test_the_summary_csv_is_exactly_the_grid_shown(school):
    client = logged_in(school)
    response = client.get("/v1/courses/MATH101/summary.csv?sort=late&order=desc")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"), newline="")))
    assert rows[0][:3] == ["Student", "Email", "Group"] and rows[0][-7:] == [
        "Attended", "Lessons", "Minutes", "Average %", "Late", "Left early", "Missed"]
    shown = grid(school, "?sort=late&order=desc")["students"]
    assert [r[0] for r in rows[1:-1]] == [s["name"] for s in shown]
    # François, often late: 08:12-08:55 is 74.8 % of the room's 57.5 minutes, partial.
    assert rows[1][3:8] == ["partial, late", "partial, late", "present", "partial, late", "present"]
    miriam = next(r for r in rows if r[0] == "مريم أحمد")
    assert miriam[3] == "absent, never joined"
    assert rows[-1][0] == "Attendance rate (%)" and rows[-1][3:8] == ["96.0", "96.0", "92.0", "96.0", "92.0"]
    semicolons = client.get("/v1/courses/MATH101/summary.csv?sep=;").get_data(as_text=True)
    assert semicolons.splitlines()[-1].split(";")[3] == "96,0"


def test_the_course_workbook_has_the_grid_then_every_row(school):
    response = logged_in(school).get("/v1/courses/MATH101/attendance.xlsx")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/vnd.openxmlformats-officedocument.spreadsheetml")
    book = zipfile.ZipFile(io.BytesIO(response.get_data()))
    workbook = book.read("xl/workbook.xml").decode()
    assert re.findall(r'<sheet name="([^"]+)"', workbook) == ["Summary", "Lessons"]
    summary, rows = (book.read(f"xl/worksheets/sheet{n}.xml").decode() for n in (1, 2))
    for name in ("José Álvarez", "مريم أحمد", "שרה כהן"):
        assert name in summary and name in rows
    assert "iPad" not in summary + rows and "Claire Dupont" not in rows  # students only


def test_an_empty_course_or_period_says_so(school):
    client = logged_in(school)
    empty = client.get("/v1/courses/MATH101/summary.csv?from=2001-01-01&to=2001-01-31")
    assert empty.status_code == 404 and "no lessons in that period" in empty.get_json()["message"]
    page = client.get("/courses/MATH101?from=2001-01-01&to=2001-01-31").get_data(as_text=True)
    assert "no lessons in this period" in page and "summary.csv" not in page
    admin = school.test_client()
    assert admin.get("/v1/courses/NOPE101/attendance.xlsx", headers=basic_auth()).get_json()["error"] == "no_lessons"


# -- navigation, errors, filters ----------------------------------------------------------------------
def test_a_missing_page_is_friendly_and_leads_back(school):
    client = logged_in(school)
    for path in ("/meetings/no-such-meeting", "/courses/PHYS202", "/no/such/page"):
        response = client.get(path)
        assert response.status_code == 404
        html = response.get_data(as_text=True)
        assert "Page not found" in html and 'href="/courses"' in html and 'role="search"' in html
    assert school.test_client().get("/v1/nothing-here", headers=basic_auth()).get_json()["error"] == "not_found"


def test_room_and_course_filters_ignore_case(school):
    client = logged_in(school)
    for query in ("?course=math101", "?room=MATHS-3B", "?course=Math101&room=Maths-3b"):
        assert client.get("/" + query).get_data(as_text=True).count('href="/meetings/') == 5, query


# -- languages -------------------------------------------------------------------------------------------
def test_french_from_the_browser_or_the_account_s_choice(school):
    client = logged_in(school, language="fr-FR,fr;q=0.9")
    html = client.get("/courses/MATH101").get_data(as_text=True)
    assert '<html lang="fr">' in html and "Taux de présence" in html and "absent, jamais connecté" in html
    assert "96,0" in html  # decimal comma
    english = logged_in(school, language="en")
    english.post("/settings", data={"language": "fr", "timezone": "America/New_York"})
    html = english.get(f"/meetings/{meeting_ids(school)[0]}").get_data(as_text=True)
    assert '<html lang="fr">' in html and "America/New_York" in html
    assert "01:58–02:55" in text_of(html)  # 07:58 in Paris is 01:58 in New York
    sheet = english.get("/v1/courses/MATH101/attendance.xlsx").get_data()
    assert 'name="Synthèse"' in zipfile.ZipFile(io.BytesIO(sheet)).read("xl/workbook.xml").decode()
    english.post("/settings", data={"language": "", "timezone": ""})
    assert '<html lang="en">' in english.get("/courses").get_data(as_text=True)


def test_settings_refuse_an_unknown_zone_and_a_form_from_another_site(school):
    client = logged_in(school)
    assert client.post("/settings", data={"timezone": "Mars/Olympus"}).status_code == 400
    assert client.post("/settings", data={"language": "fr"}, headers={"Origin": "https://evil.example"}).status_code == 403


def test_every_catalogue_has_every_message_with_the_same_placeholders():
    english = i18n.CATALOGUES["en"]
    for language, messages in i18n.CATALOGUES.items():
        assert set(messages) == set(english), language
        for key, message in messages.items():
            assert i18n.placeholders(message) == i18n.placeholders(english[key]), (language, key)
            assert isinstance(message, str) == isinstance(english[key], str), (language, key)


PSEUDO = "qps"


def test_every_text_on_every_page_comes_from_the_catalogue(school, monkeypatch):
    """Render every page in a pseudo-language whose messages are wrapped in ⟦…⟧: what is left
    outside the brackets must be data (names, times, numbers, ids), never hard-coded words."""
    wrapped = {key: ({form: f"⟦{text}⟧" for form, text in value.items()} if isinstance(value, dict) else f"⟦{value}⟧")
               for key, value in i18n.CATALOGUES["en"].items()}
    monkeypatch.setitem(i18n.CATALOGUES, PSEUDO, wrapped)
    monkeypatch.setattr(i18n, "LANGUAGES", (*i18n.LANGUAGES, PSEUDO))
    client = logged_in(school, language=PSEUDO)
    data = {s["name"] for s in grid(school)["students"]} | {f"student{n:02d}@school.example" for n in range(1, 26)}
    data |= {"Claire Dupont", "c.dupont@school.example", "iPad", "ms.dupont", "MATH101", "3B", "maths-3b",
             "Zoë Ø.", "Zoë", "Europe/Paris"} | set(i18n.CATALOGUES["en"]["languages.fr"].split())
    pages = ["/", "/courses", "/courses/MATH101", "/courses/MATH101/students/user:s-01", f"/meetings/{meeting_ids(school)[1]}",
             "/search?q=zo", "/settings", "/no-such-page"]
    for path in pages:
        html = client.get(path).get_data(as_text=True)
        html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
        html = re.sub(r"<option>[^<]*</option>", " ", html)  # time zone names
        visible = [text_of(part) for part in re.findall(r">([^<]+)<", html)]
        visible += re.findall(r'(?:title|placeholder|aria-label|data-label)="([^"]*)"', html)
        for text in visible:
            rest = text
            while "⟦" in rest:
                rest = re.sub(r"⟦[^⟦⟧]*⟧", " ", rest)
            for item in sorted(data, key=len, reverse=True):
                rest = rest.replace(item, " ")
            leftover = re.sub(r"[\s\d:.,;()%/–—+\-·▲▼|]+|UTC|&[a-z]+;", "", rest)
            assert not leftover, (path, text)


def luminance(colour: str) -> float:
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(a: str, b: str) -> float:
    light, dark = sorted((luminance(a), luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_every_colour_of_a_status_bar_stands_out_from_its_track_by_3_to_1():
    """WCAG 1.4.11: the bars are information, so each of their colours (stripes and dots too)
    has at least 3:1 against the track they sit on."""
    from pathlib import Path

    import attendance_logger

    css = (Path(attendance_logger.__file__).parent / "static" / "style.css").read_text()
    variables = dict(re.findall(r"--([a-z]+): (#[0-9a-f]{6})", css))
    for status in ("present", "partial", "absent"):
        rule = re.search(r"\.swatch\." + status + r"\b[^{]*\{([^}]*)\}", css).group(1)
        colours = [variables[name] for name in re.findall(r"var\(--([a-z]+)\)", rule)] + re.findall(r"#[0-9a-f]{6}", rule)
        assert colours, status
        for colour in colours:
            assert contrast(colour, variables["track"]) >= 3, (status, colour)
