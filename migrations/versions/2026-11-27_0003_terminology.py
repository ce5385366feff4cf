"""terminology: administrators' SNOMED CT -> need mappings

Revision ID: 0003
Revises: 0001
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "snomed_need_mapping",
        sa.Column("concept_id", sa.String(length=18), nullable=False),
        sa.Column("display", sa.String(length=255), nullable=False),
        sa.Column("need", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=1000), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=256), nullable=False),
        sa.PrimaryKeyConstraint("concept_id", name=op.f("pk_snomed_need_mapping")),
    )


def downgrade() -> None:
    op.drop_table("snomed_need_mapping")
