"""database epoch: a random id of this database, so a running process notices it was made again

One row, written here: a database dropped and made again (then migrated) under the same URL has
another, which tells matching's per-process snapshot (app/matching/snapshot.py) that the change
log it follows was started afresh.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07
"""

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    table = op.create_table(
        "database_epoch",
        sa.Column("epoch", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("epoch", name=op.f("pk_database_epoch")),
    )
    op.bulk_insert(table, [{"epoch": uuid.uuid4()}])


def downgrade() -> None:
    op.drop_table("database_epoch")
