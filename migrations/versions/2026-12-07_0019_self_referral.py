"""self-referral: a person without a known NHS number, and routing by postcode

A person who refers themselves (/refer, docs/self-referral.md) may not know their NHS number:
``patient.nhs_number`` becomes nullable (still unique when given; both databases allow many
NULLs under a unique constraint). ``postcode_route`` is the admin's table that routes a
self-referral to a link-worker service by the person's postcode (its longest matching prefix:
area, district or sector).

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


NOT_NULL = "nhs_number VARCHAR(10) NOT NULL"
NULLABLE = "nhs_number VARCHAR(10)"


def _nhs_number_nullable(nullable: bool) -> None:
    """``patient.nhs_number`` NULL or NOT NULL. SQLite cannot alter a column, and batch mode's
    copy-and-drop of ``patient`` trips the foreign keys of the rows referring to it; removing a
    NOT NULL constraint is one of the changes SQLite documents as an edit of the table's
    definition (https://sqlite.org/lang_altertable.html, "making other kinds of table schema
    changes"): the rows on disk do not change. Putting it back is only done on a table where
    every row has a value (checked first)."""
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        op.alter_column("patient", "nhs_number", existing_type=sa.String(10), nullable=nullable)
        return
    definition = bind.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'patient'"
    ).scalar_one()
    before, after = (NOT_NULL, NULLABLE) if nullable else (NULLABLE, NOT_NULL)
    if before not in definition:
        raise RuntimeError(f"patient's definition does not hold {before!r}: {definition}")
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar_one()
    bind.exec_driver_sql("PRAGMA writable_schema = ON")
    bind.exec_driver_sql(
        "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = 'patient'",
        (definition.replace(before, after, 1),),
    )
    bind.exec_driver_sql(f"PRAGMA schema_version = {int(version) + 1}")
    bind.exec_driver_sql("PRAGMA writable_schema = OFF")
    problems = bind.exec_driver_sql("PRAGMA integrity_check").scalars().all()
    if problems != ["ok"]:
        raise RuntimeError(f"patient after the change: {problems}")


def upgrade() -> None:
    _nhs_number_nullable(True)
    op.create_table(
        "postcode_route",
        sa.Column("prefix", sa.String(length=8), nullable=False),
        sa.Column("performer_ods", sa.String(length=32), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=256), nullable=False),
        sa.PrimaryKeyConstraint("prefix", name=op.f("pk_postcode_route")),
    )


def downgrade() -> None:
    op.drop_table("postcode_route")
    unknown = (
        op.get_bind()
        .exec_driver_sql("SELECT count(*) FROM patient WHERE nhs_number IS NULL")
        .scalar_one()
    )
    if unknown:
        raise RuntimeError(
            f"{unknown} people have no NHS number (self-referrals): the schema before 0019 "
            "cannot hold them; purge or complete them first"
        )
    _nhs_number_nullable(False)
