"""The dashboard in a real headless Chromium (Debian's, driven by Playwright's Python package).

Log in, filter the meetings, open one, see one timeline bar per presence interval, download the
CSV and read it. Screenshots land in artifacts/ for a human to look at.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest

from logger_helpers import ADMIN_PASSWORD, RunningServer, basic_auth, http
from tests.support import vectors

BASE = dt.datetime.now(dt.timezone.utc).replace(microsecond=0) - dt.timedelta(hours=5)


@pytest.fixture
def loaded_server(tmp_path):
    server = RunningServer("dev", tmp_path)
    for name in ("14-statuses", "12-breakout-room"):
        events = vectors.load(vectors.VECTORS_DIR / f"{name}.json").materialize(BASE)
        status, body = server.post_events({"events": events})
        assert status == 200, body
    yield server
    server.stop()


@pytest.mark.slow
def test_log_in_open_a_meeting_see_the_timeline_and_download_the_csv(browser, loaded_server, artifacts, tmp_path):
    server = loaded_server
    page = browser.new_page(accept_downloads=True, viewport={"width": 1200, "height": 800})
    page.goto(server.url + "/")
    assert page.url.startswith(server.url + "/login")  # not logged in: sent to the login form

    page.fill("input[name=user]", "admin")
    page.fill("input[name=password]", "not the password")
    page.click("button[type=submit]")
    assert "Wrong password" in page.inner_text("main")

    page.fill("input[name=password]", ADMIN_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("table.meetings")
    assert page.locator("table.meetings tbody tr").count() == 2
    page.screenshot(path=str(artifacts / "dashboard-meetings.png"), full_page=True)

    page.fill("input[name=course]", "math101")  # any case
    page.click("form.filters button[type=submit]")
    page.wait_for_selector("a:has-text('Open the course MATH101')")

    # Open the 14-statuses meeting (the one with four participants).
    _, body = http(server.url + "/v1/meetings", headers=basic_auth())
    meeting = next(m for m in json.loads(body)["meetings"] if m["participants"] == 4)
    page.click(f"a[href='/meetings/{meeting['id']}']")
    page.wait_for_selector(".timeline .lane")

    _, body = http(server.url + f"/v1/meetings/{meeting['id']}/attendance", headers=basic_auth())
    attendance = json.loads(body)
    lanes = page.locator(".timeline .lane")
    assert lanes.count() == len(attendance["participants"])
    for participant in attendance["participants"]:
        lane = lanes.filter(has=page.locator(".who", has_text=participant["name"]))
        bars = lane.locator(".bar")
        assert bars.count() == len(participant["intervals"])
        track_width = lane.locator(".track").bounding_box()["width"]
        drawn = sum(bars.nth(i).bounding_box()["width"] for i in range(bars.count()))
        # The bars cover the share of the meeting the participant was there (within rounding).
        assert drawn / track_width * 100 == pytest.approx(participant["percent"], abs=1.5)
    statuses = page.locator("table.attendance .status").all_inner_texts()
    assert sorted(statuses) == sorted(p["status"] for p in attendance["participants"])
    page.screenshot(path=str(artifacts / "dashboard-meeting.png"), full_page=True)

    with page.expect_download() as download_info:
        page.click("#csv")
    download = download_info.value
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    assert saved.name.endswith(".csv")
    raw = saved.read_bytes()
    assert raw.startswith("\ufeff".encode())
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8")[1:], newline="")))
    assert [(r["name"], r["status"]) for r in rows] == [(p["name"], p["status"]) for p in attendance["participants"]]


@pytest.mark.slow
def test_dashboard_pages_need_a_login(loaded_server):
    status, body = http(loaded_server.url + "/meetings/whatever")
    assert status == 200 and b"Log in" in body  # urllib followed the redirect to the login form
