"""meetings.presence: each meeting's presence before any setting applies (engine.Presence).

Reports classify it under the current settings, so a changed threshold or reconnect grace, or
a running lesson's clock, never makes the receiver read the meeting's events again. NULL on
rows indexed before this revision: those are computed from their events once, then kept.

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


def downgrade() -> None:
    with op.batch_alter_table("meetings") as batch:
        batch.drop_column("presence")
