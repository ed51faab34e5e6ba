"""Finished meetings are computed once and kept as JSON: the kept result must be the computed one."""
from __future__ import annotations

import datetime as dt

import pytest

from attendance_logger import create_app, reports, rules
from attendance_logger.attendance import meeting_from_json
from logger_helpers import ADMIN_PASSWORD, WEBHOOK_SECRET, Sender, basic_auth
from tests.support import vectors

BASE = dt.datetime(2025, 11, 22, 8, 0, tzinfo=dt.timezone.utc)


@pytest.mark.parametrize("vector", vectors.all_vectors(), ids=lambda v: v.name)
def test_json_round_trip_gives_the_same_report(vector):
    for meeting in rules.compute(vector.materialize(BASE), rules.Settings.from_mapping(vector.settings)):
        once = reports.meeting_json(meeting)
        back = meeting_from_json(once)
        assert reports.meeting_json(back) == once
        assert "".join(reports.meeting_csv(back)) == "".join(reports.meeting_csv(meeting))


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_results_kept_under_other_settings_are_recomputed(database_url):
    """A school changes its thresholds and restarts: reports follow the new settings at once."""
    def app_with(**settings):
        return create_app({"DATABASE_URL": database_url, "WEBHOOK_SECRET": WEBHOOK_SECRET,
                           "ADMIN_PASSWORD": ADMIN_PASSWORD, "SETTINGS": settings,
                           "REFRESH_INTERVAL_SECONDS": 0})

    vector = vectors.load(vectors.VECTORS_DIR / "14-statuses.json")
    default = app_with().test_client()
    Sender(default).post_all(vector.materialize(dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=1)))
    meeting_id = default.get("/v1/meetings", headers=basic_auth()).get_json()["meetings"][0]["id"]

    def statuses(client):
        answer = client.get(f"/v1/meetings/{meeting_id}/attendance", headers=basic_auth()).get_json()
        return sorted(p["status"] for p in answer["participants"])

    assert statuses(default) == ["absent", "partial", "present", "present"]
    strict_app = app_with(present_min_percent=100, partial_min_percent=60)
    strict = strict_app.test_client()
    assert statuses(strict) == ["absent", "absent", "present", "present"]
    # Recomputed once, then kept under the new settings.
    row = strict_app.extensions["storage"].get_meeting(meeting_id)
    assert row.result_settings == strict_app.extensions["attendance"].fingerprint
    assert statuses(strict) == ["absent", "absent", "present", "present"]


def test_stored_events_parse_to_the_same_attendance_with_shared_objects():
    """The store shares equal sub-objects between parsed events to save memory; the rules must
    compute exactly what it computes from independent copies."""
    import json

    from attendance_logger.storage import load_shared

    for vector in vectors.all_vectors():
        events = vector.materialize(BASE)
        shared = load_shared(json.dumps(e) for e in events)
        assert shared == events
        settings = rules.Settings.from_mapping(vector.settings)
        assert rules.compute(shared, settings, now=BASE) == rules.compute(events, settings, now=BASE)


# -- kept presences ------------------------------------------------------------------------------
# A meeting's presence (rules.Presence) is kept as JSON; reports classify it under the current
# settings. Whatever was kept must classify exactly as the rules compute from the events.
from hypothesis import HealthCheck, given, settings as hypothesis_settings, strategies as st  # noqa: E402
from sqlalchemy import delete, select, update  # noqa: E402

from attendance_logger.attendance import presence_from_json, presence_json  # noqa: E402
from attendance_logger.meetings_index import read_meetings  # noqa: E402
from attendance_logger.tables import events as events_table, meetings as meetings_table, rooms as rooms_table  # noqa: E402
from test_rules_properties import NOW, any_settings, rules_order, lessons  # noqa: E402


@hypothesis_settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lessons(), st.booleans(), any_settings())
def test_a_kept_presence_classifies_as_the_rules_compute(lesson, running, settings_):
    events = lesson[0]
    if running:
        events = [e for e in events if e["type"] != "room.destroyed"]
    _reading, presences = read_meetings(events, {})
    kept = [presence_from_json(presence_json(p)) for p in presences]
    assert kept == presences
    now_ms = rules.to_ms(NOW)
    assert [rules.classify(p, settings_, now_ms) for p in kept] == rules.compute(events, settings_, now=NOW)


@pytest.mark.parametrize("vector", vectors.all_vectors(), ids=lambda v: v.name)
def test_every_vector_keeps_its_presence_exactly(vector):
    events = vector.materialize(BASE)
    settings_ = rules.Settings.from_mapping(vector.settings)
    _reading, presences = read_meetings(events, {})
    kept = [presence_from_json(presence_json(p)) for p in presences]
    assert kept == presences
    assert [rules.classify(p, settings_, rules.to_ms(BASE)) for p in kept] == \
        rules.compute(events, settings_, now=BASE)


def test_a_claim_beyond_64_bits_is_kept_exactly():
    person = rules.PersonPresence(key="user:u1", name="Ada", names=["Ada"], email=None, user_id="u1",
                                   claims={"courseid": 123456789012345678901234567890, "groupid": 0.1},
                                   moderator=False, sessions=[(1000, 5000), (6000, None)])
    presence = rules.Presence(key="k", room_jid="r@muc", room_name="r", meeting_id=None, instance="i",
                               start=1000, end=None, closed_by=None, people=[person])
    assert presence_from_json(presence_json(presence)) == presence


def test_a_presence_kept_in_another_format_is_not_used():
    assert presence_from_json('{"format": 0, "people": []}') is None


def app_on(database_url, **settings_):
    return create_app({"DATABASE_URL": database_url, "WEBHOOK_SECRET": WEBHOOK_SECRET,
                       "ADMIN_PASSWORD": ADMIN_PASSWORD, "SETTINGS": settings_,
                       "REFRESH_INTERVAL_SECONDS": 0})


def delete_events(app) -> None:
    with app.extensions["storage"].write() as conn:
        conn.execute(delete(events_table))


def test_changed_settings_reclassify_kept_presences_without_the_events(database_url):
    """A school changes its thresholds and its reconnect grace: reports follow at once, from what
    was kept (the events are deleted here to prove it) and equal to a run of the rules."""
    vector = vectors.load(vectors.VECTORS_DIR / "14-statuses.json")
    events = vector.materialize(dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=1))
    default = app_on(database_url)
    Sender(default.test_client()).post_all(events)
    meeting_id = default.test_client().get("/v1/meetings", headers=basic_auth()).get_json()["meetings"][0]["id"]
    delete_events(default)
    for changed in ({"present_min_percent": 100, "partial_min_percent": 60}, {"reconnect_grace_seconds": 0},
                    {"reconnect_grace_seconds": 3600, "late_after_seconds": 0, "claims": "groupid"}):
        app = app_on(database_url, **changed)
        want = reports.meeting_json(rules.compute(events, app.extensions["attendance"].settings)[0])
        for _ in range(2):  # classified from the presence, then the kept result
            got = app.test_client().get(f"/v1/meetings/{meeting_id}/attendance", headers=basic_auth()).get_json()
            assert got == want


def test_meetings_indexed_before_presences_were_kept_are_computed_once_from_events(database_url):
    vector = vectors.load(vectors.VECTORS_DIR / "01-basic-lesson.json")
    events = vector.materialize(dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=1))
    app = app_on(database_url)
    client = app.test_client()
    Sender(client).post_all(events)
    meeting_id = client.get("/v1/meetings", headers=basic_auth()).get_json()["meetings"][0]["id"]
    storage = app.extensions["storage"]
    with storage.write() as conn:  # as an index built before migration 0002 left it
        conn.execute(update(meetings_table).values(presence=None, result_settings=None))
    want = reports.meeting_json(rules.compute(events, app.extensions["attendance"].settings)[0])
    assert client.get(f"/v1/meetings/{meeting_id}/attendance", headers=basic_auth()).get_json() == want
    assert presence_from_json(storage.get_meeting(meeting_id).presence) is not None
    delete_events(app)
    strict = app_on(database_url, present_min_percent=100).test_client()
    got = strict.get(f"/v1/meetings/{meeting_id}/attendance", headers=basic_auth()).get_json()
    assert got == reports.meeting_json(rules.compute(events, rules.Settings(present_min_percent=100))[0])


def test_a_result_is_not_kept_over_a_presence_a_refresh_replaced(database_url):
    vector = vectors.load(vectors.VECTORS_DIR / "01-basic-lesson.json")
    app = app_on(database_url)
    client = app.test_client()
    Sender(client).post_all(vector.materialize(dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=1)))
    meeting_id = client.get("/v1/meetings", headers=basic_auth()).get_json()["meetings"][0]["id"]
    storage = app.extensions["storage"]
    before = storage.get_meeting(meeting_id)
    assert not storage.keep_result(meeting_id, based_on=before.presence + " ", result="{}", result_settings="x",
                                   presence=before.presence)
    assert not storage.keep_result(meeting_id, based_on=None, result="{}", result_settings="x",
                                   presence=before.presence)
    assert storage.get_meeting(meeting_id) == before


def test_a_running_lesson_is_refreshed_from_its_new_events_only(database_url, monkeypatch):
    """Each read after new events of a lesson in progress adds them to the reading kept in
    memory; the report equals the rules' run over all events at the same moment."""
    vector = vectors.load(vectors.VECTORS_DIR / "01-basic-lesson.json")
    start = dt.datetime.now(dt.timezone.utc).replace(microsecond=0) - dt.timedelta(hours=1)
    events = sorted((e for e in vector.materialize(start) if e["type"] != "room.destroyed"), key=rules_order)
    app = app_on(database_url)
    client, sender = app.test_client(), Sender(app.test_client())
    attendance, storage = app.extensions["attendance"], app.extensions["storage"]
    full_reads = []
    read_all = storage.events_between
    monkeypatch.setattr(storage, "events_between", lambda *a: full_reads.append(a) or read_all(*a))
    moment = start + dt.timedelta(hours=1)
    delivered = []
    for event in events:
        sender.post(event)
        delivered.append(event)
        listed = client.get("/v1/meetings", headers=basic_auth()).get_json()["meetings"]
        if not listed:
            continue  # the lesson's room.created names no one yet
        want = rules.compute(delivered, attendance.settings, now=moment)
        got = attendance.meeting(listed[0]["id"], now=moment)
        assert reports.meeting_json(got) == reports.meeting_json(want[0])
    assert len(full_reads) == 1  # the first refresh; every later one read only the new events


def test_an_index_of_revision_0001_is_upgraded(tmp_path):
    from alembic import command
    from alembic.config import Config
    from importlib import resources
    from sqlalchemy import inspect

    from attendance_logger.storage import Storage

    storage = Storage(f"sqlite:///{tmp_path / 'old.db'}")
    config = Config()
    config.set_main_option("script_location", str(resources.files("attendance_logger").joinpath("migrations")))
    with storage.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0001")
        assert "presence" not in {c["name"] for c in inspect(conn).get_columns("meetings")}
    storage.upgrade()
    with storage.read() as conn:
        assert "presence" in {c["name"] for c in inspect(conn).get_columns("meetings")}


def test_upgrading_to_kept_presences_has_the_refresher_keep_every_meetings_presence(database_url):
    """Meetings indexed under revision 0001 get their presence from the background refresh, not
    from the first report that needs it (a course export would compute them all)."""
    from alembic import command
    from alembic.config import Config
    from importlib import resources

    vector = vectors.load(vectors.VECTORS_DIR / "15-two-rooms.json")
    app = app_on(database_url)
    Sender(app.test_client()).post_all(vector.materialize(dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=1)))
    attendance, storage = app.extensions["attendance"], app.extensions["storage"]
    attendance.refresh()
    config = Config()
    config.set_main_option("script_location", str(resources.files("attendance_logger").joinpath("migrations")))
    config.set_main_option("sqlalchemy.url", storage.url.replace("%", "%%"))
    with storage.engine.begin() as conn:  # the index as revision 0001 left it: clean, no presences
        config.attributes["connection"] = conn
        command.downgrade(config, "0001")
    storage.close()
    storage.upgrade()
    with storage.read() as conn:
        assert all(row.dirty_from_ms is not None for row in conn.execute(select(rooms_table)))
        assert all(row.presence is None for row in conn.execute(select(meetings_table)))
    attendance.refresh()
    with storage.read() as conn:
        kept = [presence_from_json(row.presence) for row in conn.execute(select(meetings_table))]
    assert len(kept) == 2 and all(p is not None for p in kept)


def test_live_readings_keep_one_per_room_and_the_most_recently_used():
    from attendance_logger.meetings_index import KeptBuilders

    live = KeptBuilders(size=2)
    first, second, third, fourth = (rules.PresenceBuilder() for _ in range(4))
    live.keep("a", 0, first)
    live.keep("a", 10, second)  # the room's window moved: the older reading is no use
    live.keep("b", 0, third)
    assert live.take("a", 0) is None
    assert live.take("a", 10) is second and live.take("a", 10) is None  # taken out while in use
    live.keep("a", 10, second)
    live.keep("c", 0, fourth)  # over size: "b", used least recently, goes
    assert live.take("b", 0) is None
    assert live.take("a", 10) is second and live.take("c", 0) is fourth
