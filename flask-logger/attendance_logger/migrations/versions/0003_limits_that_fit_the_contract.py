"""Limits that fit the contract, instances that keep their own times, a health row.

- PostgreSQL: every VARCHAR(n) becomes TEXT, so no schema-valid value can overflow a column
  (SQLite never enforced the lengths). Course ids get a hash index there: the schema does not
  bound a claim's length, and a B-tree entry must stay under ~2,700 bytes.
- instances.first_seen_ms: the time of each instance's first event, kept with it instead of
  looked up in the events (events deleted by hand left instances that broke new ones).
  Instances whose events are all gone are dropped.
- UUID event ids in lower case, so an id sent again in another case is a duplicate.
- health: the row /healthz writes.

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TEXT_COLUMNS = {
    "events": ["id", "type", "room_jid", "main_room_jid", "source_server", "source_host", "source_instance"],
    "instances": ["instance", "server", "host", "domain"],
    "rooms": ["jid"],
    "meetings": ["id", "room_jid", "room_name", "meeting_id", "closed_by", "instance", "result_settings"],
    "webhook_ids": ["id"],
}
# A UUID as the schema writes it (36 characters with four hyphens); ULIDs are upper case by the schema.
UUID_NOT_LOWER = "length(id) = 36 AND id <> lower(id)"


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        for table, columns in TEXT_COLUMNS.items():
            for column in columns:
                op.alter_column(table, column, type_=sa.Text())

    op.create_table(
        "meeting_courses_new",
        sa.Column("meeting", sa.Text, nullable=False),
        sa.Column("course", sa.Text, nullable=False),
    )
    op.execute("INSERT INTO meeting_courses_new (meeting, course) SELECT meeting, course FROM meeting_courses")
    op.drop_table("meeting_courses")
    op.rename_table("meeting_courses_new", "meeting_courses")
    op.create_index("ix_meeting_courses_meeting", "meeting_courses", ["meeting"])
    op.create_index("ix_meeting_courses_course", "meeting_courses", ["course"], postgresql_using="hash")

    op.add_column("instances", sa.Column("first_seen_ms", sa.BigInteger))
    op.execute("UPDATE instances SET first_seen_ms = (SELECT min(events.time_ms) FROM events "
               "WHERE events.source_instance = instances.instance)")
    op.execute("DELETE FROM instances WHERE first_seen_ms IS NULL")
    with op.batch_alter_table("instances") as batch:
        batch.alter_column("first_seen_ms", existing_type=sa.BigInteger, nullable=False)

    op.execute(f"DELETE FROM events WHERE {UUID_NOT_LOWER} AND lower(id) IN (SELECT id FROM events)")
    op.execute(f"UPDATE events SET body = replace(body, id, lower(id)), id = lower(id) WHERE {UUID_NOT_LOWER}")

    op.create_table(
        "health",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("checked_ms", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("health")
    with op.batch_alter_table("instances") as batch:
        batch.drop_column("first_seen_ms")
    op.drop_index("ix_meeting_courses_course", "meeting_courses")
    op.drop_index("ix_meeting_courses_meeting", "meeting_courses")
    op.create_index("ix_meeting_courses_course_pk", "meeting_courses", ["meeting", "course"], unique=True)
    op.create_index("ix_meeting_courses_course", "meeting_courses", ["course"])
