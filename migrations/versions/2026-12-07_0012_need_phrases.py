"""need phrases: administrators' free-text phrase -> need rows, and where a need was found

``need_phrase`` holds the phrases administrators add to (or override in) the shipped
``app/terminology/data/need_phrases.csv``; ``referral_need.found_in`` names the element of the
stored ServiceRequest whose words gave a need (``reasonCode[0].text``), so that matching can
quote them. Referrals stored before keep ``found_in`` empty and their needs as they were.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "need_phrase",
        sa.Column("phrase", sa.String(length=100), nullable=False),
        sa.Column("need", sa.String(length=64), nullable=False),
        sa.Column("note", sa.String(length=1000), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=256), nullable=False),
        sa.PrimaryKeyConstraint("phrase", name=op.f("pk_need_phrase")),
    )
    with op.batch_alter_table("referral_need", schema=None) as batch_op:
        batch_op.add_column(sa.Column("found_in", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("referral_need", schema=None) as batch_op:
        batch_op.drop_column("found_in")
    op.drop_table("need_phrase")
