"""directory feeds: live Open Referral UK feeds synced into the directory (issue 20)

``directory_feed`` is one row per feed URL; its ``id`` is derived from the URL (the first 8 hex
digits of its SHA-256, docs/oruk.md) and prefixes the ids of the activities it brings, so
two feeds' services "1" are two activities. Each activity keeps the feed it came from
(``source_feed_id``, NULL: written through the API, imported from a file or seeded), the feed's
own id of the service (``source_id``) and a digest of what was last written from the source
(``source_digest``), which tells an unchanged service from an updated one.

Plain ``ADD COLUMN`` (native on SQLite), not a batch copy of ``activity``: copying it would drop
the change-log triggers of revision 0009. For the same reason ``source_feed_id`` has no foreign
key constraint (SQLite cannot add one without the copy); feeds are never deleted.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "directory_feed",
        sa.Column("id", sa.String(length=16), nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_synced_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_full_sync_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_directory_feed")),
        sa.UniqueConstraint("url", name=op.f("uq_directory_feed_url")),
    )
    op.add_column("activity", sa.Column("source_feed_id", sa.String(length=16), nullable=True))
    op.add_column("activity", sa.Column("source_id", sa.String(length=64), nullable=True))
    op.add_column("activity", sa.Column("source_digest", sa.String(length=64), nullable=True))
    op.create_index("ix_activity_source", "activity", ["source_feed_id", "source_id"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_activity_source", table_name="activity")
    op.drop_column("activity", "source_digest")
    op.drop_column("activity", "source_id")
    op.drop_column("activity", "source_feed_id")
    op.drop_table("directory_feed")
