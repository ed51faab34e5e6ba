"""Property-based tests of the attendance rules (hypothesis): random classes, any delivery order.

Each example is a random lesson: people with one or more connections that join and leave (or
never leave), sometimes a breakout room, sometimes a server crash with no destroy. The rules must
keep its invariants on all of them and agree with a slow, obviously-correct oracle.
"""
import datetime as dt
import itertools
import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from attendance_logger import rules
from attendance_logger.rules import Settings, compute

BASE = dt.datetime(2025, 11, 22, 8, 0, tzinfo=dt.timezone.utc)
NOW = BASE + dt.timedelta(days=1)
ROOM = {"jid": "maths-3b@muc.meet.jitsi", "name": "maths-3b"}
BREAKOUT = {"jid": "group-1@breakout.meet.jitsi", "name": "group-1", "parent_jid": ROOM["jid"]}
PROPERTY_SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def at(seconds):
    return rules.format_time(BASE + dt.timedelta(seconds=seconds))


class Lesson:
    def __init__(self):
        self.events = []
        self.ids = itertools.count()

    def add(self, type_, seconds, instance="one", room=None, occupant=None, identity=None, host=None):
        event = {"id": f"{next(self.ids):012d}-0000-4000-8000-000000000000", "type": type_, "time": at(seconds),
                 "source": {"server": "prosody", "host": host or "muc.meet.jitsi", "instance": f"instance-{instance}"}}
        if room:
            event["room"] = room
        if occupant:
            event["occupant"] = occupant
        if identity:
            event["identity"] = identity
        self.events.append(event)


@st.composite
def lessons(draw):
    """(events, length, crash_at, sessions): sessions are (person, start, end|None, room) as generated."""
    length = draw(st.integers(min_value=1, max_value=4000))
    crash_at = draw(st.one_of(st.none(), st.integers(min_value=0, max_value=length)))
    lesson = Lesson()
    lesson.add("source.started", 0)
    lesson.add("room.created", 0, room=ROOM)
    has_breakout = draw(st.booleans())
    if has_breakout:
        lesson.add("room.created", 0, room=BREAKOUT, host="breakout.meet.jitsi")
    sessions = []
    people = draw(st.integers(min_value=0, max_value=6))
    connection = 0
    for person in range(people):
        identity = {"user_id": f"u-{person}", "name": f"Person {person}"} if draw(st.booleans()) or person else None
        for _ in range(draw(st.integers(min_value=1, max_value=4))):
            connection += 1
            in_breakout = has_breakout and draw(st.booleans())
            room = BREAKOUT if in_breakout else ROOM
            start = draw(st.integers(min_value=0, max_value=length))
            end = draw(st.one_of(st.none(), st.integers(min_value=start, max_value=length)))
            occupant = {"occupant_jid": f"{room['jid']}/c{connection}", "user_jid": f"c{connection}@meet.jitsi/x",
                        "bare_jid": f"c{connection}@meet.jitsi", "nick": draw(st.sampled_from(["A", "B", "C"]))}
            host = "breakout.meet.jitsi" if in_breakout else None
            lesson.add("occupant.joined", start, room=room, occupant=occupant, identity=identity, host=host)
            if end is not None:
                lesson.add("occupant.left", end, room=room, occupant=occupant, identity=identity, host=host)
            sessions.append((identity["user_id"] if identity else f"c{connection}", start, end))
    if crash_at is None:
        if has_breakout:
            lesson.add("room.destroyed", length, room=BREAKOUT, host="breakout.meet.jitsi")
        lesson.add("room.destroyed", length, room=ROOM)
    else:
        lesson.events = [e for e in lesson.events if rules.to_ms(e["time"]) <= rules.to_ms(at(crash_at))]
        lesson.add("source.started", crash_at + 1, instance="two")
    return lesson.events, length, crash_at, sessions


def union_seconds(spans):
    """Whole seconds covered by [start, end) spans: slow, obviously right."""
    covered = set()
    for start, end in spans:
        covered.update(range(start, end))
    return len(covered)


@PROPERTY_SETTINGS
@given(lessons(), st.sampled_from([0, 30, 60, 600]))
def test_invariants_hold_for_every_lesson(lesson, grace):
    events, length, crash_at, _ = lesson
    meetings = compute(events, Settings(reconnect_grace_seconds=grace), now=NOW)
    assert len(meetings) == 1
    meeting, = meetings
    assert meeting.ended_at is not None
    assert meeting.closed_by == ("room.destroyed" if crash_at is None else "source.started")
    duration = (meeting.ended_at - meeting.started_at).total_seconds()
    assert duration == meeting.duration_seconds
    for p in meeting.participants:
        assert 0 <= p.present_seconds <= duration
        assert 0.0 <= p.percent <= 100.0
        assert p.status == rules.status_for(p.percent, Settings())
        assert meeting.started_at <= p.first_join <= p.last_leave <= meeting.ended_at
        assert p.intervals[0][0] == p.first_join and p.intervals[-1][1] == p.last_leave
        for (a, b), (c, _d) in itertools.pairwise(p.intervals):
            assert a <= b and (c - b).total_seconds() >= max(grace, 0) and c > b
        assert sum((b - a).total_seconds() for a, b in p.intervals) == p.present_seconds
        assert p.late == ((p.first_join - meeting.started_at).total_seconds() > 300)
        assert p.left_early == ((meeting.ended_at - p.last_leave).total_seconds() > 300)


@PROPERTY_SETTINGS
@given(lessons())
def test_without_grace_present_time_is_the_union_of_presence(lesson):
    """Two tabs never count twice, and nothing outside someone's connections counts."""
    events, length, crash_at, sessions = lesson
    meeting, = compute(events, Settings(reconnect_grace_seconds=0), now=NOW)
    end = (meeting.ended_at - BASE).total_seconds()
    expected = {}
    for person, start, leave in sessions:
        if crash_at is not None and start > crash_at:
            continue  # joined after the crash: never delivered
        stop = end if leave is None or (crash_at is not None and leave > crash_at) else leave
        expected.setdefault(person, []).append((start, int(min(stop, end))))
    got = {p.key.split(":", 1)[1].split("@")[0]: p.present_seconds for p in meeting.participants}
    assert got == {person: union_seconds(spans) for person, spans in expected.items()}


@PROPERTY_SETTINGS
@given(lessons(), st.randoms(use_true_random=False), st.integers(min_value=0, max_value=10))
def test_shuffled_and_duplicated_delivery_gives_the_same_result(lesson, rng, retries):
    events = lesson[0]
    reference = compute(events, now=NOW)
    delivered = events + [rng.choice(events) for _ in range(retries if events else 0)]
    rng.shuffle(delivered)
    assert compute(delivered, now=NOW) == reference


def any_settings():
    """Settings a school might choose: every one that changes how the same presence is classified."""
    return st.builds(
        lambda grace, a, b, late, early, claims: Settings(
            reconnect_grace_seconds=grace, present_min_percent=max(a, b), partial_min_percent=min(a, b),
            late_after_seconds=late, left_early_seconds=early, claims=claims),
        st.sampled_from([0, 1, 30, 60, 600]), st.integers(0, 100), st.integers(0, 100),
        st.sampled_from([0, 60, 300, 900]), st.sampled_from([0, 60, 300, 900]),
        st.sampled_from([(), ("courseid",), ("groupid", "courseid"), ("courseid", "groupid")]))


def rules_order(event):
    return rules.to_ms(event["time"]), rules.TYPE_RANK[event["type"]], event["id"]


@PROPERTY_SETTINGS
@given(lessons(), st.booleans(), st.booleans(), st.randoms(use_true_random=False), any_settings(),
       st.integers(min_value=0, max_value=5))
def test_a_reading_resumed_batch_by_batch_gives_the_result_of_one_reading(lesson, running, in_order, rng,
                                                                         settings_, retries):
    """What the receiver does for a lesson in progress: each delivery is added to the reading
    kept so far, or, when it cannot be (an event sorting before the last one read), everything is
    read again. Classified under any settings, the result must be compute()'s at every step."""
    events = lesson[0]
    if running:
        events = [e for e in events if e["type"] != "room.destroyed"]
    delivered = events + [rng.choice(events) for _ in range(retries if events else 0)]
    if in_order:
        delivered.sort(key=rules_order)
    else:
        rng.shuffle(delivered)
    reading, so_far, batches, resumed = rules.PresenceBuilder(), [], 0, 0
    now_ms = rules.to_ms(NOW)
    while delivered:
        size = rng.randint(1, 6)
        batch, delivered = delivered[:size], delivered[size:]
        so_far += batch
        batches += 1
        if reading.add(batch):
            resumed += 1
        else:
            reading = rules.PresenceBuilder()
            assert reading.add(so_far)
        assert [rules.classify(p, settings_, now_ms) for p in reading.presences()] == \
            compute(so_far, settings_, now=NOW)
    if in_order:
        assert resumed == batches  # deliveries in the rules' order never need a new builder
interval_lists = st.lists(st.tuples(st.integers(-1000, 1000), st.integers(0, 500)).map(lambda t: (t[0], t[0] + t[1])),
                          max_size=30)


@given(interval_lists, st.integers(min_value=0, max_value=100))
def test_merging_is_idempotent_and_keeps_every_moment(intervals, grace):
    merged = rules.merge_intervals(intervals, grace)
    assert rules.merge_intervals(merged, grace) == merged
    assert rules.merge_intervals(list(reversed(intervals)), grace) == merged
    for start, end in intervals:
        assert any(a <= start and end <= b for a, b in merged)
    for (_a, b), (c, _d) in itertools.pairwise(merged):
        assert c - b >= grace and c > b
    if grace == 0:
        assert sum(b - a for a, b in merged) == union_seconds(intervals)


@given(st.integers(min_value=0, max_value=10**7), st.integers(min_value=1, max_value=10**7))
def test_percent_is_within_bounds(part, whole):
    percent = rules.percent_of(min(part, whole), whole)
    assert 0.0 <= percent <= 100.0
    assert abs(percent - 100 * min(part, whole) / whole) <= 0.05 + 1e-9


def test_random_delivery_of_a_big_class_is_stable():
    """A bigger example than hypothesis draws: 40 people, 600 connections, five delivery orders."""
    rng = random.Random(7)
    lesson = Lesson()
    lesson.add("room.created", 0, room=ROOM)
    for connection in range(600):
        person = connection % 40
        start = rng.randrange(0, 3000)
        occupant = {"occupant_jid": f"{ROOM['jid']}/c{connection}", "user_jid": f"c{connection}@meet.jitsi/x",
                    "bare_jid": f"c{connection}@meet.jitsi"}
        identity = {"user_id": f"u-{person}"}
        lesson.add("occupant.joined", start, room=ROOM, occupant=occupant, identity=identity)
        lesson.add("occupant.left", start + rng.randrange(0, 600), room=ROOM, occupant=occupant, identity=identity)
    lesson.add("room.destroyed", 3600, room=ROOM)
    reference = compute(lesson.events)
    assert len(reference[0].participants) == 40
    for _ in range(5):
        delivered = list(lesson.events)
        rng.shuffle(delivered)
        assert compute(delivered) == reference
