"""Table definitions (SQLAlchemy Core). Alembic migrations in `migrations/` create them.

Times are integer milliseconds since the Unix epoch (UTC, times.py): they compare and index the
same way on SQLite and PostgreSQL, and event times carry exactly milliseconds.

Text is TEXT, never VARCHAR(n): what the contract's schema lets through is stored, whatever its
length. Text in a B-tree index must stay under PostgreSQL's ~2,700 bytes per entry: the schema
bounds every such value (room JIDs 512 characters, hosts 255, instances 128: at most 4 bytes
each in UTF-8), and course ids, which it does not bound, have a hash index there.
"""
from sqlalchemy import BigInteger, Boolean, Column, ForeignKey, Index, Integer, MetaData, String, Table, Text

metadata = MetaData()

# Every accepted event, verbatim in `body`, with the columns the queries filter on.
events = Table(
    "events", metadata,
    Column("id", Text, primary_key=True),  # UUIDs in lower case: ids compare whatever case was sent
    Column("type", Text, nullable=False),
    Column("time_ms", BigInteger, nullable=False),
    Column("room_jid", Text),
    # The meeting's room: the parent for breakout rooms, whose time counts towards it.
    Column("main_room_jid", Text),
    Column("source_server", Text, nullable=False),
    Column("source_host", Text, nullable=False),
    Column("source_instance", Text, nullable=False),
    Column("received_ms", BigInteger, nullable=False),
    Column("body", Text, nullable=False),
    Index("ix_events_main_room_time", "main_room_jid", "time_ms"),
    Index("ix_events_instance_time", "source_instance", "time_ms"),
)

# One row per XMPP server process life (`source.instance`), maintained at ingest (instances.py):
# which server it belongs to, the time of its first event, and whether a newer process showed it
# died.
instances = Table(
    "instances", metadata,
    Column("instance", Text, primary_key=True),
    Column("server", Text, nullable=False),
    Column("host", Text, nullable=False),
    Column("domain", Text, nullable=False),
    Column("superseded", Boolean, nullable=False, default=False),
    Column("first_seen_ms", BigInteger, nullable=False),
    Index("ix_instances_server_domain", "server", "domain"),
)

# Rooms whose meetings must be recomputed from `dirty_from_ms` on before the next read.
rooms = Table(
    "rooms", metadata,
    Column("jid", Text, primary_key=True),
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
    Column("id", Text, primary_key=True),
    Column("engine_key", Text, nullable=False),  # rules.Presence.key
    Column("room_jid", Text, nullable=False),
    Column("room_name", Text, nullable=False),
    Column("meeting_id", Text),
    Column("started_ms", BigInteger, nullable=False),
    Column("ended_ms", BigInteger),
    Column("closed_by", Text),
    Column("instance", Text, nullable=False),
    Column("participant_count", Integer, nullable=False),
    # A finished meeting's attendance as JSON (reports.meeting_json), so reports never recompute
    # it; `result_settings` fingerprints the settings it was computed with.
    Column("result", Text),
    Column("result_settings", Text),
    # The meeting's rules.Presence as JSON (attendance.presence_json): what its events say before
    # any setting applies, so other settings or a running meeting's clock only re-classify it.
    Column("presence", Text),
    Index("ix_meetings_room_started", "room_jid", "started_ms"),
    Index("ix_meetings_started", "started_ms"),
    Index("ix_meetings_instance", "instance"),
)

# The courses of each meeting, for access, the course filter and export: the `courseid` claims of
# its participants (source "claim"), or when none carried one, the course its room's name gives
# (source "room", course_names.py).
meeting_courses = Table(
    "meeting_courses", metadata,
    Column("meeting", Text, nullable=False),
    Column("course", Text, nullable=False),
    Column("source", Text, nullable=False, server_default="claim"),
    Index("ix_meeting_courses_meeting", "meeting"),
    Index("ix_meeting_courses_course", "course", postgresql_using="hash"),
)

# Accepted requests by `{webhook-id}.{webhook-timestamp}` (their replay key), kept for the replay window.
webhook_ids = Table(
    "webhook_ids", metadata,
    Column("id", Text, primary_key=True),
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

# One row /healthz writes, so that it reports whether events could be stored now.
health = Table(
    "health", metadata,
    Column("id", Integer, primary_key=True),
    Column("checked_ms", BigInteger, nullable=False),
)

# What each account chose on the dashboard's settings page (preferences.py); no row: the defaults.
account_preferences = Table(
    "account_preferences", metadata,
    Column("account", String(64), ForeignKey("accounts.name", ondelete="CASCADE"), primary_key=True),
    Column("language", String(16)),  # a catalogue of messages/, or NULL: the browser's Accept-Language
    Column("timezone", String(64)),  # an IANA zone, or NULL: ATTENDANCE_TIMEZONE
)

# Each course's class list (class_store.py): one row per student, by where it came from ("file":
# `roster import`; "moodle": the course's enrolments, read by the sync). An import replaces the
# rows of its courses and source.
roster = Table(
    "roster", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("course", Text, nullable=False),
    Column("source", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("user_id", Text),
    Column("username", Text),
    Column("email", Text),
    Column("group_name", Text),
    Index("ix_roster_course", "course", postgresql_using="hash"),
)

# Scheduled lessons (class_store.py), by source ("file": `schedule import`; "moodle": the course's
# Attendance sessions, with their session and group ids).
lessons = Table(
    "lessons", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("course", Text, nullable=False),
    Column("group_name", Text),
    Column("start_ms", BigInteger, nullable=False),
    Column("end_ms", BigInteger, nullable=False),
    Column("source", Text, nullable=False),
    Column("origin", Text, nullable=False),
    Column("moodle_session", BigInteger),
    Column("moodle_group", BigInteger),
    Index("ix_lessons_course", "course", postgresql_using="hash"),
    Index("ix_lessons_start", "start_ms"),
)

# The Moodle sync of each finished meeting and course (moodle/jobs.py): a durable queue (`due_ms`,
# taken by a worker until `lease_ms`) and what the last sync left: the session, the statuses it
# wrote (JSON {moodle user id: status id}), a message when it failed. Courses longer than Moodle's
# 255-character shortnames are never queued, so the key fits PostgreSQL's B-tree.
moodle_syncs = Table(
    "moodle_syncs", metadata,
    Column("meeting", Text, primary_key=True),
    Column("course", Text, primary_key=True),
    Column("state", Text, nullable=False),  # queued | running | done | failed
    Column("due_ms", BigInteger),  # None: not retried automatically (`moodle sync` still does)
    Column("lease_ms", BigInteger),
    Column("attempts", Integer, nullable=False, default=0),
    Column("shortname", Text),
    Column("session_id", BigInteger),
    Column("written", Text),
    Column("message", Text),
    Column("queued_ms", BigInteger, nullable=False),
    Column("synced_ms", BigInteger),
    Index("ix_moodle_syncs_due", "due_ms"),
)

# Every write the sync made to Moodle (or tried to): the function, its parameters (never the
# token) and Moodle's answer.
moodle_audit = Table(
    "moodle_audit", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("time_ms", BigInteger, nullable=False),
    Column("meeting", Text, nullable=False),
    Column("course", Text, nullable=False),
    Column("function", Text, nullable=False),
    Column("params", Text, nullable=False),
    Column("result", Text, nullable=False),
    Index("ix_moodle_audit_time", "time_ms"),
    Index("ix_moodle_audit_meeting", "meeting"),
)

# Small facts the receiver keeps about itself: which room pattern indexed the meetings' courses,
# the version of the class lists and lessons that kept results were computed with.
receiver_state = Table(
    "receiver_state", metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)
