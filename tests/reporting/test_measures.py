"""The reports' measure names are defined once (app/reporting/measures.py) and everything that
lists them (summary columns, monthly sums, the published figures) derives from there."""

from __future__ import annotations

from sqlalchemy import SmallInteger

from app.reporting import measures, repository, summary
from app.reporting.models import ReportReferral


def test_every_flag_is_a_0_or_1_column_of_the_referral_summary() -> None:
    columns = ReportReferral.__table__.columns
    flags = [c.name for c in columns if isinstance(c.type, SmallInteger)]
    assert tuple(flags) == measures.FLAGS


def test_sums_and_columns_derive_from_the_measures() -> None:
    assert repository.MONTH_SUMS[: len(measures.COUNTS)] == measures.COUNTS
    assert summary.FLAG_COLUMNS[: len(measures.FLAGS)] == measures.FLAGS
    assert measures.COUNTS[0] == measures.RECEIVED
    assert set(measures.REFERRAL_REPORT) | set(measures.EQUITY_REPORT) == {
        *measures.COUNTS,
        measures.FIRST_CONTACT,
    }
    assert repository.MONTH_SUMS[len(measures.COUNTS)] == measures.WITH_FIRST_CONTACT
