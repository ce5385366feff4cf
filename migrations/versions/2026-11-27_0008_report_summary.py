"""report summary: per-referral fact rows, outcome changes, and the trigger-fed dirty queue

The tables are derived data, rebuilt by ``app.reporting.summary.refresh``. The triggers queue
the id of every referral whose report inputs a statement changes (docs/reports.md "Summary
tables"); autogenerate does not see triggers, so they are created and dropped here only.
Upgrading queues every existing referral: the first report afterwards builds the summaries.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27
"""

# ruff: noqa: S608 (DDL put together from the constant table list above)
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# table -> SQL of the referral ids affected by the rows of ``{rows}`` (a transition table on
# PostgreSQL; on SQLite a one-row SELECT of NEW./OLD. columns, see _sqlite_rows)
SOURCES: dict[str, tuple[tuple[str, ...], str]] = {
    "referral": (("id",), "SELECT x.id AS id FROM {rows} x"),
    "referral_need": (("referral_id",), "SELECT x.referral_id AS id FROM {rows} x"),
    "task": (("referral_id",), "SELECT x.referral_id AS id FROM {rows} x"),
    "booking": (("referral_id",), "SELECT x.referral_id AS id FROM {rows} x"),
    "outcome_score": (("referral_id",), "SELECT x.referral_id AS id FROM {rows} x"),
    "patient": (
        ("id",),
        "SELECT r.id AS id FROM referral r JOIN {rows} x ON r.patient_id = x.id",
    ),
    "postcode": (
        ("postcode",),
        "SELECT r.id AS id FROM referral r JOIN patient p ON p.id = r.patient_id "
        "JOIN {rows} x ON p.postcode = x.postcode",
    ),
    "lsoa_deprivation": (
        ("lsoa_code",),
        "SELECT r.id AS id FROM referral r JOIN patient p ON p.id = r.patient_id "
        "JOIN postcode pc ON pc.postcode = p.postcode JOIN {rows} x ON pc.lsoa_code = x.lsoa_code",
    ),
    "activity_category": (
        ("activity_id",),
        "SELECT b.referral_id AS id FROM booking b JOIN {rows} x ON b.activity_id = x.activity_id",
    ),
}
EVENTS = ("insert", "update", "delete")
EVERYTHING = (
    "INSERT INTO report_dirty (referral_id) "
    "SELECT id FROM referral UNION SELECT referral_id FROM report_referral"
)


def _postgres_function(table: str) -> str:
    _, affected = SOURCES[table]
    new = affected.format(rows="new_rows")
    old = affected.format(rows="old_rows")
    return f"""
    CREATE FUNCTION report_dirty_{table}() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP IN ('INSERT', 'UPDATE') THEN
            INSERT INTO report_dirty (referral_id)
            SELECT DISTINCT a.id FROM ({new}) AS a WHERE a.id IS NOT NULL;
        END IF;
        IF TG_OP IN ('UPDATE', 'DELETE') THEN
            INSERT INTO report_dirty (referral_id)
            SELECT DISTINCT a.id FROM ({old}) AS a WHERE a.id IS NOT NULL;
        END IF;
        RETURN NULL;
    END $$
    """


def _postgres_upgrade() -> None:
    op.execute(
        "CREATE FUNCTION report_dirty_everything() RETURNS trigger LANGUAGE plpgsql AS $$ "
        f"BEGIN {EVERYTHING}; RETURN NULL; END $$"
    )
    for table in SOURCES:
        op.execute(_postgres_function(table))
        for event in EVENTS:
            referencing = {
                "insert": "NEW TABLE AS new_rows",
                "update": "OLD TABLE AS old_rows NEW TABLE AS new_rows",
                "delete": "OLD TABLE AS old_rows",
            }[event]
            op.execute(
                f"CREATE TRIGGER report_dirty_{table}_{event} AFTER {event.upper()} ON {table} "
                f"REFERENCING {referencing} FOR EACH STATEMENT "
                f"EXECUTE FUNCTION report_dirty_{table}()"
            )
        # TRUNCATE has no transition table: every referral (and every summary row) is queued
        op.execute(
            f"CREATE TRIGGER report_dirty_{table}_truncate AFTER TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION report_dirty_everything()"
        )


def _postgres_downgrade() -> None:
    for table in SOURCES:
        for event in (*EVENTS, "truncate"):
            op.execute(f"DROP TRIGGER IF EXISTS report_dirty_{table}_{event} ON {table}")
        op.execute(f"DROP FUNCTION IF EXISTS report_dirty_{table}()")
    op.execute("DROP FUNCTION IF EXISTS report_dirty_everything()")


def _sqlite_rows(table: str, which: str) -> str:
    columns, _ = SOURCES[table]
    return "(SELECT " + ", ".join(f"{which}.{c} AS {c}" for c in columns) + ")"


def _sqlite_upgrade() -> None:
    for table, (_, affected) in SOURCES.items():
        for event in EVENTS:
            which = (
                ("NEW",) if event == "insert" else ("OLD",) if event == "delete" else ("OLD", "NEW")
            )
            body = " ".join(
                "INSERT INTO report_dirty (referral_id) SELECT a.id FROM ("
                + affected.format(rows=_sqlite_rows(table, w))
                + ") AS a WHERE a.id IS NOT NULL;"
                for w in which
            )
            op.execute(
                f"CREATE TRIGGER report_dirty_{table}_{event} AFTER {event.upper()} ON {table} "
                f"FOR EACH ROW BEGIN {body} END"
            )


def _sqlite_downgrade() -> None:
    for table in SOURCES:
        for event in EVENTS:
            op.execute(f"DROP TRIGGER IF EXISTS report_dirty_{table}_{event}")


def _referral_columns() -> list[sa.Column[Any]]:
    return [
        sa.Column("authored_on", sa.DateTime(timezone=True), nullable=False),
        sa.Column("month", sa.String(length=8), nullable=False),
        sa.Column("quarter", sa.String(length=8), nullable=False),
        sa.Column("practice", sa.String(length=32), nullable=False),
        sa.Column("performer", sa.String(length=32), nullable=False),
        sa.Column("imd_decile", sa.Integer(), nullable=True),
        sa.Column("age_band", sa.String(length=8), nullable=False),
        sa.Column("sex", sa.String(length=16), nullable=False),
        sa.Column("accepted", sa.SmallInteger(), nullable=False),
        sa.Column("rejected", sa.SmallInteger(), nullable=False),
        sa.Column("declined", sa.SmallInteger(), nullable=False),
        sa.Column("booked", sa.SmallInteger(), nullable=False),
        sa.Column("attended", sa.SmallInteger(), nullable=False),
        sa.Column("completed", sa.SmallInteger(), nullable=False),
        sa.Column("engaged", sa.SmallInteger(), nullable=False),
        sa.Column("first_contact_days", sa.Float(), nullable=True),
    ]


def upgrade() -> None:
    op.create_table(
        "report_referral",
        sa.Column("referral_id", sa.Uuid(), nullable=False),
        *_referral_columns(),
        sa.PrimaryKeyConstraint("referral_id", name=op.f("pk_report_referral")),
    )
    with op.batch_alter_table("report_referral", schema=None) as batch_op:
        batch_op.create_index("ix_report_referral_authored_on", ["authored_on"], unique=False)
    op.create_table(
        "report_need",
        sa.Column("referral_id", sa.Uuid(), nullable=False),
        sa.Column("need", sa.String(length=32), nullable=False),
        *_referral_columns(),
        sa.PrimaryKeyConstraint("referral_id", "need", name=op.f("pk_report_need")),
    )
    with op.batch_alter_table("report_need", schema=None) as batch_op:
        batch_op.create_index(
            "ix_report_need_authored_on", ["authored_on", "referral_id", "need"], unique=False
        )
    op.create_table(
        "report_category",
        sa.Column("referral_id", sa.Uuid(), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("authored_on", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("referral_id", "category", name=op.f("pk_report_category")),
    )
    with op.batch_alter_table("report_category", schema=None) as batch_op:
        batch_op.create_index("ix_report_category_authored_on", ["authored_on"], unique=False)
    op.create_table(
        "report_change",
        sa.Column("referral_id", sa.Uuid(), nullable=False),
        sa.Column("instrument", sa.String(length=32), nullable=False),
        sa.Column("measure", sa.String(length=32), nullable=False),
        sa.Column("baseline", sa.Float(), nullable=False),
        sa.Column("follow_up", sa.Float(), nullable=False),
        sa.Column("authored_on", sa.DateTime(timezone=True), nullable=False),
        sa.Column("month", sa.String(length=8), nullable=False),
        sa.Column("quarter", sa.String(length=8), nullable=False),
        sa.Column("practice", sa.String(length=32), nullable=False),
        sa.Column("performer", sa.String(length=32), nullable=False),
        sa.Column("imd_decile", sa.Integer(), nullable=True),
        sa.Column("age_band", sa.String(length=8), nullable=False),
        sa.Column("sex", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint(
            "referral_id", "instrument", "measure", name=op.f("pk_report_change")
        ),
    )
    with op.batch_alter_table("report_change", schema=None) as batch_op:
        batch_op.create_index("ix_report_change_authored_on", ["authored_on"], unique=False)
    op.create_table(
        "report_dirty",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("referral_id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_dirty")),
    )
    if op.get_bind().dialect.name == "postgresql":
        _postgres_upgrade()
    else:
        _sqlite_upgrade()
    op.execute("INSERT INTO report_dirty (referral_id) SELECT id FROM referral")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _postgres_downgrade()
    else:
        _sqlite_downgrade()
    op.drop_table("report_dirty")
    with op.batch_alter_table("report_change", schema=None) as batch_op:
        batch_op.drop_index("ix_report_change_authored_on")
    op.drop_table("report_change")
    with op.batch_alter_table("report_category", schema=None) as batch_op:
        batch_op.drop_index("ix_report_category_authored_on")
    op.drop_table("report_category")
    with op.batch_alter_table("report_need", schema=None) as batch_op:
        batch_op.drop_index("ix_report_need_authored_on")
    op.drop_table("report_need")
    with op.batch_alter_table("report_referral", schema=None) as batch_op:
        batch_op.drop_index("ix_report_referral_authored_on")
    op.drop_table("report_referral")
