"""The Moodle sync: the pure planner on hand-made Moodle states, then plans applied to the fake Moodle."""
from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from attendance_logger.moodle.client import MoodleClient, MoodleUnavailable
from attendance_logger.moodle.model import Activity, AttendanceSession, Course, EnrolledUser, Status
from attendance_logger.moodle.sync import (CourseState, MeetingAttendance, PersonAttendance, PreviousSync,
                                           StatusMapping, SyncIncomplete, SyncRefused, SyncSettings,
                                           apply_plan, marker, plan_sync, read_course_state)


UTC = dt.timezone.utc
NINE = dt.datetime(2026, 9, 14, 9, 0, tzinfo=UTC)
TEN = NINE + dt.timedelta(hours=1)
STATUSES = (Status(11, "P", "Present", 2), Status(13, "L", "Late", 1), Status(14, "E", "Excused", 1),
            Status(12, "A", "Absent", 0))
ANA = EnrolledUser(101, "Ana García", "ana@school.example", "agarcia", ("student",))
BEA = EnrolledUser(102, "Beatriz O'Neil", None, "boneil", ("student",))
CAR = EnrolledUser(103, "Carlos Ruiz", "carlos@school.example", None, ("student",))
TEO = EnrolledUser(201, "Teo Teacher", "teo@school.example", "tteacher", ("editingteacher",))


def minutes(n: int) -> dt.timedelta:
    return dt.timedelta(minutes=n)


def session(session_id=501, start=NINE, length=60, group=0, description="", taken=None, attendance=7,
            statuses=STATUSES, listed=None) -> AttendanceSession:
    return AttendanceSession(id=session_id, attendance_id=attendance, group_id=group, start=start,
                             duration_seconds=length * 60, statusset=0, description=description,
                             statuses=statuses, taken=taken or {}, listed=frozenset(listed or ()))


def state(*sessions, users=(ANA, BEA, CAR, TEO), activities=(7,)) -> CourseState:
    return CourseState(course=Course(31, "MAT-1A", "Mathematics 1A"),
                       activities=tuple(Activity(900 + a, a, f"Register {a}", True) for a in activities),
                       sessions={a: tuple(s for s in sessions if s.attendance_id == a) for a in activities},
                       users=tuple(users))


def person(key, status="present", **identity) -> PersonAttendance:
    return PersonAttendance(key=key, name=identity.get("name"), email=identity.get("email"),
                            user_id=identity.get("user_id"), status=status, late=identity.get("late", False),
                            moderator=identity.get("moderator", False))


def meeting(*people, start=NINE, end=TEN, key="m-1", group_id=None) -> MeetingAttendance:
    return MeetingAttendance(key=key, room="mat-1a_7_algebra", course="MAT-1A", start=start, end=end,
                             people=tuple(people), group_id=group_id)


def marks_of(plan):
    return {m.user_id: (m.outcome, m.acronym, m.status_id, m.action) for m in plan.marks}


# -- people -------------------------------------------------------------------------------------------

def test_people_are_matched_by_id_then_email_then_name():
    plan = plan_sync(meeting(person("u:101", user_id="101"),
                             person("e:carlos", status="partial", email="CARLOS@school.example"),
                             person("n:bea", name="beatriz o'neil", late=True),
                             person("u:201", user_id="201", moderator=True)),
                     state(session()))
    assert plan.problems == ()
    assert marks_of(plan) == {101: ("present", "P", 11, "write"), 102: ("late", "L", 13, "write"),
                              103: ("partial", "L", 13, "write")}
    assert plan.not_marked == ("Teo Teacher [201]: not a student in MAT-1A",)


def test_names_match_without_case_or_accents_and_usernames_count():
    # mod_jitsi signs the Moodle username by default ("ID User" = username)
    plan = plan_sync(meeting(person("n:1", name="ANA  GARCIA"), person("n:2", name="boneil")), state(session()))
    assert {m.user_id: m.because for m in plan.marks if m.outcome != "absent"} == {
        101: "joined as n:1", 102: "joined as n:2"}


def test_students_who_never_joined_are_absent():
    plan = plan_sync(meeting(person("u:101", user_id="101")), state(session()))
    assert marks_of(plan)[102] == ("absent", "A", 12, "write")
    assert [m.because for m in plan.marks if m.user_id == 103] == ["never joined"]


def test_unknown_people_are_listed_not_guessed():
    plan = plan_sync(meeting(person("u:999", user_id="999", name="Ana García"), person("e:x", email="x@else.example"),
                             person("anon"), person("n:guest", name="Visiting Parent", moderator=True)),
                     state(session()))
    assert [(u.person, u.reason) for u in plan.unknown] == [
        ("u:999", "user id 999 is not enrolled in MAT-1A"),  # the name is not tried when an id is given
        ("e:x", "no user enrolled in MAT-1A has the email x@else.example"),
        ("anon", "the token carried no user id, email or name")]
    assert "Visiting Parent: a moderator who is not enrolled" in plan.not_marked
    assert {m.user_id for m in plan.marks if m.outcome == "absent"} == {101, 102, 103}


def test_an_ambiguous_name_is_listed_and_its_candidates_are_not_marked_absent():
    twin = EnrolledUser(104, "Ana Garcia", None, None, ("student",))
    plan = plan_sync(meeting(person("n:ana", name="Ana García")), state(session(), users=(ANA, twin, CAR, TEO)))
    [ambiguous] = plan.ambiguous
    assert (ambiguous.person, set(ambiguous.candidates)) == ("n:ana", {101, 104})
    assert set(marks_of(plan)) == {103}
    assert any("may be an ambiguous participant" in line for line in plan.not_marked)


def test_two_participants_of_one_student_give_the_better_status():
    plan = plan_sync(meeting(person("phone", status="partial", email="ana@school.example"),
                             person("laptop", status="present", late=True, user_id="101")), state(session()))
    [mark] = [m for m in plan.marks if m.user_id == 101]
    assert (mark.outcome, mark.because) == ("late", "joined as phone and laptop (best of them)")


def test_group_sessions_expect_only_their_group():
    plan = plan_sync(meeting(person("u:101", user_id="101"), person("u:103", user_id="103"), group_id=5),
                     state(session(group=5, listed={101, 102})))
    assert set(marks_of(plan)) == {101, 102}
    assert "Carlos Ruiz [103]: not on this session's list of students (another group?)" in plan.not_marked


# -- statuses -----------------------------------------------------------------------------------------

def test_statuses_are_resolved_against_the_activitys_own_set():
    spanish = (Status(41, "P", "Presente", 2), Status(42, "F", "Falta", 0), Status(43, "R", "Retraso", 1))
    plan = plan_sync(meeting(person("u:101", user_id="101")), state(session(statuses=spanish)))
    assert [p.split(" names")[0] for p in plan.problems] == [
        "status 'L' (for late)", "status 'L' (for partial)", "status 'A' (for absent)"]
    assert all("activity 7's set, which has P, F, R" in p for p in plan.problems)
    mapping = StatusMapping(late="R", partial="R", absent="F")
    plan = plan_sync(meeting(person("u:101", user_id="101")), state(session(statuses=spanish)),
                     settings=SyncSettings(statuses=mapping))
    assert plan.problems == () and marks_of(plan)[102] == ("absent", "F", 42, "write")


def test_what_moodle_already_has_is_not_rewritten_and_a_persons_change_is_kept():
    taken = {101: 11, 102: 11, 103: 13}  # Ana P (as we wrote), Beatriz P (a teacher's fix), Carlos L (ours)
    previous = PreviousSync(session_id=501, written={101: 11, 102: 12, 103: 13})
    plan = plan_sync(meeting(person("u:101", user_id="101"), person("u:103", user_id="103", status="present")),
                     state(session(taken=taken)), previous=previous)
    assert {m.user_id: m.action for m in plan.marks} == {101: "unchanged", 102: "keep", 103: "write"}
    assert [m.user_id for m in plan.writes] == [103]


# -- sessions -----------------------------------------------------------------------------------------

def test_the_session_overlapping_the_lesson_longest_is_chosen():
    earlier, lesson = session(500, NINE - minutes(60)), session(501, NINE)
    plan = plan_sync(meeting(start=NINE - minutes(15), end=NINE + minutes(55)), state(earlier, lesson))
    assert plan.session.session_id == 501 and plan.session.reason == "overlaps the lesson for 55 of 70 min"


def test_equal_overlaps_are_a_problem_not_a_coin_toss():
    plan = plan_sync(meeting(), state(session(500), session(501)))
    assert plan.session is None and "500, 501 overlap the lesson equally" in plan.problems[0]


def test_a_session_without_duration_matches_when_it_starts_within_the_lesson():
    plan = plan_sync(meeting(), state(session(502, NINE + minutes(5), length=0)))
    assert plan.session.session_id == 502


def test_other_groups_sessions_are_not_taken_for_the_meeting():
    plan = plan_sync(meeting(), state(session(503, group=6)))
    assert plan.session is None and "only sessions of other groups overlap" in plan.problems[0]
    assert plan_sync(meeting(group_id=6), state(session(503, group=6))).session.session_id == 503


def test_without_a_session_one_covering_the_lesson_is_planned():
    plan = plan_sync(meeting(person("u:101", user_id="101"), start=NINE + dt.timedelta(seconds=20),
                             end=NINE + minutes(54) + dt.timedelta(seconds=10)),
                     state(session(400, NINE - dt.timedelta(days=7))))
    choice = plan.session
    assert (choice.session_id, choice.start, choice.duration_seconds) == (None, NINE, 55 * 60)
    assert marker("m-1") in choice.description
    assert marks_of(plan)[101] == ("present", "P", 11, "write")  # ids known from the activity's other session


def test_the_stored_session_wins_and_a_deleted_one_stops_the_sync():
    plan = plan_sync(meeting(), state(session(501), session(600, NINE + minutes(120))),
                     previous=PreviousSync(600, {}))
    assert plan.session.session_id == 600
    gone = plan_sync(meeting(), state(session(501)), previous=PreviousSync(600, {}))
    assert gone.session is None and "session 600" in gone.problems[0] and gone.writes == ()


def test_a_session_created_for_the_meeting_is_found_by_its_marker():
    created = session(700, NINE + minutes(300), description=f"Jitsi lesson ({marker('m-1')})")
    assert plan_sync(meeting(), state(session(501), created)).session.session_id == 700


def test_a_course_without_attendance_or_with_several_needs_the_admin():
    assert "has no Attendance activity" in plan_sync(meeting(), state(activities=())).problems[0]
    several = plan_sync(meeting(), state(activities=(7, 8)))
    assert "several Attendance activities ('Register 7': id 907, 'Register 8': id 908)" in several.problems[0]
    assert "ATTENDANCE_MOODLE_ATTENDANCE=MAT-1A=<id>" in several.problems[0]
    chosen = plan_sync(meeting(), state(activities=(7, 8)), settings=SyncSettings(attendance_id=8))
    assert chosen.session.attendance_id == 8 and chosen.problems == ()


def test_the_dry_run_description_names_every_decision():
    plan = plan_sync(meeting(person("u:101", user_id="101", late=True), person("e:x", email="x@else.example")),
                     state(session()))
    text = "\n".join(plan.describe())
    assert "session 501 in Attendance activity 7: 2026-09-14 09:00 UTC, 60 min" in text
    assert "write     Ana García [101]: late -> L (status 13); joined as u:101" in text
    assert "unknown   e:x: no user enrolled" in text
    assert "not marked Teo Teacher" not in text  # the teacher never joined


# -- against the fake Moodle --------------------------------------------------------------------------

@pytest.fixture
def school(moodle):
    client = MoodleClient(moodle.url, moodle.issue_token(), ca_file=moodle.ca_file, sleep=lambda s: None)
    return {**moodle.add_class(), "client": client}


def class_meeting(school, *, late_ana=True, key="mat-1a@2026-09-14T09:00") -> MeetingAttendance:
    # a stock mod_jitsi token: no user id, an email only if enabled, the username as the name
    return meeting(person("e:ana", email="ana@school.example", late=late_ana),
                   person("n:boneil", status="partial", name="boneil"),
                   person("n:teo", name="Teo Teacher", moderator=True), key=key)


def sync(school, plan_meeting, previous=None, **settings):
    client = school["client"]
    plan = plan_sync(plan_meeting, read_course_state(client, "MAT-1A"), previous=previous,
                     settings=SyncSettings(**settings))
    audit, stored = [], []
    result = apply_plan(client, plan, on_session=stored.append, audit=audit.append)
    return plan, result, audit, stored


def test_a_sync_writes_the_register_and_a_resync_changes_only_what_changed(moodle, school):
    plan, result, audit, stored = sync(school, class_meeting(school))
    assert result.created and stored == [result.session_id]
    assert moodle.taken(result.session_id) == {school["ana"].id: "L", school["bea"].id: "L", school["car"].id: "A"}
    assert [entry.function for entry in audit] == ["mod_attendance_add_session"] + \
        ["mod_attendance_update_user_status"] * 3
    assert all("wstoken" not in entry.params for entry in audit)
    previous = PreviousSync(result.session_id, result.written)

    plan, again, audit, _ = sync(school, class_meeting(school), previous)
    assert (again.session_id, again.created, again.wrote, audit) == (result.session_id, False, 0, [])
    assert len(moodle.sessions) == 1

    plan, fixed, audit, _ = sync(school, class_meeting(school, late_ana=False), PreviousSync(again.session_id,
                                                                                             again.written))
    assert fixed.wrote == 1 and moodle.taken(result.session_id)[school["ana"].id] == "P"


def test_a_teachers_correction_in_moodle_survives_a_resync(moodle, school):
    _, first, _, _ = sync(school, class_meeting(school))
    excused = moodle.status_id(school["activity"], "E")
    moodle.logs[first.session_id][school["car"].id]["statusid"] = excused  # the teacher excuses Carlos
    plan, second, _, _ = sync(school, class_meeting(school), PreviousSync(first.session_id, first.written))
    assert [m.action for m in plan.marks if m.user_id == school["car"].id] == ["keep"]
    assert moodle.taken(first.session_id)[school["car"].id] == "E"
    plan, third, _, _ = sync(school, class_meeting(school), PreviousSync(second.session_id, second.written))
    assert [m.action for m in plan.marks if m.user_id == school["car"].id] == ["keep"]  # still recognised


def test_an_existing_session_of_the_lesson_is_used(moodle, school):
    lesson = moodle.add_session(school["activity"], NINE - minutes(5), 60)
    _, result, _, _ = sync(school, class_meeting(school))
    assert (result.session_id, result.created, len(moodle.sessions)) == (lesson, False, 1)


def test_a_session_created_but_not_stored_is_adopted_not_duplicated(moodle, school):
    client = school["client"]
    plan = plan_sync(class_meeting(school), read_course_state(client, "MAT-1A"))

    def crash(session_id):
        raise RuntimeError("the receiver died before storing the session")

    with pytest.raises(RuntimeError):
        apply_plan(client, plan, on_session=crash, audit=lambda entry: None)
    assert moodle.taken(next(iter(moodle.sessions))) == {}
    plan, result, _, _ = sync(school, class_meeting(school))
    assert not result.created and len(moodle.sessions) == 1
    assert plan.session.reason == "the session created for this meeting"


def test_a_lost_answer_to_the_session_write_does_not_create_a_second_one(moodle, school):
    slow = MoodleClient(moodle.url, moodle.issue_token(), ca_file=moodle.ca_file, timeout=(2.0, 0.3),
                        sleep=lambda s: None)
    plan = plan_sync(class_meeting(school), read_course_state(slow, "MAT-1A"))
    moodle.slow["mod_attendance_add_session"] = 0.8
    with pytest.raises(MoodleUnavailable):
        apply_plan(slow, plan, on_session=lambda s: None, audit=lambda e: None)
    moodle.slow.clear()
    moodle.wait_idle()
    assert len(moodle.sessions) == 1  # Moodle did create it
    _, result, _, _ = sync(school, class_meeting(school))
    assert not result.created and len(moodle.sessions) == 1


def test_statuses_of_a_new_activity_are_read_once_its_first_session_exists(moodle, school):
    plan = plan_sync(class_meeting(school), read_course_state(school["client"], "MAT-1A"))
    assert {m.status_id for m in plan.marks} == {None}  # no session yet shows the activity's set
    _, result, _, _ = sync(school, class_meeting(school))
    assert moodle.taken(result.session_id)[school["car"].id] == "A"


def test_a_status_missing_from_a_new_sessions_set_stops_before_writing(moodle, school):
    with pytest.raises(SyncRefused, match="status\\(es\\) X name no single status in session"):
        sync(school, class_meeting(school), statuses=StatusMapping(partial="X"))
    [session_id] = moodle.sessions
    assert moodle.taken(session_id) == {}


def test_moodle_failing_midway_reports_what_was_written(moodle, school):
    client = MoodleClient(moodle.url, moodle.issue_token(), ca_file=moodle.ca_file, attempts=1)
    plan = plan_sync(class_meeting(school), read_course_state(client, "MAT-1A"))
    stored, writes = [], []
    real = client.update_user_status

    def third_write_fails(*args):
        writes.append(args)
        if len(writes) == 3:
            moodle.fail_next(503)
        return real(*args)

    client.update_user_status = third_write_fails
    with pytest.raises(SyncIncomplete) as caught:
        apply_plan(client, plan, on_session=stored.append, audit=lambda e: None)
    partial = caught.value.result
    assert partial.wrote == 2 and len(partial.written) == 2
    _, result, _, _ = sync(school, class_meeting(school), PreviousSync(stored[0], partial.written))
    assert result.wrote == 1 and len(moodle.taken(stored[0])) == 3


def test_a_plan_with_problems_writes_nothing(moodle, school):
    other = moodle.add_course("FIS-2B")
    moodle.enrol(other, school["ana"])
    plan = plan_sync(dataclasses.replace(class_meeting(school), course="FIS-2B"),
                     read_course_state(school["client"], "FIS-2B"))
    with pytest.raises(SyncRefused, match="no Attendance activity"):
        apply_plan(school["client"], plan, on_session=lambda s: None, audit=lambda e: None)
    assert moodle.sessions == {}


def test_a_service_missing_a_function_is_refused_before_any_write(moodle, school):
    plan = plan_sync(class_meeting(school), read_course_state(school["client"], "MAT-1A"))
    moodle.services["attendance-sync"].discard("mod_attendance_update_user_status")
    with pytest.raises(SyncRefused, match="lacks mod_attendance_update_user_status"):
        apply_plan(school["client"], plan, on_session=lambda s: None, audit=lambda e: None)
    assert moodle.sessions == {}


def test_a_username_match_needs_moodle_to_show_usernames(moodle, school):
    moodle.capabilities.discard("moodle/user:viewalldetails")
    plan, result, _, _ = sync(school, class_meeting(school))
    assert [(u.person, u.reason) for u in plan.unknown] == [
        ("n:boneil", "no user enrolled in MAT-1A has the name or username 'boneil'")]
    assert moodle.taken(result.session_id)[school["bea"].id] == "A"


def test_an_unknown_course_reads_as_none(moodle, school):
    assert read_course_state(school["client"], "NOPE") is None
