"""Migration 0003 on a database that revision 0002 filled, as an installed receiver's is."""
from __future__ import annotations

from importlib import resources

from alembic import command
from alembic.config import Config
from sqlalchemy import inspect, text

from attendance_logger.storage import Storage

UPPER = "0B9F6D0E-3C1E-4F7A-9A52-2D6F1F0F5B11"
ULID = "01JD3N5Z8Q4W0X9F6G7H8J9K0M"


def upgrade_to(storage: Storage, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(resources.files("attendance_logger").joinpath("migrations")))
    with storage.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, revision)


def test_0003_keeps_the_data_and_fixes_what_0002_left(database_url):
    storage = Storage(database_url)
    upgrade_to(storage, "0002")
    with storage.engine.begin() as conn:
        for event_id, time_ms, instance in ((UPPER, 1000, "i-1"), (UPPER.lower(), 1000, "i-1"),
                                            ("AAAAAAAA-3C1E-4F7A-9A52-2D6F1F0F5B11", 2000, "i-1"), (ULID, 3000, "i-1")):
            conn.execute(text("INSERT INTO events (id, type, time_ms, room_jid, main_room_jid, source_server, "
                              "source_host, source_instance, received_ms, body) VALUES (:id, 'room.created', :t, "
                              "'r@muc.x', 'r@muc.x', 'prosody', 'muc.x', :i, 0, :body)"),
                         {"id": event_id, "t": time_ms, "i": instance, "body": f'{{"id":"{event_id}"}}'})
        conn.execute(text("INSERT INTO instances (instance, server, host, domain, superseded) VALUES "
                          "('i-1', 'prosody', 'muc.x', 'x', false), ('gone', 'prosody', 'muc.x', 'x', true)"))
        conn.execute(text("INSERT INTO meeting_courses (meeting, course) VALUES ('m1', 'MATH101')"))
    storage.upgrade()
    with storage.engine.begin() as conn:
        events = dict(conn.execute(text("SELECT id, body FROM events")).all())
        assert events == {UPPER.lower(): f'{{"id":"{UPPER.lower()}"}}',
                          "aaaaaaaa-3c1e-4f7a-9a52-2d6f1f0f5b11": '{"id":"aaaaaaaa-3c1e-4f7a-9a52-2d6f1f0f5b11"}',
                          ULID: f'{{"id":"{ULID}"}}'}
        assert conn.execute(text("SELECT instance, first_seen_ms FROM instances")).all() == [("i-1", 1000)]
        assert conn.execute(text("SELECT meeting, course FROM meeting_courses")).all() == [("m1", "MATH101")]
        assert conn.execute(text("SELECT count(*) FROM health")).scalar() == 0
    if not storage.is_sqlite:
        columns = {(table, c["name"]): str(c["type"]) for table in ("events", "meetings", "rooms", "instances")
                   for c in inspect(storage.engine).get_columns(table)}
        assert not [key for key, kind in columns.items() if kind.startswith("VARCHAR")]
    storage.check_writable()
    storage.close()


def test_0006_keeps_course_index_rows_as_claims_and_rekeys_every_room(database_url):
    storage = Storage(database_url)
    upgrade_to(storage, "0005")
    with storage.engine.begin() as conn:
        conn.execute(text("INSERT INTO rooms (jid, dirty_from_ms, version, touched_ms) VALUES "
                          "('r@muc.x', NULL, 3, 0), ('quiet@muc.x', NULL, 1, 0)"))
        conn.execute(text("INSERT INTO meetings (id, engine_key, room_jid, room_name, started_ms, ended_ms, instance, "
                          "participant_count) VALUES ('m1', 'm1', 'r@muc.x', 'r', 5000, 9000, 'i-1', 2)"))
        conn.execute(text("INSERT INTO meeting_courses (meeting, course) VALUES ('m1', 'MATH101')"))
    storage.upgrade()
    with storage.engine.begin() as conn:
        assert conn.execute(text("SELECT meeting, course, source FROM meeting_courses")).all() == [
            ("m1", "MATH101", "claim")]
        # participants are keyed anew (signed names), so rooms with meetings are refreshed from the first
        assert dict(conn.execute(text("SELECT jid, dirty_from_ms FROM rooms")).all()) == {
            "r@muc.x": 5000, "quiet@muc.x": None}
        for table in ("roster", "lessons", "moodle_syncs", "moodle_audit", "receiver_state"):
            assert conn.execute(text(f"SELECT count(*) FROM {table}")).scalar() == 0
    storage.close()
