"""booking cancelled reason: why a cancelled booking was cancelled

``booking-cancelled`` (cancelled by PATCH), ``referral-revoked`` or ``task-<status>`` (the
referral ended and its open bookings with it, DESIGN.md 5.2). Existing cancelled bookings were
all cancelled by PATCH before this revision, so they get ``booking-cancelled``.

Plain ``ADD COLUMN`` / ``DROP COLUMN`` (both native on SQLite 3.35+), not a batch copy of the
table: copying ``booking`` on SQLite would drop the report triggers of revision 0008.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("booking", sa.Column("cancelled_reason", sa.String(length=32), nullable=True))
    op.execute(
        "UPDATE booking SET cancelled_reason = 'booking-cancelled' WHERE status = 'cancelled'"
    )


def downgrade() -> None:
    op.drop_column("booking", "cancelled_reason")
