"""Each account's choice of language and time zone on the dashboard.

Revision ID: 0005
Revises: 0004
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "account_preferences",
        sa.Column("account", sa.String(64), sa.ForeignKey("accounts.name", ondelete="CASCADE"), primary_key=True),
        sa.Column("language", sa.String(16)),
        sa.Column("timezone", sa.String(64)),
    )


def downgrade() -> None:
    op.drop_table("account_preferences")
