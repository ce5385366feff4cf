"""directory and areas: organisations, activities and their parts; postcodes, districts, IMD

Revision ID: 0004
Revises: 0001
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "lsoa_deprivation",
        sa.Column("lsoa_code", sa.String(length=9), nullable=False),
        sa.Column("imd_decile", sa.Integer(), nullable=False),
        sa.Column("imd_rank", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("lsoa_code", name=op.f("pk_lsoa_deprivation")),
    )
    op.create_table(
        "organisation",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.String(), nullable=True),
        sa.Column("identifier", sa.String(length=32), nullable=True),
        sa.Column("identifier_scheme", sa.String(length=16), nullable=True),
        sa.Column("email", sa.String(length=255), nullable=True),
        sa.Column("url", sa.String(length=512), nullable=True),
        sa.Column("last_modified", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organisation")),
    )
    with op.batch_alter_table("organisation", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_organisation_identifier"), ["identifier"], unique=False
        )

    op.create_table(
        "postcode",
        sa.Column("postcode", sa.String(length=8), nullable=False),
        sa.Column("district", sa.String(length=4), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("lsoa_code", sa.String(length=9), nullable=True),
        sa.Column("local_authority_code", sa.String(length=9), nullable=True),
        sa.PrimaryKeyConstraint("postcode", name=op.f("pk_postcode")),
    )
    with op.batch_alter_table("postcode", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_postcode_district"), ["district"], unique=False)

    op.create_table(
        "postcode_district",
        sa.Column("district", sa.String(length=4), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=False),
        sa.Column("longitude", sa.Float(), nullable=False),
        sa.Column("postcodes", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("district", name=op.f("pk_postcode_district")),
    )
    op.create_table(
        "activity",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("organisation_id", sa.String(length=64), nullable=True),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.String(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("url", sa.String(length=512), nullable=True),
        sa.Column("email", sa.String(length=255), nullable=True),
        sa.Column("attending_type", sa.String(length=16), nullable=False),
        sa.Column("minimum_age", sa.Integer(), nullable=True),
        sa.Column("maximum_age", sa.Integer(), nullable=True),
        sa.Column("eligibility_description", sa.String(), nullable=True),
        sa.Column("eligibility_gender", sa.String(length=16), nullable=True),
        sa.Column("capacity_maximum", sa.Integer(), nullable=True),
        sa.Column("capacity_available", sa.Integer(), nullable=True),
        sa.Column("accepting_referrals", sa.Boolean(), nullable=False),
        sa.Column("has_free_option", sa.Boolean(), nullable=False),
        sa.Column("fees_description", sa.String(), nullable=True),
        sa.Column("contact", sa.JSON(), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_modified", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_activity_organisation_id_organisation"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_activity")),
    )
    with op.batch_alter_table("activity", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_activity_accepting_referrals"), ["accepting_referrals"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_activity_attending_type"), ["attending_type"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_activity_capacity_available"), ["capacity_available"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_activity_eligibility_gender"), ["eligibility_gender"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_activity_has_free_option"), ["has_free_option"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_activity_last_modified"), ["last_modified"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_activity_maximum_age"), ["maximum_age"], unique=False)
        batch_op.create_index(batch_op.f("ix_activity_minimum_age"), ["minimum_age"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_activity_organisation_id"), ["organisation_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_activity_status"), ["status"], unique=False)

    op.create_table(
        "activity_category",
        sa.Column("activity_id", sa.String(length=64), nullable=False),
        sa.Column("term_id", sa.String(length=64), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=True),
        sa.Column("label", sa.String(length=255), nullable=True),
        sa.Column("taxonomy", sa.String(length=255), nullable=True),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["activity.id"],
            name=op.f("fk_activity_category_activity_id_activity"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("activity_id", "term_id", name=op.f("pk_activity_category")),
    )
    with op.batch_alter_table("activity_category", schema=None) as batch_op:
        batch_op.create_index("ix_activity_category_code", ["code", "activity_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_activity_category_term_id"), ["term_id"], unique=False)

    op.create_table(
        "activity_language",
        sa.Column("activity_id", sa.String(length=64), nullable=False),
        sa.Column("code", sa.String(length=35), nullable=False),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["activity.id"],
            name=op.f("fk_activity_language_activity_id_activity"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("activity_id", "code", name=op.f("pk_activity_language")),
    )
    op.create_table(
        "activity_need",
        sa.Column("activity_id", sa.String(length=64), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["activity.id"],
            name=op.f("fk_activity_need_activity_id_activity"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("activity_id", "code", name=op.f("pk_activity_need")),
    )
    with op.batch_alter_table("activity_need", schema=None) as batch_op:
        batch_op.create_index("ix_activity_need_code", ["code", "activity_id"], unique=False)

    op.create_table(
        "cost_option",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("activity_id", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("option", sa.String(length=255), nullable=True),
        sa.Column("amount", sa.Numeric(precision=10, scale=2), nullable=True),
        sa.Column("amount_description", sa.String(length=255), nullable=True),
        sa.Column("free", sa.Boolean(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["activity.id"],
            name=op.f("fk_cost_option_activity_id_activity"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cost_option")),
    )
    with op.batch_alter_table("cost_option", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_cost_option_activity_id"), ["activity_id"], unique=False
        )

    op.create_table(
        "location",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("activity_id", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.String(length=64), nullable=True),
        sa.Column("name", sa.String(length=255), nullable=True),
        sa.Column("address_1", sa.String(length=255), nullable=True),
        sa.Column("city", sa.String(length=128), nullable=True),
        sa.Column("postcode", sa.String(length=8), nullable=True),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("access_wheelchair", sa.Boolean(), nullable=False),
        sa.Column("access_step_free", sa.Boolean(), nullable=False),
        sa.Column("access_hearing_loop", sa.Boolean(), nullable=False),
        sa.Column("access_large_print", sa.Boolean(), nullable=False),
        sa.Column("access_bsl", sa.Boolean(), nullable=False),
        sa.Column("access_quiet_space", sa.Boolean(), nullable=False),
        sa.Column("accessibility_description", sa.String(), nullable=True),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["activity.id"],
            name=op.f("fk_location_activity_id_activity"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_location")),
    )
    with op.batch_alter_table("location", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_location_activity_id"), ["activity_id"], unique=False)
        batch_op.create_index(
            "ix_location_latitude_longitude", ["latitude", "longitude", "activity_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_location_postcode"), ["postcode"], unique=False)

    op.create_table(
        "schedule",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("activity_id", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("freq", sa.String(length=8), nullable=True),
        sa.Column("interval", sa.Integer(), nullable=True),
        sa.Column("byday", sa.String(length=64), nullable=True),
        sa.Column("opens_at", sa.String(length=8), nullable=True),
        sa.Column("closes_at", sa.String(length=8), nullable=True),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("description", sa.String(), nullable=True),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["activity.id"],
            name=op.f("fk_schedule_activity_id_activity"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_schedule")),
    )
    with op.batch_alter_table("schedule", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_schedule_activity_id"), ["activity_id"], unique=False)

    op.create_table(
        "service_area",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("activity_id", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=True),
        sa.Column("name", sa.String(), nullable=True),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["activity.id"],
            name=op.f("fk_service_area_activity_id_activity"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_area")),
    )
    with op.batch_alter_table("service_area", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_service_area_activity_id"), ["activity_id"], unique=False
        )
        batch_op.create_index("ix_service_area_code", ["code", "activity_id"], unique=False)


def downgrade() -> None:
    for table in (
        "service_area",
        "schedule",
        "location",
        "cost_option",
        "activity_need",
        "activity_language",
        "activity_category",
        "activity",
        "postcode_district",
        "postcode",
        "organisation",
        "lsoa_deprivation",
    ):
        op.drop_table(table)
