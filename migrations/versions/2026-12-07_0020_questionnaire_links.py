"""questionnaire links: one-time links to a wellbeing instrument, sent to the person

One row per link (referral, instrument, timepoint, expiry, use, reminder, the schedule's key),
and one row per token of a link holding only the token's SHA-256.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "questionnaire_link",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("referral_id", sa.Uuid(), nullable=False),
        sa.Column("instrument", sa.String(length=32), nullable=False),
        sa.Column("timepoint", sa.String(length=16), nullable=True),
        sa.Column("channel", sa.String(length=8), nullable=True),
        sa.Column("sent_by", sa.String(length=256), nullable=False),
        sa.Column("schedule_key", sa.String(length=128), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reminded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("record_id", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(
            ["referral_id"],
            ["referral.id"],
            name=op.f("fk_questionnaire_link_referral_id_referral"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_questionnaire_link")),
        sa.UniqueConstraint("schedule_key", name=op.f("uq_questionnaire_link_schedule_key")),
    )
    op.create_index(
        op.f("ix_questionnaire_link_referral_id"), "questionnaire_link", ["referral_id"]
    )
    op.create_index(
        "ix_questionnaire_link_open", "questionnaire_link", ["used_at", "reminded_at", "created_at"]
    )
    op.create_table(
        "questionnaire_link_token",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("link_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["link_id"],
            ["questionnaire_link.id"],
            name=op.f("fk_questionnaire_link_token_link_id_questionnaire_link"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_questionnaire_link_token")),
    )
    op.create_index(
        op.f("ix_questionnaire_link_token_link_id"), "questionnaire_link_token", ["link_id"]
    )


def downgrade() -> None:
    op.drop_index(
        op.f("ix_questionnaire_link_token_link_id"), table_name="questionnaire_link_token"
    )
    op.drop_table("questionnaire_link_token")
    op.drop_index("ix_questionnaire_link_open", table_name="questionnaire_link")
    op.drop_index(op.f("ix_questionnaire_link_referral_id"), table_name="questionnaire_link")
    op.drop_table("questionnaire_link")
