"""The incremental meetings index agrees with one run of the rules over every event (hypothesis).

Random classroom histories (two rooms, reconnects, renames, a server restart, a lesson still
running) are delivered in random order, or in time order as plugins deliver them (so the index
adds them to the reading it keeps of a running lesson), and in random batch sizes with reads in
between, so the index is refreshed from partial data and in small windows; at the end every
meeting the API reports must be the one the rules compute from all events at once, under the
index's settings and under any others (reports classify the kept presences again).
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import random
import tempfile
import uuid
from pathlib import Path

from hypothesis import HealthCheck, Phase, given, settings, strategies as st

from attendance_logger import create_app, reports, rules
from logger_helpers import ADMIN_PASSWORD, WEBHOOK_SECRET, Sender, basic_auth
from test_rules_properties import any_settings, rules_order
from tests.support import vectors

BASE = dt.datetime.now(dt.timezone.utc).replace(microsecond=0) - dt.timedelta(days=2)
PEOPLE = ["u1", "u2", "u3"]


def history(seed: int, restart: bool) -> list[dict]:
    """Plausible server output: per room lessons of joins/leaves/renames, maybe a crash."""
    rng = random.Random(seed)
    out: list[dict] = []
    instance = {"n": 1}

    def emit(type_, at, room=None, conn=None, person=None, nick=None, previous=None):
        event = {"id": str(uuid.UUID(int=rng.getrandbits(128), version=4)), "type": type_,
                 "time": vectors.format_time(BASE + dt.timedelta(seconds=at)),
                 "source": {"server": "prosody", "host": "muc.meet.jitsi", "instance": f"inst-{seed}-{instance['n']}"}}
        if room:
            event["room"] = {"jid": f"{room}@muc.meet.jitsi", "name": room}
        if conn:
            event["occupant"] = {"occupant_jid": f"{room}@muc.meet.jitsi/{conn}", "user_jid": f"{conn}@meet.jitsi/w",
                                 "bare_jid": f"{conn}@meet.jitsi", "nick": nick or person}
            if previous:
                event["occupant"]["previous_nick"] = previous
            event["identity"] = {"user_id": person, "name": person.upper(), "claims": {"courseid": "C1"}}
        out.append(event)

    emit("source.started", 0)
    crash_at = rng.randint(2000, 6000) if restart else None
    for room in ("maths", "physics"):
        at = rng.randint(0, 300)
        for _lesson in range(rng.randint(1, 3)):
            if crash_at is not None and at >= crash_at:
                break  # the server is dead by then
            emit("room.created", at, room)
            inside: dict[str, str] = {}
            end = at + rng.randint(600, 2400)
            t = at
            while True:
                t += rng.randint(1, 240)
                if t >= end:
                    break
                if crash_at is not None and instance["n"] == 1 and t >= crash_at:
                    break
                person = rng.choice(PEOPLE)
                conn = next((c for c, p in inside.items() if p == person), None)
                if conn and rng.random() < 0.2:
                    emit("occupant.renamed", t, room, conn, person, nick=person + "!", previous=person)
                elif conn:
                    emit("occupant.left", t, room, conn, person)
                    del inside[conn]
                else:
                    conn = uuid.UUID(int=rng.getrandbits(128)).hex[:8]
                    inside[conn] = person
                    emit("occupant.joined", t, room, conn, person)
            if crash_at is not None and instance["n"] == 1 and crash_at <= t < end:
                break  # the server died with this lesson open
            for conn, person in list(inside.items()):
                emit("occupant.left", end, room, conn, person)
            emit("room.destroyed", end, room)
            at = end + rng.randint(60, 3600)
    if crash_at is not None:
        instance["n"] = 2
        emit("source.started", 8000)
        emit("room.created", 8100, "maths")
        emit("occupant.joined", 8200, "maths", "after01", "u1")
        emit("occupant.left", 8800, "maths", "after01", "u1")
        emit("room.destroyed", 9000, "maths")
    return out


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow],
          phases=[Phase.explicit, Phase.reuse, Phase.generate])  # shrinking replays take minutes
@given(seed=st.integers(0, 10_000), restart=st.booleans(), delivery=st.randoms(use_true_random=False),
       window=st.sampled_from([2, 5, 50, 10_000]), running=st.booleans(), in_order=st.booleans(),
       other_settings=any_settings())
def test_incremental_index_matches_one_run_of_the_rules(seed, restart, delivery, window, running, in_order,
                                                  other_settings):
    events = history(seed, restart)
    if running:  # the maths room's last lesson is still going on
        destroyed = [e for e in events if e["type"] == "room.destroyed" and e["room"]["name"] == "maths"]
        events.remove(destroyed[-1])
    moment = BASE + dt.timedelta(days=1)  # "now" for running meetings, after every event
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'a.db'}"
        app = create_app({"DATABASE_URL": url, "WEBHOOK_SECRET": WEBHOOK_SECRET,
                          "ADMIN_PASSWORD": ADMIN_PASSWORD, "REFRESH_INTERVAL_SECONDS": 0})
        app.extensions["attendance"].index.window_events = window
        client, auth = app.test_client(), basic_auth()
        sender = Sender(client)
        pending = list(events)
        if in_order:
            pending.sort(key=rules_order)
        else:
            delivery.shuffle(pending)
        while pending:
            size = delivery.randint(1, 12)
            batch, pending = pending[:size], pending[size:]
            assert sender.post({"events": batch}).status_code == 200
            if delivery.random() < 0.5:
                client.get("/v1/meetings", headers=auth)
        listed = client.get("/v1/meetings", headers=auth).get_json()["meetings"]
        expected = rules.compute(events, app.extensions["attendance"].settings)
        assert sorted((m["room"], m["started_at"], m["ended_at"], m["closed_by"]) for m in listed) == sorted(
            (m.room_name, rules.format_time(m.started_at), m.ended_at and rules.format_time(m.ended_at), m.closed_by)
            for m in expected)
        by_key = {m.key: m for m in expected}
        for summary in listed:
            got = client.get(f"/v1/meetings/{summary['id']}/attendance", headers=auth).get_json()
            want = reports.meeting_json(by_key[summary["id"]])
            if not want["running"]:  # a running one is computed up to "now", which moves between calls
                assert got == want
        assert_reports_equal_the_rules(app, events, listed, moment)
        # An operator changes the settings and restarts: every report follows them.
        changed = create_app({"DATABASE_URL": url, "WEBHOOK_SECRET": WEBHOOK_SECRET, "ADMIN_PASSWORD": ADMIN_PASSWORD,
                              "REFRESH_INTERVAL_SECONDS": 0, "SETTINGS": dataclasses.asdict(other_settings)})
        for _ in range(2):  # classified from the kept presences, then read back as kept
            assert_reports_equal_the_rules(changed, events, listed, moment)


def assert_reports_equal_the_rules(app, events, listed, moment):
    attendance = app.extensions["attendance"]
    expected = {m.key: reports.meeting_json(m) for m in rules.compute(events, attendance.settings, now=moment)}
    for summary in listed:
        assert reports.meeting_json(attendance.meeting(summary["id"], now=moment)) == expected[summary["id"]]
