"""Initial tables: events, instances, rooms, meetings index, webhook ids.

Revision ID: 0001
Revises:
"""
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("time_ms", sa.BigInteger, nullable=False),
        sa.Column("room_jid", sa.String(512)),
        sa.Column("main_room_jid", sa.String(512)),
        sa.Column("source_server", sa.String(16), nullable=False),
        sa.Column("source_host", sa.String(255), nullable=False),
        sa.Column("source_instance", sa.String(128), nullable=False),
        sa.Column("received_ms", sa.BigInteger, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
    )
    op.create_index("ix_events_main_room_time", "events", ["main_room_jid", "time_ms"])
    op.create_index("ix_events_instance_time", "events", ["source_instance", "time_ms"])
    op.create_table(
        "instances",
        sa.Column("instance", sa.String(128), primary_key=True),
        sa.Column("server", sa.String(16), nullable=False),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("domain", sa.String(255), nullable=False),
        sa.Column("superseded", sa.Boolean, nullable=False),
    )
    op.create_index("ix_instances_server_domain", "instances", ["server", "domain"])
    op.create_table(
        "rooms",
        sa.Column("jid", sa.String(512), primary_key=True),
        sa.Column("dirty_from_ms", sa.BigInteger),
        sa.Column("version", sa.BigInteger, nullable=False),
        sa.Column("touched_ms", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_rooms_dirty", "rooms", ["dirty_from_ms"])
    op.create_table(
        "meetings",
        sa.Column("id", sa.String(128), primary_key=True),
        sa.Column("engine_key", sa.Text, nullable=False),
        sa.Column("room_jid", sa.String(512), nullable=False),
        sa.Column("room_name", sa.String(512), nullable=False),
        sa.Column("meeting_id", sa.String(255)),
        sa.Column("started_ms", sa.BigInteger, nullable=False),
        sa.Column("ended_ms", sa.BigInteger),
        sa.Column("closed_by", sa.String(64)),
        sa.Column("instance", sa.String(128), nullable=False),
        sa.Column("participant_count", sa.Integer, nullable=False),
        sa.Column("result", sa.Text),
        sa.Column("result_settings", sa.String(64)),
    )
    op.create_index("ix_meetings_room_started", "meetings", ["room_jid", "started_ms"])
    op.create_index("ix_meetings_started", "meetings", ["started_ms"])
    op.create_index("ix_meetings_instance", "meetings", ["instance"])
    op.create_table(
        "meeting_courses",
        sa.Column("meeting", sa.String(128), primary_key=True),
        sa.Column("course", sa.String(255), primary_key=True),
    )
    op.create_index("ix_meeting_courses_course", "meeting_courses", ["course"])
    op.create_table(
        "webhook_ids",
        sa.Column("id", sa.String(255), primary_key=True),
        sa.Column("accepted_ms", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_webhook_ids_accepted", "webhook_ids", ["accepted_ms"])


def downgrade() -> None:
    for table in ("webhook_ids", "meeting_courses", "meetings", "rooms", "instances", "events"):
        op.drop_table(table)
