"""activity changes: a trigger-written log of writes to ``activity`` for matching's snapshot

Every insert, update and delete of an ``activity`` row adds a row (``seq``, the activity's id,
on PostgreSQL the writing transaction's id) and deletes the row `KEPT` places older, so the log
stays a bounded ring. Triggers rather than application code: bookings, directory writes,
imports and bulk seeding all change ``activity`` and none can forget the log.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27
"""

# ruff: noqa: S608 (DDL from constants of this file; no value comes from outside)

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KEPT = 100_000  # app.directory.models.ACTIVITY_CHANGES_KEPT when this migration was written

POSTGRES_FUNCTION = f"""
CREATE FUNCTION activity_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  added bigint;
BEGIN
  INSERT INTO activity_change (activity_id, xid)
    VALUES (CASE WHEN TG_OP = 'DELETE' THEN OLD.id ELSE NEW.id END, txid_current())
    RETURNING seq INTO added;
  -- exactly one older row, so concurrent writers never delete (and wait on) the same rows
  DELETE FROM activity_change WHERE seq = added - {KEPT};
  RETURN NULL;
END
$$
"""


def upgrade() -> None:
    op.create_table(
        "activity_change",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("activity_id", sa.String(length=64), nullable=False),
        sa.Column("xid", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_activity_change")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("activity_change", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_activity_change_xid"), ["xid"], unique=False)

    if op.get_bind().dialect.name == "postgresql":
        op.execute(POSTGRES_FUNCTION)
        op.execute(
            "CREATE TRIGGER activity_changed AFTER INSERT OR UPDATE OR DELETE ON activity "
            "FOR EACH ROW EXECUTE FUNCTION activity_changed()"
        )
        return
    for event, row in (("INSERT", "NEW"), ("UPDATE", "NEW"), ("DELETE", "OLD")):
        op.execute(
            f"CREATE TRIGGER activity_changed_{event.lower()} AFTER {event} ON activity "
            f"BEGIN INSERT INTO activity_change (activity_id) VALUES ({row}.id); "
            f"DELETE FROM activity_change WHERE seq = last_insert_rowid() - {KEPT}; END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS activity_changed ON activity")
        op.execute("DROP FUNCTION IF EXISTS activity_changed()")
    else:
        for event in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS activity_changed_{event}")
    with op.batch_alter_table("activity_change", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_activity_change_xid"))
    op.drop_table("activity_change")
