"""unsuitable mark: activities a link worker marked not suitable for a referral, with a reason

One row per (referral, activity), marking again updates it; it goes with its referral (a purge)
and with its activity (a deletion). Counted per activity and reason for providers and
commissioners (docs/reports.md "Not suitable"); left out of the referral's matches
(docs/matching.md "Learning from outcomes").

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "unsuitable_mark",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("referral_id", sa.Uuid(), nullable=False),
        sa.Column("activity_id", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("marked_by", sa.String(length=256), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["activity.id"],
            name=op.f("fk_unsuitable_mark_activity_id_activity"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["referral_id"],
            ["referral.id"],
            name=op.f("fk_unsuitable_mark_referral_id_referral"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unsuitable_mark")),
        sa.UniqueConstraint(
            "referral_id", "activity_id", name=op.f("uq_unsuitable_mark_referral_id_activity_id")
        ),
    )
    with op.batch_alter_table("unsuitable_mark", schema=None) as batch_op:
        batch_op.create_index(
            "ix_unsuitable_mark_activity_id", ["activity_id", "reason"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("unsuitable_mark", schema=None) as batch_op:
        batch_op.drop_index("ix_unsuitable_mark_activity_id")
    op.drop_table("unsuitable_mark")
