"""report_purged: the referrals whose personal data ``assetlink purge`` removed

Their report summary rows stay (the aggregates outlive the personal data); a refresh leaves them
alone, since the rows they were computed from are gone.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "report_purged",
        sa.Column("referral_id", sa.Uuid(), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("purged_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("referral_id", name=op.f("pk_report_purged")),
    )


def downgrade() -> None:
    op.drop_table("report_purged")
