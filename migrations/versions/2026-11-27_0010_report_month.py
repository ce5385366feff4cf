"""report month: monthly partial aggregates of the report summary rows

``report_month`` (referral counts) and ``report_month_change`` (outcome change sums) per
calendar month and set of at most two base dimensions, kept by ``app.reporting.summary.refresh``
in the transaction that rewrites the summary rows (docs/reports.md "Monthly partials").
The refresh keeps them by difference (the old summary rows' aggregates off, the new ones'
on), so they must start equal to the summary rows: upgrading empties the summary tables and
queues every referral, and the first refresh (a report, or ``assetlink refresh-reports``)
rebuilds both.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-27
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KEY = ("practice", "performer", "imd_decile", "age_band", "sex", "need", "category")
# first contacts per bucket of days (app.reporting.repository.DAY_BOUNDS: 63 bounds)
DAY_BUCKETS = tuple(f"days_{i:02d}" for i in range(64))
# the median statement reads the first contacts of a few buckets of days: index-only scans
FIRST_CONTACT_INCLUDE = (
    "authored_on",
    "month",
    "quarter",
    "practice",
    "performer",
    "imd_decile",
    "age_band",
    "sex",
)
SUMMARIES = ("report_change", "report_category", "report_need", "report_referral")


def _key_columns() -> list[sa.Column[Any]]:
    return [
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("dims", sa.String(length=40), nullable=False),
        sa.Column("month", sa.String(length=8), nullable=False),
        sa.Column("quarter", sa.String(length=8), nullable=False),
        sa.Column("practice", sa.String(length=32), nullable=False),
        sa.Column("performer", sa.String(length=32), nullable=False),
        sa.Column("imd_decile", sa.Integer(), nullable=False),
        sa.Column("age_band", sa.String(length=8), nullable=False),
        sa.Column("sex", sa.String(length=16), nullable=False),
        sa.Column("need", sa.String(length=32), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "report_month",
        *_key_columns(),
        *(
            sa.Column(name, sa.Integer(), nullable=False)
            for name in (
                "received",
                "accepted",
                "rejected",
                "declined",
                "booked",
                "attended",
                "completed",
                "engaged",
                "with_first_contact",
                *DAY_BUCKETS,
            )
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_month")),
    )
    with op.batch_alter_table("report_month", schema=None) as batch_op:
        batch_op.create_index("uq_report_month_key", ["dims", "month", *KEY], unique=True)
    op.create_table(
        "report_month_change",
        *_key_columns(),
        sa.Column("instrument", sa.String(length=32), nullable=False),
        sa.Column("measure", sa.String(length=32), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("sum_baseline", sa.Float(), nullable=False),
        sa.Column("sum_follow_up", sa.Float(), nullable=False),
        sa.Column("sum_change", sa.Float(), nullable=False),
        sa.Column("sum_squares", sa.Float(), nullable=False),
        sa.Column("improved", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_month_change")),
    )
    with op.batch_alter_table("report_month_change", schema=None) as batch_op:
        batch_op.create_index(
            "uq_report_month_change_key",
            ["dims", "instrument", "measure", "month", *KEY],
            unique=True,
        )
    for table, include in (
        ("report_referral", FIRST_CONTACT_INCLUDE),
        ("report_need", ("need", *FIRST_CONTACT_INCLUDE)),
    ):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(
                f"ix_{table}_first_contact",
                ["first_contact_days"],
                unique=False,
                postgresql_include=list(include),
                postgresql_where=sa.text("first_contact_days IS NOT NULL"),
                sqlite_where=sa.text("first_contact_days IS NOT NULL"),
            )
    # the partials are kept by difference from the summary rows: rebuild both from scratch
    if op.get_bind().dialect.name == "postgresql":
        # room on each page: a refresh updates partial rows in place (HOT, no index touched)
        op.execute("ALTER TABLE report_month SET (fillfactor = 90)")
        op.execute("ALTER TABLE report_month_change SET (fillfactor = 90)")
        op.execute(f"TRUNCATE {', '.join(SUMMARIES)}")
    else:
        for table in SUMMARIES:
            op.execute(f"DELETE FROM {table}")  # noqa: S608 (constant table names)
    op.execute("INSERT INTO report_dirty (referral_id) SELECT id FROM referral")


def downgrade() -> None:
    for table in ("report_need", "report_referral"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(
                f"ix_{table}_first_contact",
                sqlite_where=sa.text("first_contact_days IS NOT NULL"),
            )
    with op.batch_alter_table("report_month_change", schema=None) as batch_op:
        batch_op.drop_index("uq_report_month_change_key")
    op.drop_table("report_month_change")
    with op.batch_alter_table("report_month", schema=None) as batch_op:
        batch_op.drop_index("uq_report_month_key")
    op.drop_table("report_month")
