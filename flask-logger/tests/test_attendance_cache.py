"""Finished meetings are computed once and kept as JSON: the kept result must be the computed one."""
from __future__ import annotations

import datetime as dt

import pytest

from attendance_logger import create_app, engine, reports
from attendance_logger.attendance import meeting_from_json
from logger_helpers import ADMIN_PASSWORD, WEBHOOK_SECRET, Sender, basic_auth
from tests.support import vectors

BASE = dt.datetime(2025, 11, 22, 8, 0, tzinfo=dt.timezone.utc)


@pytest.mark.parametrize("vector", vectors.all_vectors(), ids=lambda v: v.name)
def test_json_round_trip_gives_the_same_report(vector):
    for meeting in engine.compute(vector.materialize(BASE), engine.Settings.from_mapping(vector.settings)):
        once = reports.meeting_json(meeting)
        back = meeting_from_json(once)
        assert reports.meeting_json(back) == once
        assert "".join(reports.meeting_csv(back)) == "".join(reports.meeting_csv(meeting))


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_results_kept_under_other_settings_are_recomputed(database_url):
    """A school changes its thresholds and restarts: reports follow the new settings at once."""
    def app_with(**settings):
        return create_app({"DATABASE_URL": database_url, "WEBHOOK_SECRET": WEBHOOK_SECRET,
                           "ADMIN_PASSWORD": ADMIN_PASSWORD, "ENGINE_SETTINGS": settings,
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
    """The store shares equal sub-objects between parsed events to save memory; the engine must
    compute exactly what it computes from independent copies."""
    import json

    from attendance_logger.storage import load_shared

    for vector in vectors.all_vectors():
        events = vector.materialize(BASE)
        shared = load_shared(json.dumps(e) for e in events)
        assert shared == events
        settings = engine.Settings.from_mapping(vector.settings)
        assert engine.compute(shared, settings, now=BASE) == engine.compute(events, settings, now=BASE)
