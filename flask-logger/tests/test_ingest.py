"""POST /v1/events on real SQLite and real PostgreSQL: accepted, idempotent, durable."""
from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest
from sqlalchemy import func, select

from attendance_logger import ingest
from attendance_logger.tables import events, instances
from logger_helpers import allow_inserts, refuse_inserts
from tests.support import contract, vectors


def stored_count(app) -> int:
    with app.extensions["storage"].read() as conn:
        return conn.execute(select(func.count()).select_from(events)).scalar()


def test_signing_example_is_accepted(app, client):
    """The byte-for-byte worked example of schema/README.md passes our verification."""
    example = contract.signing_example()
    app.config["WEBHOOK_SECRET"] = example["secret"]
    from attendance_logger.config import decode_webhook_secret

    app.extensions["webhook_key"] = decode_webhook_secret(example["secret"])
    app.config["CLOCK"] = lambda: int(example["webhook_timestamp"]) + 30
    response = client.post("/v1/events", data=example["body"].encode(), headers={
        "Content-Type": "application/json", "webhook-id": example["webhook_id"],
        "webhook-timestamp": example["webhook_timestamp"], "webhook-signature": example["webhook_signature"]})
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {"accepted": 1, "duplicates": 0}
    with app.extensions["storage"].read() as conn:
        body = conn.execute(select(events.c.body)).scalar()
    assert json.loads(body) == json.loads(example["body"])  # stored verbatim, emoji included


@pytest.mark.parametrize("extra", [{"ratio": 0.1, "text": "é \u2028 \x01 \U0001f600 \"q\" \\"},
                                   {"big": 2 ** 63 - 1, "small": -2 ** 63}], ids=["text", "64-bit-integers"])
def test_event_body_is_stored_as_python_json_writes_it(app, sender, extra):
    """Stored as compact UTF-8 JSON, every character and integer as sent."""
    event = dict(contract.invalid_events()["valid_base"], id=str(uuid.uuid4()), **extra)
    assert sender.post(event).status_code == 200
    with app.extensions["storage"].read() as conn:
        body = conn.execute(select(events.c.body)).scalar()
    assert body == json.dumps(event, ensure_ascii=False, separators=(",", ":"))


def test_single_event_and_batch_are_stored_once(app, sender):
    vector = vectors.load(vectors.VECTORS_DIR / "01-basic-lesson.json")
    batch = vector.materialize(dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=1))
    first = sender.post(batch[0])
    assert first.status_code == 200 and first.get_json() == {"accepted": 1, "duplicates": 0}
    again = sender.post({"events": batch})
    assert again.get_json() == {"accepted": len(batch) - 1, "duplicates": 1}
    retry = sender.post({"events": batch})  # a plugin retry: same event ids, new webhook-id
    assert retry.status_code == 200 and retry.get_json() == {"accepted": 0, "duplicates": len(batch)}
    assert stored_count(app) == len(batch)


def test_replayed_request_is_refused_and_stores_nothing(app, client, sign):
    vector = vectors.load(vectors.VECTORS_DIR / "01-basic-lesson.json")
    body = json.dumps({"events": vector.materialize(dt.datetime.now(dt.timezone.utc))[:2]})
    headers = sign(body)
    assert client.post("/v1/events", data=body, headers=headers).status_code == 200
    replay = client.post("/v1/events", data=body, headers=headers)
    assert replay.status_code == 401
    assert replay.get_json()["error"] == "replayed"
    assert stored_count(app) == 2


def test_retry_with_lost_answer_is_answered_as_duplicates(app, client, sign):
    """A sender keeps the webhook-id on a retry but re-signs it with a fresh timestamp
    (schema/README.md): the receiver stored the first attempt, the sender never heard."""
    vector = vectors.load(vectors.VECTORS_DIR / "01-basic-lesson.json")
    body = json.dumps({"events": vector.materialize(dt.datetime.now(dt.timezone.utc))[:2]})
    first = sign(body, timestamp=dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=30))
    assert client.post("/v1/events", data=body, headers=first).status_code == 200
    retry = sign(body, webhook_id=first["webhook-id"])
    answer = client.post("/v1/events", data=body, headers=retry)
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json() == {"accepted": 0, "duplicates": 2}
    assert stored_count(app) == 2


def test_instances_track_server_restarts(app, sender):
    """A second source.instance on the same server marks the first superseded at ingest."""
    vector = vectors.load(vectors.VECTORS_DIR / "08-server-crash.json")
    sender.post_all(vector.materialize(dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=1)))
    with app.extensions["storage"].read() as conn:
        rows = {r.instance: r for r in conn.execute(select(instances))}
    assert rows["08-server-crash-i1"].superseded is True
    assert rows["08-server-crash-i2"].superseded is False


def test_a_restart_closes_meetings_already_shown_as_running(app, client, sender, auth):
    """The index already holds a running meeting when the server's restart becomes known; a late
    event from the dead process then moves the close to that event."""
    vector = vectors.load(vectors.VECTORS_DIR / "08-server-crash.json")
    base = dt.datetime.now(dt.timezone.utc).replace(microsecond=0) - dt.timedelta(hours=1)
    events = vector.materialize(base)
    first_life = [e for e in events if e["source"]["instance"].endswith("-i1")]
    sender.post_all(first_life)
    running, = client.get("/v1/meetings", headers=auth).get_json()["meetings"]
    assert running["ended_at"] is None

    sender.post_all([e for e in events if e not in first_life])
    meetings = sorted(client.get("/v1/meetings", headers=auth).get_json()["meetings"], key=lambda m: m["started_at"])
    assert [(m["closed_by"], m["ended_at"]) for m in meetings] == [
        ("source.started", vectors.format_time(base + dt.timedelta(seconds=600))),
        ("room.destroyed", vectors.format_time(base + dt.timedelta(seconds=1800)))]

    late = dict(first_life[-1], id=str(uuid.uuid4()), type="occupant.renamed",
                time=vectors.format_time(base + dt.timedelta(seconds=700)))
    late["occupant"] = dict(late["occupant"], nick="Alice M.", previous_nick="Alice Martin")
    assert sender.post(late).status_code == 200
    first = sorted(client.get("/v1/meetings", headers=auth).get_json()["meetings"], key=lambda m: m["started_at"])[0]
    assert first["ended_at"] == vectors.format_time(base + dt.timedelta(seconds=700))


def test_events_arriving_during_a_refresh_are_not_lost(app, sender, auth, client):
    """The refresh computes without the write lock; an ingest in the middle of it must win."""
    vector = vectors.load(vectors.VECTORS_DIR / "01-basic-lesson.json")
    base = dt.datetime.now(dt.timezone.utc).replace(microsecond=0) - dt.timedelta(hours=2)
    events = vector.materialize(base)
    destroyed = events[-1]
    assert destroyed["type"] == "room.destroyed"
    sender.post_all(events[:-1])
    attendance = app.extensions["attendance"]
    storage = app.extensions["storage"]
    calls = []

    def compute_while_the_meeting_ends(room_events, instances):
        calls.append(len(room_events))
        if len(calls) == 1:  # the plugin delivers the destroy while the first computation runs
            ingest.store(storage, [destroyed], str(uuid.uuid4()))
        return attendance._compute(room_events, instances)

    attendance.index.refresh(compute_while_the_meeting_ends, attendance._summarize)
    in_room = sum("room" in e for e in events)
    assert calls == [in_room - 1, in_room]  # first result discarded, recomputed with the destroy
    meeting, = client.get("/v1/meetings", headers=auth).get_json()["meetings"]
    assert meeting["ended_at"] == destroyed["time"] and meeting["closed_by"] == "room.destroyed"


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
@pytest.mark.parametrize("mode,level", [("FULL", 2), ("NORMAL", 1)])
def test_sqlite_runs_in_wal_mode_with_the_chosen_durability(database_url, mode, level):
    from attendance_logger import create_app
    from logger_helpers import ADMIN_PASSWORD, WEBHOOK_SECRET

    app = create_app({"DATABASE_URL": database_url, "WEBHOOK_SECRET": WEBHOOK_SECRET, "ADMIN_PASSWORD": ADMIN_PASSWORD,
                      "SQLITE_SYNCHRONOUS": mode, "REFRESH_INTERVAL_SECONDS": 0})
    with app.extensions["storage"].read() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == level


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_an_unsafe_sqlite_mode_is_refused(database_url):
    from attendance_logger import create_app
    from attendance_logger.config import ConfigError
    from logger_helpers import WEBHOOK_SECRET

    with pytest.raises(ConfigError, match="must be FULL or NORMAL"):
        create_app({"DATABASE_URL": database_url, "WEBHOOK_SECRET": WEBHOOK_SECRET, "SQLITE_SYNCHRONOUS": "OFF"})


def test_background_refresh_leaves_a_lesson_in_progress_alone(app, sender):
    """Recomputing a running lesson after every event would burn the CPU ingest needs."""
    vector = vectors.load(vectors.VECTORS_DIR / "01-basic-lesson.json")
    sender.post_all(vector.materialize(dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=1))[:4])
    attendance, storage = app.extensions["attendance"], app.extensions["storage"]
    attendance.refresh(budget_seconds=None, quiet_seconds=60)
    assert storage.list_meetings() == []  # just touched: still dirty, not indexed
    attendance.refresh(budget_seconds=None, quiet_seconds=0)
    assert len(storage.list_meetings()) == 1


@pytest.mark.slow
def test_ingest_answers_503_when_the_database_is_gone(postgres, tmp_path):
    """A plugin must hear "later" (and retry) when the database is down, not a crash page."""
    from attendance_logger import create_app
    from logger_helpers import ADMIN_PASSWORD, WEBHOOK_SECRET, Sender, basic_auth

    url = postgres.new_database()
    app = create_app({"DATABASE_URL": url, "WEBHOOK_SECRET": WEBHOOK_SECRET, "ADMIN_PASSWORD": ADMIN_PASSWORD,
                      "REFRESH_INTERVAL_SECONDS": 0})
    name = url.rsplit("/", 1)[1]
    app.extensions["storage"].close()
    postgres.sql(f"DROP DATABASE {name} WITH (FORCE)")
    event = vectors.load(vectors.VECTORS_DIR / "01-basic-lesson.json").materialize(dt.datetime.now(dt.timezone.utc))[0]
    response = Sender(app.test_client()).post(event)
    assert response.status_code == 503
    assert response.get_json()["error"] == "database_unavailable"
    read = app.test_client().get("/v1/meetings", headers=basic_auth())
    assert read.status_code == 503 and read.get_json()["error"] == "database_unavailable"


def test_a_database_error_while_storing_answers_503_and_stores_nothing(app, sender):
    """The sender hears "later", and the transaction (replay key included) is rolled back."""
    storage = app.extensions["storage"]
    refuse_inserts(storage, "events")
    event = dict(contract.invalid_events()["valid_base"], id=str(uuid.uuid4()))
    response = sender.post(event)
    assert response.status_code == 503 and response.get_json()["error"] == "database_unavailable"
    allow_inserts(storage, "events")
    assert stored_count(app) == 0
    assert sender.post(event).get_json() == {"accepted": 1, "duplicates": 0}  # nothing was kept


def test_escaped_emoji_surrogate_pair_is_accepted(app, client, sign):
    """A surrogate pair escaped the way ASCII-only JSON writers send emoji is a real character."""
    event = vectors.load(vectors.VECTORS_DIR / "11-unicode-names.json").materialize(dt.datetime.now(dt.timezone.utc))[4]
    body = json.dumps(event, ensure_ascii=True)
    assert "\\ud83c\\udf93" in body
    answer = client.post("/v1/events", data=body, headers=sign(body))
    assert answer.status_code == 200, answer.get_json()
    assert stored_count(app) == 1


def test_a_large_batch_counts_stored_and_new_events_exactly(app):
    """One multi-row insert tells, by what it returns, which of 500 events were new."""
    storage = app.extensions["storage"]
    make = lambda: dict(contract.invalid_events()["valid_base"], id=str(uuid.uuid4()))  # noqa: E731
    stored_before = [make() for _ in range(10)]
    assert ingest.store(storage, stored_before, "hook-before") == (10, 0)
    batch = [make() for _ in range(240)] + stored_before[:5] + [make() for _ in range(250)] + stored_before[5:]
    assert ingest.store(storage, batch, "hook-1") == (490, 10)
    assert stored_count(app) == 500


def test_webhook_ids_older_than_the_replay_window_are_pruned_beside_deliveries(app, sender, monkeypatch):
    """The replay table keeps only the window in which a replay could pass the timestamp check."""
    import threading as threading_module

    from attendance_logger.tables import webhook_ids

    storage = app.extensions["storage"]
    with storage.write() as conn:
        conn.execute(webhook_ids.insert(), [{"id": "old.1", "accepted_ms": 0}])
    monkeypatch.setattr(ingest, "_last_replay_cleanup", [-1e9])  # due now
    event = dict(contract.invalid_events()["valid_base"], id=str(uuid.uuid4()))
    assert sender.post(event).status_code == 200
    for thread in [t for t in threading_module.enumerate() if t.name == "attendance-prune"]:
        thread.join(timeout=10)
    with storage.read() as conn:
        assert conn.execute(select(func.count()).select_from(webhook_ids)).scalar() == 1  # the new one
        assert "old.1" not in {row.id for row in conn.execute(select(webhook_ids.c.id))}
