"""The Moodle web-service client against the fake Moodle (tests/fake_moodle.py), over TLS."""
from __future__ import annotations

import datetime as dt
import logging

import pytest
import requests

from attendance_logger.moodle.client import (SYNC_FUNCTIONS, MoodleClient, MoodleError, MoodleUnavailable,
                                             encode_params)
from fake_moodle import FakeMoodle


UTC = dt.timezone.utc
LESSON = dt.datetime(2026, 9, 14, 8, 30, tzinfo=UTC)


class Sleeps(list):
    """Records the client's waits instead of sleeping; `then` runs at the first wait."""

    def __init__(self, then=None):
        super().__init__()
        self.then = then

    def __call__(self, seconds):
        self.append(seconds)
        if self.then:
            self.then()
            self.then = None


def client_for(site: FakeMoodle, token: str | None = None, **options) -> MoodleClient:
    options.setdefault("sleep", Sleeps())
    return MoodleClient(site.url, token or site.issue_token(), ca_file=site.ca_file, **options)


@pytest.fixture
def school(moodle):
    """A course with two students, a teacher, an Attendance activity and one session."""
    course = moodle.add_course("MAT-1A", "Mathematics 1A")
    ana = moodle.add_user("agarcia", "Ana", "García", "ana@school.example")
    bea = moodle.add_user("boneil", "Beatriz", "O'Neil", "bea@school.example", maildisplay=0)
    teo = moodle.add_user("tteacher", "Teo", "Teacher", "teo@school.example")
    moodle.enrol(course, ana)
    moodle.enrol(course, bea)
    moodle.enrol(course, teo, "editingteacher")
    activity = moodle.add_attendance(course)
    session = moodle.add_session(activity, LESSON, 55)
    return {"course": course, "ana": ana, "bea": bea, "teo": teo, "activity": activity, "session": session}


def test_encode_params_uses_php_bracket_syntax():
    assert encode_params({"courseid": 3, "options": [{"name": "modname", "value": "attendance"},
                                                     {"name": "excludecontents", "value": True}]}) == [
        ("courseid", "3"), ("options[0][name]", "modname"), ("options[0][value]", "attendance"),
        ("options[1][name]", "excludecontents"), ("options[1][value]", "1")]
    assert encode_params({"sessions": [{"sessdate": 1, "flags": {"a": False}}], "empty": []}) == [
        ("sessions[0][sessdate]", "1"), ("sessions[0][flags][a]", "0")]
    with pytest.raises(ValueError, match="no null"):
        encode_params({"groupid": None})


def test_reads_what_the_sync_needs(moodle, school):
    client = client_for(moodle)
    site = client.site_info()
    assert site.user_id == moodle.ws_user.id and client.missing_functions(site) == []
    course = client.course_by_shortname("MAT-1A")
    assert course.id == school["course"].id
    assert client.course_by_shortname("mat-1a") is None  # an exact match, as on PostgreSQL
    [activity] = client.attendance_activities(course.id)
    assert activity.instance == school["activity"].instance
    users = {u.id: u for u in client.enrolled_users(course.id)}
    assert users[school["teo"].id].roles == ("editingteacher",)
    assert users[school["ana"].id].email == "ana@school.example"
    [session] = client.attendance_sessions(activity.instance)
    assert (session.id, session.start, session.duration_seconds) == (school["session"], LESSON, 3300)
    assert [s.acronym for s in session.statuses] == ["P", "L", "E", "A"]  # grade descending
    assert session.listed == {school["ana"].id, school["bea"].id}
    # The fake decoded the nested options the way PHP does, so our encoding reached Moodle intact.
    assert ("core_course_get_contents", {"courseid": str(course.id), "options": {
        "0": {"name": "modname", "value": "attendance"}, "1": {"name": "excludecontents", "value": "1"}}}) \
        in moodle.calls


def test_status_ids_differ_per_activity_and_the_log_arrives_as_text(moodle, school):
    other = moodle.add_attendance(school["course"], "Second register")
    assert moodle.status_id(other, "P") != moodle.status_id(school["activity"], "P")
    client = client_for(moodle)
    taker = client.site_info().user_id
    late = moodle.status_id(school["activity"], "L")
    client.update_user_status(school["session"], school["ana"].id, taker, late, 0)
    [session] = client.attendance_sessions(school["activity"].instance)
    assert session.taken == {school["ana"].id: late}
    assert moodle.taken(school["session"]) == {school["ana"].id: "L"}


def test_email_is_withheld_without_the_capability(moodle, school):
    moodle.capabilities.discard("moodle/course:useremail")
    users = {u.id: u for u in client_for(moodle).enrolled_users(school["course"].id)}
    assert users[school["bea"].id].email is None  # her profile hides it
    assert users[school["ana"].id].email is None  # shown to course members only; the sync user is none


def test_add_session_returns_the_new_session(moodle, school):
    client = client_for(moodle)
    new = client.add_attendance_session(school["activity"].instance, LESSON + dt.timedelta(days=1), 3600, "Jitsi")
    assert moodle.sessions[new]["sessdate"] == int((LESSON + dt.timedelta(days=1)).timestamp())
    assert moodle.sessions[new]["statusset"] == 0


def test_an_older_mod_attendance_answers_null(moodle, school):
    moodle.attendance_release = "4.3"
    client = client_for(moodle)
    client.update_user_status(school["session"], school["ana"].id, moodle.ws_user.id,
                              moodle.status_id(school["activity"], "P"), 0)
    assert moodle.taken(school["session"]) == {school["ana"].id: "P"}


@pytest.mark.parametrize("setup, errorcode, hint", [
    (lambda site: None, "invalidtoken", "check the Moodle token in /etc/jitsictl/secrets.yaml"),
    (lambda site: site.services["attendance-sync"].discard("mod_attendance_get_sessions"), "accessexception",
     "add the function to the service"),
    (lambda site: site.capabilities.discard("webservice/rest:use"), "accessexception", "webservice/rest:use"),
    (lambda site: site.capabilities.difference_update({"mod/attendance:takeattendances",
                                                       "mod/attendance:manageattendances"}),
     "invalidparameter", "lacks mod/attendance:takeattendances"),
    (lambda site: site.capabilities.discard("moodle/course:view"), "requireloginerror", "moodle/course:view"),
])
def test_refusals_become_errors_with_a_hint(moodle, school, setup, errorcode, hint):
    token = "0" * 32 if errorcode == "invalidtoken" else None
    setup(moodle)
    client = client_for(moodle, token, token_source="/etc/jitsictl/secrets.yaml")
    with pytest.raises(MoodleError) as caught:
        client.attendance_sessions(school["activity"].instance)
    assert caught.value.errorcode == errorcode
    assert hint in str(caught.value)
    assert not isinstance(caught.value, MoodleUnavailable)


def test_a_missing_capability_is_named(moodle, school):
    moodle.capabilities.discard("mod/attendance:manageattendances")
    with pytest.raises(MoodleError) as caught:
        client_for(moodle).add_attendance_session(school["activity"].instance, LESSON, 60, "x")
    assert caught.value.errorcode == "nopermissions"
    assert "(Manage Attendances)" in caught.value.message  # Moodle's words: the capability's display name
    assert "mod/attendance:manageattendances" in caught.value.hint  # ours: the capability to grant


def test_debuginfo_only_when_moodle_has_debugging_on(moodle, school):
    client = client_for(moodle)
    with pytest.raises(MoodleError) as quiet:
        client.call("mod_attendance_get_sessions", {})
    assert (quiet.value.errorcode, quiet.value.debuginfo) == ("invalidparameter", None)
    moodle.debugging = True
    with pytest.raises(MoodleError) as loud:
        client.call("mod_attendance_get_sessions", {})
    assert loud.value.debuginfo == "Missing required key in single structure: attendanceid"
    with pytest.raises(MoodleError) as unknown:
        client.call("mod_attendance_no_such_function")
    assert unknown.value.errorcode == "invalidrecord" and "mod_attendance installed" in unknown.value.hint


def test_maintenance_mode_is_moodle_being_unavailable(moodle, school):
    moodle.maintenance = True
    with pytest.raises(MoodleUnavailable) as caught:
        client_for(moodle).site_info()
    assert caught.value.errorcode == "sitemaintenance" and "try again later" in caught.value.hint


def test_disabled_rest_protocol_and_a_wrong_address(moodle, school):
    moodle.rest_enabled = False
    with pytest.raises(MoodleError, match="REST protocol are disabled"):
        client_for(moodle).site_info()
    moodle.rest_enabled = True
    wrong = MoodleClient(moodle.url + "/moodle", moodle.issue_token(), ca_file=moodle.ca_file)
    with pytest.raises(MoodleError, match="HTTP 404") as caught:
        wrong.site_info()
    assert "site's address" in caught.value.hint


def test_tls_is_verified_against_the_given_ca_only(moodle, school):
    with pytest.raises(MoodleError) as caught:
        MoodleClient(moodle.url, moodle.issue_token()).site_info()
    assert caught.value.errorcode == "tls" and "CA's PEM file" in caught.value.hint
    assert client_for(moodle).site_info().user_id == moodle.ws_user.id


@pytest.mark.parametrize("url, complaint", [
    ("http://moodle.school.example", "clear text"),
    ("https://moodle.school.example/?wstoken=abc", "the site.s address only"),
    ("https://admin:pw@moodle.school.example", "the site.s address only"),
    ("moodle.school.example", "must start with https://"),
])
def test_unsafe_or_malformed_addresses_are_refused(url, complaint):
    with pytest.raises(ValueError, match=complaint):
        MoodleClient(url, "a" * 32)


def test_the_endpoint_is_derived_from_the_site_address():
    for url in ("https://m.example/lms", "https://m.example/lms/", "https://m.example/lms/webservice/rest/server.php"):
        assert MoodleClient(url, "t").endpoint == "https://m.example/lms/webservice/rest/server.php"
    assert MoodleClient("http://127.0.0.1:8080", "t").endpoint.startswith("http://127.0.0.1:8080/")


def test_5xx_is_retried_with_growing_jittered_waits(moodle, school):
    moodle.fail_next(503, times=3)
    sleeps = Sleeps()
    client = client_for(moodle, sleep=sleeps, attempts=4, backoff=1.0, jitter=lambda: 1.0)
    assert client.site_info().user_id == moodle.ws_user.id
    assert sleeps == [1.0, 2.0, 4.0]
    moodle.fail_next(502, times=2)
    halves = Sleeps()
    client_for(moodle, sleep=halves, attempts=3, backoff=1.0, jitter=lambda: 0.0).site_info()
    assert halves == [0.5, 1.0]  # the jitter scales each wait into [half, whole)


def test_gives_up_after_its_attempts(moodle, school):
    moodle.fail_next(503, times=5)
    sleeps = Sleeps()
    with pytest.raises(MoodleUnavailable, match="no answer after 3 attempts: HTTP 503"):
        client_for(moodle, sleep=sleeps, attempts=3).site_info()
    assert len(sleeps) == 2


def test_a_down_moodle_is_retried_until_it_is_back(moodle, school):
    moodle.stop()
    sleeps = Sleeps(then=moodle.start)  # Moodle comes back during the first wait
    assert client_for(moodle, sleep=sleeps).site_info().user_id == moodle.ws_user.id
    assert len(sleeps) == 1
    moodle.stop()
    with pytest.raises(MoodleUnavailable, match="no answer after 2 attempts"):
        client_for(moodle, attempts=2).site_info()


def test_a_write_whose_answer_may_be_lost_is_not_repeated(moodle, school):
    client = client_for(moodle, attempts=4)
    moodle.fail_next(502)  # the proxy may have passed the request on before failing
    with pytest.raises(MoodleUnavailable, match="may or may not have done it"):
        client.add_attendance_session(school["activity"].instance, LESSON, 3600, "once")
    assert len(moodle._failures) == 0 and [c for c, _ in moodle.calls].count("mod_attendance_add_session") == 0
    moodle.delay = 1.0  # Moodle does it, but the answer comes after the client stopped waiting
    slow = client_for(moodle, attempts=4, timeout=(2.0, 0.3))
    with pytest.raises(MoodleUnavailable, match="answer was lost"):
        slow.add_attendance_session(school["activity"].instance, LESSON, 3600, "once")
    moodle.delay = 0
    moodle.wait_idle()
    created = [s for s in moodle.sessions.values() if s["description"] == "once"]
    assert len(created) == 1  # done once, never sent again


def test_a_write_that_never_left_is_retried(moodle, school):
    moodle.stop()
    sleeps = Sleeps(then=moodle.start)
    client = client_for(moodle, sleep=sleeps)
    client.add_attendance_session(school["activity"].instance, LESSON, 3600, "after restart")
    assert len(sleeps) == 1
    assert [s["description"] for s in moodle.sessions.values()].count("after restart") == 1


def test_a_slow_moodle_times_out_reads_and_retries_them(moodle, school):
    moodle.delay = 0.6
    sleeps = Sleeps(then=lambda: setattr(moodle, "delay", 0))
    assert client_for(moodle, sleep=sleeps, timeout=(2.0, 0.2)).site_info().user_id == moodle.ws_user.id
    assert len(sleeps) == 1


def test_the_token_never_appears_in_logs_or_errors(moodle, school, caplog):
    caplog.set_level(logging.DEBUG)  # urllib3 logs each request line at DEBUG
    token = moodle.issue_token()
    texts = []

    def attempt(client_call):
        try:
            client_call()
        except (MoodleError, ValueError) as exc:
            chain, seen = [], exc
            while seen is not None:
                chain += [str(seen), repr(seen)]
                seen = seen.__cause__ or seen.__context__
            texts.extend(chain)

    client = client_for(moodle, token)
    texts.append(repr(client))
    attempt(lambda: client.call("mod_attendance_get_sessions", {}))
    moodle.debugging = True
    attempt(lambda: client.call("mod_attendance_update_user_status", {"sessionid": "x"}))
    moodle.fail_next(503, times=9)
    attempt(lambda: client_for(moodle, token, attempts=2).site_info())
    moodle._failures.clear()
    attempt(lambda: MoodleClient(moodle.url, token).site_info())  # TLS failure
    moodle.stop()
    attempt(lambda: client_for(moodle, token, attempts=2).site_info())
    attempt(lambda: client_for(moodle, token, attempts=1).add_attendance_session(1, LESSON, 60, "x"))
    assert len(texts) > 10
    for text in texts + [caplog.text]:
        assert token not in text


def test_the_sync_functions_are_what_the_fake_serves():
    from fake_moodle import FUNCTIONS
    assert set(SYNC_FUNCTIONS) <= set(FUNCTIONS)


def test_requests_is_not_asked_to_retry_on_its_own():
    session = requests.Session()
    client = MoodleClient("https://m.example", "t", session=session)
    assert client.session.get_adapter("https://m.example").max_retries.total == 0
