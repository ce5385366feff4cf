"""outcomes: wellbeing outcome records and their derived scores

Revision ID: 0005
Revises: 0006
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "outcome_record",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("referral_id", sa.Uuid(), nullable=False),
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("instrument", sa.String(length=32), nullable=False),
        sa.Column("timepoint", sa.String(length=16), nullable=False),
        sa.Column("collected_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("questionnaire_response_id", sa.Uuid(), nullable=True),
        sa.Column("questionnaire_response", sa.JSON(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(length=256), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_outcome_record_patient_id_patient")
        ),
        sa.ForeignKeyConstraint(
            ["referral_id"], ["referral.id"], name=op.f("fk_outcome_record_referral_id_referral")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outcome_record")),
        sa.UniqueConstraint(
            "questionnaire_response_id", name=op.f("uq_outcome_record_questionnaire_response_id")
        ),
    )
    with op.batch_alter_table("outcome_record", schema=None) as batch_op:
        batch_op.create_index(
            "ix_outcome_record_referral_instrument",
            ["referral_id", "instrument", "timepoint", "collected_at"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_outcome_record_patient_id"), ["patient_id"], unique=False
        )

    op.create_table(
        "outcome_score",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("record_id", sa.Uuid(), nullable=False),
        sa.Column("referral_id", sa.Uuid(), nullable=False),
        sa.Column("instrument", sa.String(length=32), nullable=False),
        sa.Column("measure", sa.String(length=32), nullable=False),
        sa.Column("timepoint", sa.String(length=16), nullable=False),
        sa.Column("collected_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("band", sa.String(length=16), nullable=True),
        sa.Column("category", sa.String(length=32), nullable=True),
        sa.Column("lonely", sa.Boolean(), nullable=True),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["outcome_record.id"],
            name=op.f("fk_outcome_score_record_id_outcome_record"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["referral_id"], ["referral.id"], name=op.f("fk_outcome_score_referral_id_referral")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outcome_score")),
    )
    with op.batch_alter_table("outcome_score", schema=None) as batch_op:
        batch_op.create_index(
            "ix_outcome_score_instrument_measure",
            ["instrument", "measure", "timepoint"],
            unique=False,
        )
        batch_op.create_index(
            "ix_outcome_score_referral_measure",
            ["referral_id", "instrument", "measure", "timepoint", "collected_at"],
            unique=False,
        )
        batch_op.create_index(batch_op.f("ix_outcome_score_record_id"), ["record_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("outcome_score", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outcome_score_record_id"))
        batch_op.drop_index("ix_outcome_score_referral_measure")
        batch_op.drop_index("ix_outcome_score_instrument_measure")
    op.drop_table("outcome_score")
    with op.batch_alter_table("outcome_record", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outcome_record_patient_id"))
        batch_op.drop_index("ix_outcome_record_referral_instrument")
    op.drop_table("outcome_record")
