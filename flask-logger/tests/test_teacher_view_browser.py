"""The teacher's view in a real Chromium (Debian's, driven by Playwright) over the realistic week.

Every page at 1366×768 and 390×844: a full-page screenshot in artifacts/teacher-view/, no
sideways scrolling of the page, and axe-core (npm, tests/browser/package-lock.json) injected into
it with zero serious or critical violations; the counts by impact land in
artifacts/teacher-view/accessibility.json. Then the timeline's times by keyboard and by touch,
and a running lesson's page bringing itself up to date under the site's Content-Security-Policy.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
from pathlib import Path

import pytest

import school_week as week
from logger_helpers import CLI, RunningServer, basic_auth, http, server_env

pytestmark = pytest.mark.slow  # real Chromium and a served receiver

AXE = Path(__file__).resolve().parent / "browser" / "node_modules" / "axe-core" / "axe.min.js"
TEACHER = ("ms.dupont", "dupont's long password")
VIEWPORTS = {"desktop": {"width": 1366, "height": 768}, "phone": {"width": 390, "height": 844}}
BLOCKING = ("serious", "critical")


def axe_source() -> str:
    if not AXE.exists():
        message = f"{AXE} missing: run `npm ci --prefix flask-logger/tests/browser` (scripts/test does)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return AXE.read_text()


@pytest.fixture(scope="module")
def week_server(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("week-browser")
    server = RunningServer("dev", tmp_path, ATTENDANCE_TIMEZONE="Europe/Paris")
    status, body = server.post_events({"events": week.week_events()})
    assert status == 200, body
    subprocess.run([CLI, "users", "add", TEACHER[0], "--course", "MATH101", "--password-stdin"],
                   input=TEACHER[1] + "\n", text=True, check=True, capture_output=True, env=server_env(tmp_path))
    yield server
    server.stop()


def log_in(page, server, account=TEACHER):
    page.goto(server.url + "/login")
    page.fill("input[name=user]", account[0])
    page.fill("input[name=password]", account[1])
    page.click("form.login button[type=submit]")
    page.wait_for_selector("header.site nav")


def meetings(server) -> list[dict]:
    _, body = http(server.url + "/v1/meetings", headers=basic_auth())
    return sorted(json.loads(body)["meetings"], key=lambda m: m["started_at"])


def pages(server) -> dict[str, str]:
    tuesday = meetings(server)[1]["id"]
    return {
        "meetings": "/",
        "courses": "/courses",
        "course": "/courses/MATH101?sort=late&order=desc",
        "student": "/courses/MATH101/students/user:s-03",
        "meeting": f"/meetings/{tuesday}",
        "search": "/search?q=jose",
        "settings": "/settings",
        "not-found": "/meetings/no-such-meeting",
    }


def check_accessibility(page, source: str) -> dict:
    page.evaluate(source)
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    counts = {impact: 0 for impact in ("minor", "moderate", "serious", "critical")}
    details = []
    for violation in result["violations"]:
        counts[violation["impact"]] += len(violation["nodes"])
        details.append(f"{violation['impact']}: {violation['id']} ({len(violation['nodes'])}) "
                       f"{violation['nodes'][0]['target']}")
    return {"counts": counts, "violations": details}


def page_width(page) -> tuple[int, int]:
    return page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")


@pytest.mark.parametrize("viewport", VIEWPORTS, ids=list(VIEWPORTS))
def test_every_page_fits_the_screen_and_passes_axe(browser, week_server, artifacts, viewport):
    source = axe_source()
    folder = artifacts / "teacher-view"
    folder.mkdir(exist_ok=True)
    context = browser.new_context(viewport=VIEWPORTS[viewport], locale="en-GB",
                                  has_touch=viewport == "phone", is_mobile=viewport == "phone")
    page = context.new_page()
    results = {}
    page.goto(week_server.url + "/login")
    results["login"] = check_accessibility(page, source)
    page.screenshot(path=str(folder / f"login-{viewport}.png"), full_page=True)
    log_in(page, week_server)
    for name, path in pages(week_server).items():
        response = page.goto(week_server.url + path)
        assert response.status == (404 if name == "not-found" else 200), name
        page.screenshot(path=str(folder / f"{name}-{viewport}.png"), full_page=True)
        scroll_width, inner_width = page_width(page)
        assert scroll_width <= inner_width, f"{name} at {viewport}: the page is {scroll_width} px wide"
        results[name] = check_accessibility(page, source)
    context.close()
    report = folder / "accessibility.json"
    kept = json.loads(report.read_text()) if report.exists() else {}
    kept[viewport] = results
    report.write_text(json.dumps(kept, indent=2, ensure_ascii=False))
    blocking = {name: r["violations"] for name, r in results.items()
                if any(r["counts"][impact] for impact in BLOCKING)}
    assert not blocking, blocking


def test_the_course_page_in_french_at_phone_width(browser, week_server, artifacts):
    context = browser.new_context(viewport=VIEWPORTS["phone"], locale="fr-FR", has_touch=True, is_mobile=True)
    page = context.new_page()
    log_in(page, week_server)
    page.goto(week_server.url + "/courses/MATH101")
    assert page.locator("html").get_attribute("lang") == "fr"
    assert "Taux de présence" in page.inner_text("table.grid")
    page.screenshot(path=str(artifacts / "teacher-view" / "course-phone-fr.png"), full_page=True)
    scroll_width, inner_width = page_width(page)
    assert scroll_width <= inner_width
    context.close()


def tip_of(bar):
    tip = bar.locator(".tip")
    box = tip.bounding_box()
    return tip.inner_text(), box


def test_timeline_times_are_reachable_by_keyboard_and_by_touch(browser, week_server):
    tuesday = pages(week_server)["meeting"]
    context = browser.new_context(viewport=VIEWPORTS["desktop"], locale="en-GB")
    page = context.new_page()
    log_in(page, week_server)
    page.goto(week_server.url + tuesday)
    first_bar = page.locator(".bar").first
    assert tip_of(first_bar)[1]["width"] <= 1  # hidden until wanted (but read by screen readers)
    page.focus("#site-search")
    for _ in range(40):  # Tab until a bar has the focus
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.classList.contains('bar')"):
            break
    focused = page.locator(".bar:focus")
    text, box = tip_of(focused)
    assert box["width"] > 40 and "07:58:00–08:55:00" in text  # the teacher's bar, in Paris time
    context.close()

    phone = browser.new_context(viewport=VIEWPORTS["phone"], locale="en-GB", has_touch=True, is_mobile=True)
    page = phone.new_page()
    log_in(page, week_server)
    page.goto(week_server.url + tuesday)
    ipad = page.locator(".lanes .lane", has=page.locator(".who", has_text="iPad")).locator(".bar")
    ipad.scroll_into_view_if_needed()
    ipad.tap()
    text, box = tip_of(ipad)
    assert box["width"] > 40 and text == "iPad: 08:05:00–08:50:00"
    phone.close()


def test_a_running_lesson_updates_itself_under_the_content_security_policy(browser, week_server):
    day = week.week_start() + dt.timedelta(days=7)
    events = week.lesson_events(day, "wed")
    now = week.local(day, 8, 10)
    before = [e for e in events if e["type"] != "room.destroyed" and e["time"] <= week._time(now)]
    status, body = week_server.post_events({"events": before})
    assert status == 200, body
    running = meetings(week_server)[-1]
    context = browser.new_context(viewport=VIEWPORTS["desktop"], locale="en-GB")
    page = context.new_page()
    blocked = []
    page.on("console", lambda message: blocked.append(message.text) if "Content Security Policy" in message.text else None)
    log_in(page, week_server)
    page.goto(week_server.url + f"/meetings/{running['id']}")
    assert page.locator("#live").get_attribute("data-running") == "yes"
    assert page.locator(".lane .who", has_text="שרה כהן").count() == 0  # she comes at 08:20
    page.evaluate("window.notReloaded = true")
    later = [e for e in events if e["type"] != "room.destroyed" and week._time(now) < e["time"] <= week._time(week.local(day, 8, 25))]
    assert week_server.post_events({"events": later})[0] == 200
    page.wait_for_selector(".lane .who:has-text('שרה כהן')", timeout=40_000)
    assert page.evaluate("window.notReloaded") is True  # brought up to date in place, not reloaded
    assert not blocked, blocked
    context.close()
