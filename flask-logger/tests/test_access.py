"""Who reads what: the admin every meeting, a teacher the meetings of their courses, on every read.

The school: MATH101 met five and three days ago, PHYS202 yesterday, and one meeting carried no
course claim. Ms Dupont teaches MATH101, Mr Haddad PHYS202 and CHEM303 (which never met).
"""
from __future__ import annotations

import pytest

from logger_helpers import basic_auth
from test_api import lesson

DUPONT = ("ms.dupont", "dupont's long password")
HADDAD = ("mr.haddad", "haddad's long password")


@pytest.fixture
def school(app, sender):
    sender.post_all(lesson(5))
    sender.post_all(lesson(3, tag="b"))
    sender.post_all(lesson(1, room="physics-3b", course="PHYS202", tag="c"))
    sender.post_all(lesson(2, room="assembly", course=None, tag="d"))
    accounts = app.extensions["accounts"]
    accounts.add(*DUPONT, role="teacher", courses=["MATH101"])
    accounts.add(*HADDAD, role="teacher", courses=["PHYS202", "CHEM303"])
    admin = sorted(m["id"] for m in _get(app.test_client(), "/v1/meetings", basic_auth()).get_json()["meetings"])
    rooms = {m["room"]: m["id"] for m in _get(app.test_client(), "/v1/meetings", basic_auth()).get_json()["meetings"]}
    return {"all": admin, "physics": rooms["physics-3b"], "assembly": rooms["assembly"],
            "maths": sorted(m["id"] for m in _get(app.test_client(), "/v1/meetings?course=MATH101",
                                                  basic_auth()).get_json()["meetings"])}


def _get(client, path, headers=None):
    return client.get(path, headers=headers or {})


@pytest.fixture(params=["basic", "session"])
def as_teacher(request, app):
    """A GET as a given account, by HTTP Basic (scripts; the API only) or a dashboard session."""

    def get(account, path):
        name, password = account
        client = app.test_client()
        if request.param == "basic" and path.startswith("/v1/"):
            return client.get(path, headers=basic_auth(password, user=name))
        assert client.post("/login", data={"user": name, "password": password}).status_code == 302
        return client.get(path)

    return get


def listed_ids(response) -> list[str]:
    assert response.status_code == 200, response.get_data(as_text=True)
    return sorted(m["id"] for m in response.get_json()["meetings"])


def test_the_admin_sees_every_meeting(app, school):
    assert len(school["all"]) == 4


def test_a_teacher_lists_only_the_meetings_of_their_courses(as_teacher, school):
    assert listed_ids(as_teacher(DUPONT, "/v1/meetings")) == school["maths"]
    assert listed_ids(as_teacher(HADDAD, "/v1/meetings")) == [school["physics"]]
    assert listed_ids(as_teacher(DUPONT, "/v1/meetings?course=PHYS202")) == []
    assert listed_ids(as_teacher(DUPONT, "/v1/meetings?course=MATH101")) == school["maths"]
    assert listed_ids(as_teacher(DUPONT, "/v1/meetings?room=physics-3b")) == []


READS = ["/v1/meetings/{id}/attendance", "/v1/meetings/{id}/attendance.csv", "/meetings/{id}"]


@pytest.mark.parametrize("read", READS)
def test_another_course_s_meeting_is_not_found_like_a_missing_one(as_teacher, school, read):
    for own in school["maths"]:
        assert as_teacher(DUPONT, read.format(id=own)).status_code == 200
    for other in (school["physics"], school["assembly"]):
        hidden = as_teacher(DUPONT, read.format(id=other))
        missing = as_teacher(DUPONT, read.format(id="no-such-meeting"))
        assert hidden.status_code == missing.status_code == 404
        assert hidden.get_data(as_text=True).replace(other, "X") == missing.get_data(as_text=True).replace(
            "no-such-meeting", "X")


def test_a_course_export_is_for_its_teachers(as_teacher, school):
    own = as_teacher(DUPONT, "/v1/courses/MATH101/attendance.csv")
    assert own.status_code == 200 and own.get_data(as_text=True).count("\n") > 1
    for course in ("PHYS202", "NOPE999"):
        hidden = as_teacher(DUPONT, f"/v1/courses/{course}/attendance.csv")
        assert hidden.status_code == 404
        assert "not among your courses" in hidden.get_json()["message"]
    # A granted course that has not met yet says so, rather than handing out a header-only file.
    empty = as_teacher(HADDAD, "/v1/courses/CHEM303/attendance.csv")
    assert empty.status_code == 404 and empty.get_json()["error"] == "no_lessons"
    assert "has no lessons yet" in empty.get_json()["message"]


def test_course_ids_compare_without_case_in_filters_grants_and_exports(app, as_teacher, school):
    """`math101` is MATH101 everywhere: the filter, the export, and a grant spelled otherwise."""
    assert listed_ids(as_teacher(DUPONT, "/v1/meetings?course=math101")) == school["maths"]
    rows = as_teacher(DUPONT, "/v1/courses/math101/attendance.csv").get_data(as_text=True).splitlines()
    assert len(rows) == 1 + 2 * 2  # header, two students at two lessons
    app.extensions["accounts"].add("ms.lower", "lower-case long password", role="teacher", courses=["math101"])
    lower = ("ms.lower", "lower-case long password")
    assert listed_ids(as_teacher(lower, "/v1/meetings")) == school["maths"]
    for own in school["maths"]:
        assert as_teacher(lower, f"/v1/meetings/{own}/attendance").status_code == 200
    assert as_teacher(lower, f"/v1/meetings/{school['physics']}/attendance").status_code == 404
    assert listed_ids(as_teacher(DUPONT, "/v1/meetings?room=MATHS-3B")) == school["maths"]


def test_the_dashboard_lists_only_the_teacher_s_meetings(app, school):
    client = app.test_client()
    client.post("/login", data={"user": DUPONT[0], "password": DUPONT[1]})
    page = client.get("/").get_data(as_text=True)
    assert page.count('href="/meetings/') == len(school["maths"])
    assert "physics-3b" not in page and "assembly" not in page
    assert DUPONT[0] in page  # who is logged in


def test_revoking_a_course_takes_effect_at_once(app, as_teacher, school):
    assert listed_ids(as_teacher(HADDAD, "/v1/meetings")) == [school["physics"]]
    app.extensions["accounts"].revoke(HADDAD[0], ["PHYS202"])
    assert listed_ids(as_teacher(HADDAD, "/v1/meetings")) == []
    assert as_teacher(HADDAD, f"/v1/meetings/{school['physics']}/attendance").status_code == 404
    app.extensions["accounts"].grant(HADDAD[0], ["PHYS202"])
    assert listed_ids(as_teacher(HADDAD, "/v1/meetings")) == [school["physics"]]


def test_a_removed_account_can_no_longer_read(app, school):
    browser = app.test_client()
    assert browser.post("/login", data={"user": DUPONT[0], "password": DUPONT[1]}).status_code == 302
    app.extensions["accounts"].remove(DUPONT[0])
    assert browser.get("/v1/meetings").status_code == 401
    assert browser.get("/").status_code == 302
    assert app.test_client().get("/v1/meetings", headers=basic_auth(DUPONT[1], user=DUPONT[0])).status_code == 401
