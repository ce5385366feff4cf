"""The referral measures the reports count, named once (definitions: docs/reports.md).

Every referral is ``received``; each flag is 0 or 1 for it (a ``report_referral`` column), and a
group's figure is how many of its referrals had the flag.
"""

from __future__ import annotations

RECEIVED = "received"
ENGAGED = "engaged"  # first contact made or an activity booked
FLAGS = ("accepted", "rejected", "declined", "booked", "attended", "completed", ENGAGED)
COUNTS = (RECEIVED, *FLAGS)  # summed per group and month (report_month)
REFERRAL_REPORT = tuple(m for m in COUNTS if m != ENGAGED)  # engagement: the equity report's
EQUITY_REPORT = (RECEIVED, ENGAGED, "completed")
