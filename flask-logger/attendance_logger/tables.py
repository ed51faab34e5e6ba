"""Table definitions (SQLAlchemy Core). Alembic migrations in `migrations/` create them.

Times are integer milliseconds since the Unix epoch (UTC): they compare and index the same way
on SQLite and PostgreSQL, and event times carry exactly milliseconds.
"""
from sqlalchemy import BigInteger, Boolean, Column, ForeignKey, Index, Integer, MetaData, String, Table, Text

metadata = MetaData()

# Every accepted event, verbatim in `body`, with the columns the queries filter on.
events = Table(
    "events", metadata,
    Column("id", String(64), primary_key=True),
    Column("type", String(32), nullable=False),
    Column("time_ms", BigInteger, nullable=False),
    Column("room_jid", String(512)),
    # The meeting's room: the parent for breakout rooms, whose time counts towards it.
    Column("main_room_jid", String(512)),
    Column("source_server", String(16), nullable=False),
    Column("source_host", String(255), nullable=False),
    Column("source_instance", String(128), nullable=False),
    Column("received_ms", BigInteger, nullable=False),
    Column("body", Text, nullable=False),
    Index("ix_events_main_room_time", "main_room_jid", "time_ms"),
    Index("ix_events_instance_time", "source_instance", "time_ms"),
)

# One row per XMPP server process life (`source.instance`), maintained at ingest: which server
# it belongs to and whether a newer process showed it died. Its first and last event times come
# from the events themselves (ix_events_instance_time).
instances = Table(
    "instances", metadata,
    Column("instance", String(128), primary_key=True),
    Column("server", String(16), nullable=False),
    Column("host", String(255), nullable=False),
    Column("domain", String(255), nullable=False),
    Column("superseded", Boolean, nullable=False, default=False),
    Index("ix_instances_server_domain", "server", "domain"),
)

# Rooms whose meetings must be recomputed from `dirty_from_ms` on before the next read.
rooms = Table(
    "rooms", metadata,
    Column("jid", String(512), primary_key=True),
    Column("dirty_from_ms", BigInteger),
    # Bumped by every ingest that touches the room: a refresh computed from an older snapshot
    # is not written.
    Column("version", BigInteger, nullable=False, default=0),
    # When an event last reached the room (receiver clock).
    Column("touched_ms", BigInteger, nullable=False, default=0),
    Index("ix_rooms_dirty", "dirty_from_ms"),
)

# The meetings index: boundaries and filters, and what reports read instead of the events.
meetings = Table(
    "meetings", metadata,
    Column("id", String(128), primary_key=True),
    Column("engine_key", Text, nullable=False),
    Column("room_jid", String(512), nullable=False),
    Column("room_name", String(512), nullable=False),
    Column("meeting_id", String(255)),
    Column("started_ms", BigInteger, nullable=False),
    Column("ended_ms", BigInteger),
    Column("closed_by", String(64)),
    Column("instance", String(128), nullable=False),
    Column("participant_count", Integer, nullable=False),
    # A finished meeting's attendance as JSON (reports.meeting_json), so reports never recompute
    # it; `result_settings` fingerprints the settings it was computed with.
    Column("result", Text),
    Column("result_settings", String(64)),
    # The meeting's engine.Presence as JSON (attendance.presence_json): what its events say before
    # any setting applies, so other settings or a running meeting's clock only re-classify it.
    Column("presence", Text),
    Index("ix_meetings_room_started", "room_jid", "started_ms"),
    Index("ix_meetings_started", "started_ms"),
    Index("ix_meetings_instance", "instance"),
)

meeting_courses = Table(
    "meeting_courses", metadata,
    Column("meeting", String(128), primary_key=True),
    Column("course", String(255), primary_key=True),
    Index("ix_meeting_courses_course", "course"),
)

# Accepted requests by `{webhook-id}.{webhook-timestamp}` (their replay key), kept for the replay window.
webhook_ids = Table(
    "webhook_ids", metadata,
    Column("id", String(255), primary_key=True),
    Column("accepted_ms", BigInteger, nullable=False),
    Index("ix_webhook_ids_accepted", "accepted_ms"),
)

# Who may read attendance: the accounts, the courses each teacher sees, their login sessions.
accounts = Table(
    "accounts", metadata,
    Column("name", String(64), primary_key=True),
    Column("role", String(16), nullable=False),  # accounts.ROLES
    Column("password_hash", String(255), nullable=False),  # argon2id, PHC string format
    Column("created_ms", BigInteger, nullable=False),
)

account_courses = Table(
    "account_courses", metadata,
    Column("account", String(64), ForeignKey("accounts.name", ondelete="CASCADE"), primary_key=True),
    Column("course", String(255), primary_key=True),
)

# A dashboard login: the cookie holds a random token, the database only its SHA-256.
sessions = Table(
    "sessions", metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("account", String(64), ForeignKey("accounts.name", ondelete="CASCADE"), nullable=False),
    Column("created_ms", BigInteger, nullable=False),
    Column("seen_ms", BigInteger, nullable=False),
    Index("ix_sessions_account", "account"),
)

# Failed logins of the last minutes, by "account:<name>" and "client:<address>" (logins.LoginThrottle).
login_failures = Table(
    "login_failures", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(320), nullable=False),
    Column("time_ms", BigInteger, nullable=False),
    Index("ix_login_failures_key_time", "key", "time_ms"),
    Index("ix_login_failures_time", "time_ms"),
)
