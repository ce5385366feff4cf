"""Every word the dashboard shows for a code, in one place (issue 18: labels in words).

The reports (JSON, CSV) keep their codes: figure names (``received``), dimensions
(``imd_quintile``), group labels (``2026-03``, ``loneliness-isolation``). The dashboard shows
these words instead: need and activity-category codes by their CodeSystem displays
(``app/terminology``), months as ``Mar 2026``, IMD quintile 1 as ``1 — most deprived``. ODS codes
(practices, link-worker services) are organisations' own names for themselves and stay as they
are.
"""

# ruff: noqa: RUF001, RUF002 (words for people: the en dashes and curly quotes are meant)

from __future__ import annotations

import datetime as dt

from app.outcomes import instruments
from app.reporting.service import GAP
from app.terminology import codesystems

FIGURES: dict[str, str] = {
    # referrals
    "received": "Referrals received",
    "accepted": "Accepted by the link-worker service",
    "rejected": "Rejected by the service",
    "declined": "Declined by the person",
    "booked": "Booked on an activity",
    "attended": "Attended an activity",
    "completed": "Completed",
    "first_contact": "First contact made",
    "median_days_to_first_contact": "Median days to first contact",
    # outcomes
    "people": "People with a baseline and a follow-up",
    "mean_baseline": "Mean at baseline",
    "mean_follow_up": "Mean at follow-up",
    "mean_change": "Mean change",
    "ci_lower": "95% interval, lower",
    "ci_upper": "95% interval, upper",
    "share_reliable_improvement": "Reliably improved (%)",
    "with_baseline": "People with a baseline",
    "paired": "With a follow-up too",
    "share_paired": "Baseline and follow-up (%)",
    # equity
    "referrals": "Referrals received",
    "referral_share": "Share of referrals (%)",
    "engaged": "Engaged (first contact or booking)",
    "engagement_rate": "Engagement rate (%)",
    "completion_rate": "Completion rate (%)",
    "wellbeing_people": "People with a wellbeing baseline and follow-up",
    "mean_wellbeing_change": "Mean wellbeing change (SWEMWBS)",
    "wellbeing_ci_lower": "95% interval, lower",
    "wellbeing_ci_upper": "95% interval, upper",
}

DIMENSIONS: dict[str, str] = {
    "month": "Month",
    "quarter": "Quarter",
    "practice": "GP practice (ODS code)",
    "performer": "Link-worker service (ODS code)",
    "need": "Need",
    "activity_category": "Activity category",
    "imd_quintile": "Deprivation (IMD quintile)",
    "imd_decile": "Deprivation (IMD decile)",
    "age_band": "Age",
    "sex": "Sex",
    "route": "How follow-up was asked for",
}
ROUTES = {"link-worker": "By the link worker", "link": "Sent a questionnaire link"}

MEASURES: dict[tuple[str, str], str] = {
    ("SWEMWBS", "metric"): "SWEMWBS mental wellbeing (metric score 7–35)",
    ("WEMWBS", "total"): "WEMWBS mental wellbeing (total 14–70)",
    ("UCLA3", "total"): "UCLA loneliness (total 3–9, lower is better)",
    ("ONS4", "life_satisfaction"): "ONS life satisfaction (0–10)",
    ("ONS4", "worthwhile"): "ONS things done are worthwhile (0–10)",
    ("ONS4", "happy"): "ONS happiness yesterday (0–10)",
    ("ONS4", "anxious"): "ONS anxiety yesterday (0–10, lower is better)",
}

SEX = {"female": "Female", "male": "Male", "other": "Other"}
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
ALL = "all"  # the reports' label of a margin (a rolled-up dimension)


def figure(name: str) -> str:
    return FIGURES[name]


def dimension(name: str) -> str:
    return DIMENSIONS[name]


def measure(instrument: str, measure: str) -> str:
    """An instrument's score in words; one not listed by its instrument's name and the score."""
    known = MEASURES.get((instrument, measure))
    if known is not None:
        return known
    spec = instruments.INSTRUMENTS.get(instrument)
    return f"{spec.name if spec else instrument}: {measure.replace('_', ' ')}"


def _displays(codesystem_id: str) -> dict[str, str]:
    return {c.code: c.display for c in codesystems.load(codesystem_id).concepts}


def _deprivation(label: str, last: str) -> str:
    if label == "1":
        return "1 — most deprived"
    return f"{label} — least deprived" if label == last else label


def month(label: str) -> str:
    """``2026-03`` -> ``Mar 2026``."""
    year, number = label.split("-")
    return f"{MONTHS[int(number) - 1]} {year}"


def quarter(label: str) -> str:
    """``2026-Q1`` -> ``Jan–Mar 2026``."""
    year, q = label.split("-Q")
    first = (int(q) - 1) * 3
    return f"{MONTHS[first]}–{MONTHS[first + 2]} {year}"


def value(dimension_name: str, label: str) -> str:
    """A group label in words: ``value("need", "low-mood")`` -> ``Low mood``."""
    if label == ALL:
        return "All"
    if label == "unknown":
        return "Not known"
    if dimension_name == "imd_quintile" and label == GAP:
        return "Gap: most minus least deprived"
    if dimension_name == "need":
        return "No need recorded" if label == "none" else _displays(codesystems.NEED)[label]
    if dimension_name == "activity_category":
        if label == "none":
            return "No categorised activity booked"
        return _displays(codesystems.ACTIVITY_CATEGORY)[label]
    if dimension_name == "month":
        return month(label)
    if dimension_name == "quarter":
        return quarter(label)
    if dimension_name == "imd_quintile":
        return _deprivation(label, "5")
    if dimension_name == "imd_decile":
        return _deprivation(label, "10")
    if dimension_name == "age_band":
        return "75 and over" if label == "75+" else label.replace("-", "–")
    if dimension_name == "sex":
        return SEX.get(label, label)
    if dimension_name == "route":
        return ROUTES[label]
    return label  # practice, performer: ODS codes


def day(value: dt.date) -> str:
    """``2026-03-01`` -> ``1 Mar 2026``."""
    return f"{value.day} {MONTHS[value.month - 1]} {value.year}"


def number(value: float | None) -> str:
    """A published figure as shown: thousands separated, at most 2 decimals, ``–`` for none."""
    if value is None:
        return "–"
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")
