"""Class lists, lessons, the Moodle sync's queue and audit log; where a meeting's course came from.

Participants are now keyed by the name their token signed (scoped to its issuer) when it carries
no user id or e-mail, so every room is marked for refresh from its first meeting on: the
background refresher re-keys the kept presences (a read that comes first does it for its meeting).

Revision ID: 0006
Revises: 0005
"""
import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("meeting_courses") as batch:
        batch.add_column(sa.Column("source", sa.Text, nullable=False, server_default="claim"))
    op.create_table(
        "roster",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("course", sa.Text, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("user_id", sa.Text),
        sa.Column("username", sa.Text),
        sa.Column("email", sa.Text),
        sa.Column("group_name", sa.Text),
    )
    op.create_index("ix_roster_course", "roster", ["course"], postgresql_using="hash")
    op.create_table(
        "lessons",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("course", sa.Text, nullable=False),
        sa.Column("group_name", sa.Text),
        sa.Column("start_ms", sa.BigInteger, nullable=False),
        sa.Column("end_ms", sa.BigInteger, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("origin", sa.Text, nullable=False),
        sa.Column("moodle_session", sa.BigInteger),
        sa.Column("moodle_group", sa.BigInteger),
    )
    op.create_index("ix_lessons_course", "lessons", ["course"], postgresql_using="hash")
    op.create_index("ix_lessons_start", "lessons", ["start_ms"])
    op.create_table(
        "moodle_syncs",
        sa.Column("meeting", sa.Text, primary_key=True),
        sa.Column("course", sa.Text, primary_key=True),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("due_ms", sa.BigInteger),
        sa.Column("lease_ms", sa.BigInteger),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("shortname", sa.Text),
        sa.Column("session_id", sa.BigInteger),
        sa.Column("written", sa.Text),
        sa.Column("message", sa.Text),
        sa.Column("queued_ms", sa.BigInteger, nullable=False),
        sa.Column("synced_ms", sa.BigInteger),
    )
    op.create_index("ix_moodle_syncs_due", "moodle_syncs", ["due_ms"])
    op.create_table(
        "moodle_audit",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("time_ms", sa.BigInteger, nullable=False),
        sa.Column("meeting", sa.Text, nullable=False),
        sa.Column("course", sa.Text, nullable=False),
        sa.Column("function", sa.Text, nullable=False),
        sa.Column("params", sa.Text, nullable=False),
        sa.Column("result", sa.Text, nullable=False),
    )
    op.create_index("ix_moodle_audit_time", "moodle_audit", ["time_ms"])
    op.create_index("ix_moodle_audit_meeting", "moodle_audit", ["meeting"])
    op.create_table(
        "receiver_state",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )
    first_meeting = "(SELECT min(meetings.started_ms) FROM meetings WHERE meetings.room_jid = rooms.jid)"
    op.execute(f"UPDATE rooms SET dirty_from_ms = CASE WHEN dirty_from_ms IS NOT NULL AND dirty_from_ms < {first_meeting} "
               f"THEN dirty_from_ms ELSE {first_meeting} END "
               "WHERE EXISTS (SELECT 1 FROM meetings WHERE meetings.room_jid = rooms.jid)")


def downgrade() -> None:
    for table in ("receiver_state", "moodle_audit", "moodle_syncs", "lessons", "roster"):
        op.drop_table(table)
    with op.batch_alter_table("meeting_courses") as batch:
        batch.drop_column("source")
