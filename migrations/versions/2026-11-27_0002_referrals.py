"""referrals

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "patient",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("nhs_number", sa.String(length=10), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column("gender", sa.String(length=16), nullable=True),
        sa.Column("postcode", sa.String(length=16), nullable=False),
        sa.Column("resource", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patient")),
        sa.UniqueConstraint("nhs_number", name=op.f("uq_patient_nhs_number")),
    )
    op.create_table(
        "resource_version",
        sa.Column("resource_type", sa.String(length=32), nullable=False),
        sa.Column("resource_id", sa.Uuid(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resource", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint(
            "resource_type", "resource_id", "version_id", name=op.f("pk_resource_version")
        ),
    )
    op.create_table(
        "routing_rule",
        sa.Column("practice_ods", sa.String(length=32), nullable=False),
        sa.Column("performer_ods", sa.String(length=32), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=256), nullable=False),
        sa.PrimaryKeyConstraint("practice_ods", name=op.f("pk_routing_rule")),
    )
    op.create_table(
        "referral",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("intent", sa.String(length=16), nullable=False),
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("requester_ods", sa.String(length=32), nullable=False),
        sa.Column("performer_ods", sa.String(length=32), nullable=False),
        sa.Column("authored_on", sa.DateTime(timezone=True), nullable=False),
        sa.Column("preferences", sa.JSON(), nullable=False),
        sa.Column("resource", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_referral_patient_id_patient")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referral")),
    )
    with op.batch_alter_table("referral", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_referral_patient_id"), ["patient_id"], unique=False)
        batch_op.create_index(
            "ix_referral_performer_ods_authored_on", ["performer_ods", "authored_on"], unique=False
        )
        batch_op.create_index(
            "ix_referral_requester_ods_authored_on", ["requester_ods", "authored_on"], unique=False
        )
        batch_op.create_index("ix_referral_updated_at", ["updated_at"], unique=False)

    op.create_table(
        "consent",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("referral_id", sa.Uuid(), nullable=False),
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("resource", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_consent_patient_id_patient")
        ),
        sa.ForeignKeyConstraint(
            ["referral_id"], ["referral.id"], name=op.f("fk_consent_referral_id_referral")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent")),
    )
    with op.batch_alter_table("consent", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_consent_patient_id"), ["patient_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_consent_referral_id"), ["referral_id"], unique=False)

    op.create_table(
        "referral_coding",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("referral_id", sa.Uuid(), nullable=False),
        sa.Column("element", sa.String(length=16), nullable=False),
        sa.Column("system", sa.String(length=256), nullable=True),
        sa.Column("code", sa.String(length=128), nullable=False),
        sa.ForeignKeyConstraint(
            ["referral_id"],
            ["referral.id"],
            name=op.f("fk_referral_coding_referral_id_referral"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referral_coding")),
    )
    with op.batch_alter_table("referral_coding", schema=None) as batch_op:
        batch_op.create_index(
            "ix_referral_coding_lookup", ["element", "code", "system"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_referral_coding_referral_id"), ["referral_id"], unique=False
        )

    op.create_table(
        "referral_identifier",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("referral_id", sa.Uuid(), nullable=False),
        sa.Column("system", sa.String(length=256), nullable=False),
        sa.Column("value", sa.String(length=256), nullable=False),
        sa.ForeignKeyConstraint(
            ["referral_id"],
            ["referral.id"],
            name=op.f("fk_referral_identifier_referral_id_referral"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referral_identifier")),
        sa.UniqueConstraint("system", "value", name=op.f("uq_referral_identifier_system_value")),
    )
    with op.batch_alter_table("referral_identifier", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_referral_identifier_referral_id"), ["referral_id"], unique=False
        )

    op.create_table(
        "referral_need",
        sa.Column("referral_id", sa.Uuid(), nullable=False),
        sa.Column("need", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["referral_id"],
            ["referral.id"],
            name=op.f("fk_referral_need_referral_id_referral"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("referral_id", "need", name=op.f("pk_referral_need")),
    )
    with op.batch_alter_table("referral_need", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_referral_need_need"), ["need"], unique=False)

    op.create_table(
        "task",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("referral_id", sa.Uuid(), nullable=False),
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("status_reason", sa.JSON(), nullable=True),
        sa.Column("business_status", sa.String(length=32), nullable=True),
        sa.Column("requester_ods", sa.String(length=32), nullable=False),
        sa.Column("owner_ods", sa.String(length=32), nullable=False),
        sa.Column("authored_on", sa.DateTime(timezone=True), nullable=False),
        sa.Column("output", sa.JSON(), nullable=False),
        sa.Column("first_contact_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patient.id"], name=op.f("fk_task_patient_id_patient")
        ),
        sa.ForeignKeyConstraint(
            ["referral_id"], ["referral.id"], name=op.f("fk_task_referral_id_referral")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_task")),
        sa.UniqueConstraint("referral_id", name=op.f("uq_task_referral_id")),
    )
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.create_index("ix_task_owner_ods_status", ["owner_ods", "status"], unique=False)
        batch_op.create_index(batch_op.f("ix_task_patient_id"), ["patient_id"], unique=False)
        batch_op.create_index(
            "ix_task_requester_ods_status", ["requester_ods", "status"], unique=False
        )
        batch_op.create_index("ix_task_updated_at", ["updated_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.drop_index("ix_task_updated_at")
        batch_op.drop_index("ix_task_requester_ods_status")
        batch_op.drop_index(batch_op.f("ix_task_patient_id"))
        batch_op.drop_index("ix_task_owner_ods_status")

    op.drop_table("task")
    with op.batch_alter_table("referral_need", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_referral_need_need"))

    op.drop_table("referral_need")
    with op.batch_alter_table("referral_identifier", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_referral_identifier_referral_id"))

    op.drop_table("referral_identifier")
    with op.batch_alter_table("referral_coding", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_referral_coding_referral_id"))
        batch_op.drop_index("ix_referral_coding_lookup")

    op.drop_table("referral_coding")
    with op.batch_alter_table("consent", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_consent_referral_id"))
        batch_op.drop_index(batch_op.f("ix_consent_patient_id"))

    op.drop_table("consent")
    with op.batch_alter_table("referral", schema=None) as batch_op:
        batch_op.drop_index("ix_referral_updated_at")
        batch_op.drop_index("ix_referral_requester_ods_authored_on")
        batch_op.drop_index("ix_referral_performer_ods_authored_on")
        batch_op.drop_index(batch_op.f("ix_referral_patient_id"))

    op.drop_table("referral")
    op.drop_table("routing_rule")
    op.drop_table("resource_version")
    op.drop_table("patient")
