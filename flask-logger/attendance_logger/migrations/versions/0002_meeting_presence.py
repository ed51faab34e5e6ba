"""meetings.presence: each meeting's presence before any setting applies (engine.Presence).

Reports classify it under the current settings, so a changed threshold or reconnect grace, or
a running lesson's clock, never makes the receiver read the meeting's events again. Rows indexed
before this revision have none: their rooms are marked for refresh from their first meeting on,
so the background refresher keeps every presence before a report has to compute it from events
(a read that comes first computes it once, then keeps it).

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("meetings", sa.Column("presence", sa.Text))
    first_meeting = "(SELECT min(meetings.started_ms) FROM meetings WHERE meetings.room_jid = rooms.jid)"
    op.execute(f"UPDATE rooms SET dirty_from_ms = CASE WHEN dirty_from_ms IS NOT NULL AND dirty_from_ms < {first_meeting} "
               f"THEN dirty_from_ms ELSE {first_meeting} END "
               "WHERE EXISTS (SELECT 1 FROM meetings WHERE meetings.room_jid = rooms.jid)")


def downgrade() -> None:
    with op.batch_alter_table("meetings") as batch:
        batch.drop_column("presence")
