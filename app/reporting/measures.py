"""The referral measures the reports count, named once (definitions: docs/reports.md).

Every referral is ``received``; each flag is 0 or 1 for it (a ``report_referral`` column), and a
group's figure is how many of its referrals had the flag.
"""

from __future__ import annotations

RECEIVED = "received"
ENGAGED = "engaged"  # first contact made or an activity booked
FLAGS = ("accepted", "rejected", "declined", "booked", "attended", "completed", ENGAGED)
COUNTS = (RECEIVED, *FLAGS)  # summed per group and month (report_month)
# referrals whose Task records a first contact (``first_contact_days`` set: the referrals the
# median days to first contact is over); the published figure, and its sum per group and month
FIRST_CONTACT = "first_contact"
WITH_FIRST_CONTACT = "with_first_contact"  # report_month's column, the repository's rows' key
# engagement is the equity report's; first contacts come after the flags (a CSV column added last)
REFERRAL_REPORT = (*(m for m in COUNTS if m != ENGAGED), FIRST_CONTACT)
EQUITY_REPORT = (RECEIVED, ENGAGED, "completed")
