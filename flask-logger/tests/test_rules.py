"""The attendance rules against every scenario vector, and its rules one by one.

The vectors (tests/vectors) are the shared truth of the project: the receiver must compute exactly
the attendance each one states, whatever order its events arrive in.
"""
import datetime as dt
import random

import pytest

from attendance_logger import rules
from attendance_logger.lessons import Enrolled, Lesson, MeetingContext
from attendance_logger.rules import InstanceInfo, Settings, compute
from tests.support import vectors

BASE = dt.datetime(2025, 11, 22, 8, 0, tzinfo=dt.timezone.utc)
LATER = BASE + dt.timedelta(days=1)
ALL = vectors.all_vectors()


def seconds(moment):
    return None if moment is None else (moment - BASE).total_seconds()


def compute_vector(vector, events=None):
    """The vector's meetings; with a class section, each measured against its lessons and class
    list, as the store (class_store.py) would give them."""
    events = vector.materialize(BASE) if events is None else events
    settings = Settings.from_mapping(vector.settings)
    if not vector.classroom:
        return compute(events, settings, now=LATER)
    builder = rules.PresenceBuilder()
    builder.add(events)
    return [rules.classify(presence, settings, rules.to_ms(LATER), class_context(vector))
            for presence in builder.presences()]


def class_context(vector) -> MeetingContext:
    """A vector's lessons (on BASE's day) and class list; its courses are those of its class."""
    lessons = tuple(Lesson(course=lesson["course"], group=None, source="file",
                           start_ms=rules.to_ms(BASE) + 1000 * lesson["start"],
                           end_ms=rules.to_ms(BASE) + 1000 * (lesson["start"] + lesson["duration"]))
                    for lesson in vector.classroom.get("lessons", []))
    roster = tuple(Enrolled(course=s["course"], name=s["name"], user_id=s.get("user_id"), email=s.get("email"),
                            username=s.get("username")) for s in vector.classroom.get("students", []))
    return MeetingContext(courses=tuple(sorted({entry.course for entry in lessons + roster})),
                          lessons=lessons, roster=roster)


def keys_of(vector, person, events):
    """The participant keys a person's connections produce: by identity, or by occupant for guests."""
    key = vector.participant_key(person)
    if key is not None:
        return {key}
    return {rules.participant_key(event)
            for expected, event in zip(vector.expected_events(), events, strict=True)
            if expected["_client"] and vector.client_person(expected["_client"]) == person}


def find_participant(meeting, keys):
    found = [p for p in meeting.participants if p.key in keys]
    assert len(found) == 1, f"expected one participant with key in {keys}, got {[p.key for p in found]}"
    return found[0]


@pytest.mark.parametrize("vector", ALL, ids=lambda v: v.name)
def test_vector_gives_its_expected_attendance(vector):
    events = vector.materialize(BASE)
    meetings = compute_vector(vector, events)
    assert [(m.room_name, seconds(m.started_at)) for m in meetings] == [
        (m["room"], m["started_at"]) for m in vector.attendance]
    for meeting, expected in zip(meetings, vector.attendance, strict=True):
        where = f"{vector.name}/{expected['room']}@{expected['started_at']}"
        assert seconds(meeting.ended_at) == expected["ended_at"], where
        assert meeting.duration_seconds == expected["ended_at"] - expected["started_at"], where
        assert meeting.closed_by == expected.get("closed_by", "room.destroyed"), where
        reference = expected.get("reference", {"start": expected["started_at"], "end": expected["ended_at"]})
        assert (seconds(meeting.reference.start), seconds(meeting.reference.end)) == (
            reference["start"], reference["end"]), where
        assert sorted(a.name for a in meeting.absentees) == sorted(expected.get("absentees", [])), where
        assert len(meeting.participants) == len(expected["participants"]), (
            where, [p.key for p in meeting.participants])
        for want in expected["participants"]:
            got = find_participant(meeting, keys_of(vector, want["person"], events))
            who = f"{where}/{want['person']}"
            assert seconds(got.first_join) == want["first_join"], who
            assert seconds(got.last_leave) == want["last_leave"], who
            assert got.present_seconds == want["present_seconds"], who
            assert got.percent == want["percent"], who
            assert got.status == want["status"], who
            assert got.late is want["late"], who
            assert got.left_early is want["left_early"], who
            assert got.still_present is False, who
            if "name" in want:
                assert got.name == want["name"], who
            if "names" in want:
                assert got.names == want["names"], who
            if "intervals" in want:
                assert [[seconds(a), seconds(b)] for a, b in got.intervals] == want["intervals"], who


@pytest.mark.parametrize("vector", ALL, ids=lambda v: v.name)
def test_vector_result_does_not_depend_on_delivery_order_or_retries(vector):
    events = vector.materialize(BASE)
    reference = compute_vector(vector, events)
    rng = random.Random(vector.name)
    for _ in range(5):
        delivered = events + rng.sample(events, k=len(events) // 2)  # retries re-send the same ids
        rng.shuffle(delivered)
        assert compute_vector(vector, delivered) == reference


def test_vector_names_fall_back_to_the_last_display_name_for_guests():
    vector = vectors.load(vectors.VECTORS_DIR / "13-anonymous-guest.json")
    meeting, = compute_vector(vector)
    guests = [p for p in meeting.participants if p.user_id is None]
    assert [p.name for p in guests] == ["Visitor", "Visitor"]
    assert len({p.key for p in guests}) == 2


def test_identity_fields_and_allow_listed_claims_reach_the_participant():
    vector = vectors.load(vectors.VECTORS_DIR / "01-basic-lesson.json")
    meeting, = compute_vector(vector)
    teacher = find_participant(meeting, {"user:t-100"})
    assert (teacher.email, teacher.user_id, teacher.moderator) == ("c.dupont@school.example", "t-100", True)
    assert teacher.claims == {"courseid": "MATH101", "groupid": "3B"}
    alice = find_participant(meeting, {"user:u-1001"})
    assert alice.moderator is False and "secret_note" not in alice.claims


# -- event builders for the rule tests ---------------------------------------------------------------
class Scenario:
    """Builds contract-v1 events compactly: times are seconds after BASE."""

    def __init__(self, room="maths-3b", instance="instance-one", server="prosody", host="muc.meet.jitsi"):
        self.room, self.instance, self.server, self.host = room, instance, server, host
        self.events = []

    def _event(self, type_, at, **extra):
        event = {"id": f"{len(self.events):08d}-0000-4000-8000-000000000000", "type": type_,
                 "time": vectors.format_time(BASE + dt.timedelta(seconds=at)),
                 "source": {"server": self.server, "host": extra.pop("host", self.host),
                            "instance": extra.pop("instance", self.instance)}}
        event.update(extra)
        self.events.append(event)
        return event

    def room_object(self, room=None, meeting_id=None, parent=None):
        room = room or self.room
        obj = {"jid": f"{room}@{'breakout' if parent else 'muc'}.meet.jitsi", "name": room}
        if meeting_id:
            obj["meeting_id"] = meeting_id
        if parent:
            obj["parent_jid"] = f"{parent}@muc.meet.jitsi"
        return obj

    def started(self, at, **kw):
        return self._event("source.started", at, **kw)

    def created(self, at, room=None, meeting_id=None, parent=None, **kw):
        return self._event("room.created", at, room=self.room_object(room, meeting_id, parent), **kw)

    def destroyed(self, at, room=None, meeting_id=None, parent=None, **kw):
        return self._event("room.destroyed", at, room=self.room_object(room, meeting_id, parent), **kw)

    def occupant(self, type_, at, conn, user=None, nick=None, room=None, meeting_id=None, parent=None,
                 email=None, previous_nick=None, role=None, **kw):
        room_obj = self.room_object(room, meeting_id, parent)
        occupant = {"occupant_jid": f"{room_obj['jid']}/{conn}", "user_jid": f"{conn}@meet.jitsi/x",
                    "bare_jid": f"{conn}@meet.jitsi"}
        if nick:
            occupant["nick"] = nick
        if previous_nick:
            occupant["previous_nick"] = previous_nick
        if role:
            occupant["role"] = role
        extra = {"room": room_obj, "occupant": occupant}
        identity = {k: v for k, v in (("user_id", user), ("email", email)) if v}
        if identity:
            extra["identity"] = identity
        return self._event(type_, at, **extra, **kw)

    def joined(self, at, conn, **kw):
        return self.occupant("occupant.joined", at, conn, **kw)

    def left(self, at, conn, **kw):
        return self.occupant("occupant.left", at, conn, **kw)

    def renamed(self, at, conn, **kw):
        return self.occupant("occupant.renamed", at, conn, **kw)


def only(meetings):
    assert len(meetings) == 1, meetings
    return meetings[0]


def intervals_s(participant):
    return [(seconds(a), seconds(b)) for a, b in participant.intervals]


# -- rules -------------------------------------------------------------------------------------------
def test_meeting_key_is_the_jitsi_meeting_id_when_present_else_stable():
    with_id = Scenario()
    with_id.created(0, meeting_id="4f1e9a2c-6b7d-4e8f-9a0b-1c2d3e4f5a6b")
    with_id.destroyed(10, meeting_id="4f1e9a2c-6b7d-4e8f-9a0b-1c2d3e4f5a6b")
    assert only(compute(with_id.events)).key == "4f1e9a2c-6b7d-4e8f-9a0b-1c2d3e4f5a6b"

    without = Scenario()
    without.created(0)
    without.destroyed(10)
    first, again = only(compute(without.events)).key, only(compute(list(without.events))).key
    assert first == again
    other_instance = Scenario(instance="instance-two")
    other_instance.created(0)
    other_instance.destroyed(10)
    assert only(compute(other_instance.events)).key != first


def test_meeting_id_learned_after_room_created_is_adopted():
    s = Scenario()
    s.created(0)
    s.joined(1, "a", user="u1", meeting_id="m-1")
    s.destroyed(10, meeting_id="m-1")
    meeting = only(compute(s.events))
    assert (meeting.key, meeting.meeting_id, meeting.closed_by) == ("m-1", "m-1", "room.destroyed")


def test_empty_meetings_are_listed():
    s = Scenario()
    s.created(0)
    s.destroyed(30)
    meeting = only(compute(s.events))
    assert meeting.participants == [] and meeting.duration_seconds == 30


def test_running_meeting_is_computed_up_to_now_and_marks_who_is_still_inside():
    s = Scenario()
    s.created(0)
    s.joined(0, "t", user="teacher")
    s.joined(100, "a", user="alice")
    s.left(200, "a", user="alice")
    meeting = only(compute(s.events, now=BASE + dt.timedelta(seconds=1000)))
    assert meeting.ended_at is None and meeting.closed_by is None and meeting.duration_seconds == 1000
    teacher, alice = meeting.participants
    assert (teacher.still_present, teacher.last_leave, teacher.present_seconds) == (True, None, 1000)
    assert teacher.left_early is False
    assert (alice.still_present, seconds(alice.last_leave), alice.present_seconds) == (False, 200, 100)
    assert alice.left_early is True


def test_now_before_the_last_event_never_makes_a_negative_meeting():
    s = Scenario()
    s.created(0)
    s.joined(50, "a", user="alice")
    meeting = only(compute(s.events, now=BASE - dt.timedelta(hours=1)))
    assert meeting.duration_seconds == 50 and meeting.participants[0].present_seconds == 0


def test_restart_known_only_to_the_store_closes_at_the_instances_last_event():
    s = Scenario()
    s.created(0)
    s.joined(0, "a", user="alice")
    s.joined(10, "b", user="bob")
    s.left(20, "b", user="bob")
    store_says = {"instance-one": InstanceInfo(last_seen=BASE + dt.timedelta(seconds=300), superseded=True)}
    meeting = only(compute(s.events, instances=store_says, now=LATER))
    assert (seconds(meeting.ended_at), meeting.closed_by) == (300, "source.started")
    assert intervals_s(meeting.participants[0]) == [(0, 300)]

    alive = {"instance-one": InstanceInfo(last_seen=BASE + dt.timedelta(seconds=300), superseded=False)}
    assert only(compute(s.events, instances=alive, now=LATER)).closed_by is None


def test_source_started_from_another_host_does_not_close_meetings():
    s = Scenario()
    s.started(0)
    s.created(0)
    s.joined(0, "a", user="alice")
    s.started(100, instance="instance-two", host="conference.other.example")
    assert only(compute(s.events, now=BASE + dt.timedelta(seconds=500))).ended_at is None


def test_restart_closes_breakout_presence_at_the_last_event_too():
    s = Scenario()
    s.started(0)
    s.created(0)
    s.joined(0, "t", user="teacher")
    s.joined(10, "a", user="alice")
    s.left(100, "a", user="alice")
    s.created(100, room="group-1", parent="maths-3b", host="breakout.meet.jitsi")
    s.joined(100, "a-b", user="alice", room="group-1", parent="maths-3b", host="breakout.meet.jitsi")
    s.renamed(400, "t", user="teacher", nick="T", previous_nick="Teacher")
    s.started(900, instance="instance-two")
    meeting = only(compute(s.events, now=LATER))
    assert (seconds(meeting.ended_at), meeting.closed_by) == (400, "source.started")
    alice = find_participant(meeting, {"user:alice"})
    assert intervals_s(alice) == [(10, 400)]


def test_breakout_without_an_open_main_meeting_is_ignored():
    s = Scenario()
    s.created(0, room="group-1", parent="maths-3b")
    s.joined(0, "a", user="alice", room="group-1", parent="maths-3b")
    s.left(60, "a", user="alice", room="group-1", parent="maths-3b")
    s.destroyed(60, room="group-1", parent="maths-3b")
    assert compute(s.events) == []


def test_breakout_destroyed_with_occupants_ends_their_breakout_presence():
    s = Scenario()
    s.created(0)
    s.joined(0, "t", user="teacher")
    s.created(100, room="group-1", parent="maths-3b")
    s.joined(100, "a-b", user="alice", room="group-1", parent="maths-3b")
    s.destroyed(500, room="group-1", parent="maths-3b")
    s.left(2000, "t", user="teacher")
    s.destroyed(2000)
    alice = find_participant(only(compute(s.events)), {"user:alice"})
    assert intervals_s(alice) == [(100, 500)]


def test_occupant_events_without_room_created_open_a_meeting_at_their_time():
    s = Scenario()
    s.joined(100, "a", user="alice")
    s.left(400, "a", user="alice")
    s.destroyed(500)
    meeting = only(compute(s.events))
    assert (seconds(meeting.started_at), seconds(meeting.ended_at)) == (100, 500)
    assert meeting.participants[0].present_seconds == 300


def test_leave_or_rename_without_a_known_join_is_ignored():
    s = Scenario()
    s.created(0)
    s.left(10, "ghost", user="ghost")
    s.renamed(20, "ghost2", user="ghost2", nick="X", previous_nick="Y")
    s.destroyed(30)
    assert only(compute(s.events)).participants == []


def test_a_new_life_in_the_same_millisecond_as_the_destroy_stays_apart():
    s = Scenario()
    s.created(0)
    s.joined(0, "a", user="alice")
    s.left(600, "a", user="alice")
    s.created(600)  # the next class joins the very moment the room dies
    s.joined(600, "b", user="bob")
    s.destroyed(600)
    s.left(1200, "b", user="bob")
    s.destroyed(1200)
    first, second = compute(s.events)
    assert (seconds(first.started_at), seconds(first.ended_at), [p.key for p in first.participants]) == (
        0, 600, ["user:alice"])
    assert (seconds(second.started_at), seconds(second.ended_at), [p.key for p in second.participants]) == (
        600, 1200, ["user:bob"])


def test_a_missed_destroy_ends_the_old_life_when_the_next_one_starts():
    s = Scenario()
    s.created(0)
    s.joined(0, "a", user="alice")
    s.created(1000)
    s.joined(1000, "b", user="bob")
    s.left(1500, "b", user="bob")
    s.destroyed(1500)
    first, second = compute(s.events)
    assert (seconds(first.ended_at), first.closed_by) == (1000, "room.created")
    assert intervals_s(first.participants[0]) == [(0, 1000)]
    assert (seconds(second.ended_at), second.closed_by) == (1500, "room.destroyed")


def test_participant_keys_follow_identity_then_email_then_jid_then_occupant():
    assert rules.participant_key({"identity": {"user_id": "u1", "email": "a@x"}, "occupant": {}}) == "user:u1"
    assert rules.participant_key({"identity": {"email": "a@x"}, "occupant": {"bare_jid": "j@x"}}) == "email:a@x"
    assert rules.participant_key({"occupant": {"bare_jid": "j@x", "occupant_jid": "r@m/1"}}) == "jid:j@x"
    assert rules.participant_key({"occupant": {"occupant_jid": "r@m/1"}}) == "occupant:r@m/1"


def test_same_email_from_two_connections_is_one_participant():
    s = Scenario()
    s.created(0)
    s.joined(0, "laptop", email="zoe@school.example", nick="Zoë")
    s.joined(30, "phone", email="zoe@school.example", nick="Zoë (phone)")
    s.left(600, "laptop", email="zoe@school.example")
    s.left(900, "phone", email="zoe@school.example")
    s.destroyed(900)
    zoe = only(compute(s.events)).participants[0]
    assert (zoe.key, zoe.email, zoe.name, zoe.names) == ("email:zoe@school.example", "zoe@school.example",
                                                         "Zoë (phone)", ["Zoë", "Zoë (phone)"])
    assert zoe.present_seconds == 900


def test_moderator_role_marks_a_guest_moderator():
    s = Scenario()
    s.created(0)
    s.joined(0, "host", nick="Host", role="moderator")
    s.destroyed(10)
    assert only(compute(s.events)).participants[0].moderator is True


def test_grace_setting_changes_what_is_merged():
    s = Scenario()
    s.created(0)
    s.joined(0, "a1", user="alice")
    s.left(1000, "a1", user="alice")
    s.joined(1090, "a2", user="alice")
    s.left(2000, "a2", user="alice")
    s.destroyed(2000)
    default = only(compute(s.events)).participants[0]
    assert intervals_s(default) == [(0, 1000), (1090, 2000)] and default.present_seconds == 1910
    generous = only(compute(s.events, Settings(reconnect_grace_seconds=120))).participants[0]
    assert intervals_s(generous) == [(0, 2000)] and generous.present_seconds == 2000


def test_thresholds_are_inclusive_and_configurable():
    s = Scenario()
    s.created(0)
    s.joined(0, "a", user="alice")
    s.left(750, "a", user="alice")
    s.joined(0, "b", user="bob")
    s.left(250, "b", user="bob")
    s.joined(0, "c", user="carl")
    s.left(249, "c", user="carl")
    s.destroyed(1000)
    statuses = {p.key: (p.percent, p.status) for p in only(compute(s.events)).participants}
    assert statuses == {"user:alice": (75.0, "present"), "user:bob": (25.0, "partial"),
                        "user:carl": (24.9, "absent")}
    strict = Settings(present_min_percent=90, partial_min_percent=50)
    statuses = {p.key: p.status for p in only(compute(s.events, strict)).participants}
    assert statuses == {"user:alice": "partial", "user:bob": "absent", "user:carl": "absent"}


def test_late_and_left_early_use_strictly_more_than_the_setting():
    s = Scenario()
    s.created(0)
    s.joined(300, "a", user="alice")
    s.left(700, "a", user="alice")
    s.joined(301, "b", user="bob")
    s.left(699, "b", user="bob")
    s.destroyed(1000)
    flags = {p.key: (p.late, p.left_early) for p in only(compute(s.events)).participants}
    assert flags == {"user:alice": (False, False), "user:bob": (True, True)}


def test_percent_is_rounded_half_up_to_one_decimal():
    assert rules.percent_of(1, 8) == 12.5
    assert rules.percent_of(245, 2000) == 12.3  # 12.25 → 12.3, not banker's 12.2
    assert rules.percent_of(2, 3) == 66.7
    assert rules.percent_of(5, 0) == 0.0


def test_events_with_other_time_offsets_are_read_as_the_same_instant():
    s = Scenario()
    s.created(0)
    s.joined(0, "a", user="alice")["time"] = "2025-11-22T09:00:00.000+01:00"
    s.left(60, "a", user="alice")
    s.destroyed(60)
    assert only(compute(s.events)).participants[0].present_seconds == 60


def test_an_event_without_a_usable_time_is_a_clear_error():
    s = Scenario()
    s.created(0)["time"] = "yesterday"
    with pytest.raises(ValueError, match="has no valid time"):
        compute(s.events)


def test_unknown_event_types_are_ignored():
    s = Scenario()
    s.created(0)
    s._event("room.configured", 5, room=s.room_object())
    s.destroyed(10)
    assert only(compute(s.events)).duration_seconds == 10


def test_meetings_are_ordered_by_start_then_room():
    s = Scenario()
    s.created(100, room="b-room")
    s.created(100, room="a-room")
    s.created(50, room="z-room")
    assert [m.room_name for m in compute(s.events, now=LATER)] == ["z-room", "a-room", "b-room"]


# -- settings ----------------------------------------------------------------------------------------
def test_settings_from_environment_style_mapping():
    settings = Settings.from_mapping({"ATTENDANCE_RECONNECT_GRACE_SECONDS": "90", "present_min_percent": 80,
                                      "ATTENDANCE_CLAIMS": "courseid, groupid ,schoolid", "PATH": "/usr/bin"})
    assert settings == Settings(reconnect_grace_seconds=90, present_min_percent=80,
                                claims=("courseid", "groupid", "schoolid"))


@pytest.mark.parametrize("mapping, named", [
    ({"ATTENDANCE_LATE_AFTER_SECONDS": "five"}, "ATTENDANCE_LATE_AFTER_SECONDS"),
    ({"left_early_seconds": -1}, "left_early_seconds"),
    ({"present_min_percent": 101}, "present_min_percent"),
    ({"partial_min_percent": "nan"}, "partial_min_percent"),
    ({"ATTENDANCE_PARTIAL_MIN_PERCENT": "80"}, "ATTENDANCE_PARTIAL_MIN_PERCENT"),  # above present_min
    ({"reconnect_grace_seconds": True}, "reconnect_grace_seconds"),
])
def test_settings_errors_name_the_bad_key(mapping, named):
    with pytest.raises(ValueError, match=named):
        Settings.from_mapping(mapping)


def test_vector_settings_are_accepted():
    for vector in ALL:
        assert Settings.from_mapping(vector.settings).claims == tuple(vector.settings["claims"])


def test_identity_comes_from_the_latest_join_as_a_whole():
    s = Scenario()
    s.created(0)
    first = s.joined(0, "a1", user="alice", nick="al")
    first["identity"].update(name="Al", email="old@school.example", claims={"courseid": "MATH101", "groupid": "3A"})
    s.left(100, "a1", user="alice")
    second = s.joined(110, "a2", user="alice", nick="Alice")
    second["identity"].update(name="Alice Martin", claims={"courseid": "MATH101", "secret": "x"})
    s.left(200, "a2", user="alice")
    s.destroyed(200)
    alice = only(compute(s.events)).participants[0]
    assert (alice.name, alice.email, alice.claims, alice.names) == (
        "Alice Martin", None, {"courseid": "MATH101"}, ["al", "Alice"])


def test_events_naming_a_meeting_id_reach_that_life_even_when_lives_meet_in_one_millisecond():
    s = Scenario()
    s.created(0, meeting_id="lesson-1")
    s.joined(0, "a", user="alice", meeting_id="lesson-1")
    s.created(600, meeting_id="lesson-2")
    s.joined(600, "b", user="bob", meeting_id="lesson-2")
    s.left(600, "a", user="alice", meeting_id="lesson-1")
    s.destroyed(600, meeting_id="lesson-1")
    s.left(900, "b", user="bob", meeting_id="lesson-2")
    s.destroyed(900, meeting_id="lesson-2")
    first, second = compute(list(reversed(s.events)))
    assert (first.key, seconds(first.ended_at), [p.key for p in first.participants]) == (
        "lesson-1", 600, ["user:alice"])
    assert (second.key, seconds(second.ended_at), [p.key for p in second.participants]) == (
        "lesson-2", 900, ["user:bob"])
