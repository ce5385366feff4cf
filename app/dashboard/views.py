"""The dashboard's pages as data: published reports -> sections of charts and tables.

Each page names the reports it shows (``Page.reports``: report and ``group_by``, the report
API's own); the router asks ``app.reporting.service`` for them, exactly as the API would answer,
and ``Page.build`` turns them into sections. Every table cell carries the figure and group it
shows, and only the published value: nothing here computes a figure, except the equity page's
sentences, which put into words the gap row the report publishes.
"""

# ruff: noqa: RUF001 (words for people: the en dashes and curly quotes are meant)

from __future__ import annotations

import urllib.parse
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from app.dashboard import charts, labels
from app.reporting.disclosure import DisclosureRules
from app.reporting.repository import NONE
from app.reporting.service import GAP, Report, Row
from app.terminology import codesystems

ALL = labels.ALL
FUNNEL = (
    "received",
    "accepted",
    "first_contact",
    "booked",
    "attended",
    "completed",
    "declined",
    "rejected",
)
TREND = ("received", "accepted", "booked", "attended", "completed")
REFERRAL_FIGURES = (*FUNNEL, "median_days_to_first_contact")
OUTCOME_FIGURES = (
    "people",
    "mean_baseline",
    "mean_follow_up",
    "mean_change",
    "ci_lower",
    "ci_upper",
    "share_reliable_improvement",
)
COUNT_FIGURES = frozenset(
    {*FUNNEL, "people", "referrals", "engaged", "wellbeing_people", "with_baseline", "paired"}
)  # the others are statistics or rates
OUTCOME_DIMENSIONS = ("need", "practice", "performer", "age_band", "sex")
# the needs the directory page can chart, in the CodeSystem's order, and the report's "none"
NEEDS = (*(c.code for c in codesystems.load(codesystems.NEED).concepts), NONE)


@dataclass(frozen=True)
class Cell:
    key: tuple[str, ...]  # the group (the report row's labels in group_by order)
    figure: str
    value: float | int | None
    suppressed: bool


Pair = tuple[Cell, Cell]  # two figures of one group in one table cell ("booked / attended")


@dataclass(frozen=True)
class Table:
    caption: str
    report: str
    row_header: str
    columns: list[str]  # the column headers, in words
    rows: list[tuple[str, list[Cell | Pair | None]]]  # (row header in words, the cells)
    instrument: str | None = None
    measure: str | None = None

    @property
    def cells(self) -> list[Cell]:
        found: list[Cell] = []
        for _, cells in self.rows:
            for c in cells:
                found += [] if c is None else list(c) if isinstance(c, tuple) else [c]
        return found


@dataclass(frozen=True)
class Exhibit:
    """A chart and the table of the same figures beside it."""

    heading: str
    chart: str  # SVG markup (``app.dashboard.charts``)
    table: Table


@dataclass
class Section:
    slug: str
    heading: str
    report: Report
    exhibits: list[Exhibit] = field(default_factory=list)
    sentences: list[str] = field(default_factory=list)

    @property
    def csv_url(self) -> str:
        """The report API's URL for the same figures (the CSV button asks it for text/csv)."""
        params = [
            ("from", self.report.start.isoformat()),
            ("to", self.report.end.isoformat()),
            *(("group_by", d) for d in self.report.group_by),
        ]
        return f"/api/v1/reports/{self.report.name}?{urllib.parse.urlencode(params)}"

    @property
    def cells(self) -> list[Cell]:
        return [c for e in self.exhibits for c in e.table.cells]


def notes(section: Section) -> list[str]:
    """Why a figure is not shown, with the thresholds of the report's own disclosure rules."""
    rules: DisclosureRules = section.report.rules
    cells = section.cells
    found: list[str] = []
    if any(c.figure in COUNT_FIGURES for c in cells):
        found.append(
            f"Counts are rounded to the nearest {rules.round_to}; a count of 1 to "
            f"{rules.suppress_below - 1} people is not shown (“suppressed”)."
        )
    if any(c.suppressed for c in cells):
        found.append(
            "Where one count in a row or column of a table is suppressed, the next smallest is "
            "suppressed too, so that it cannot be worked out from the total."
        )
        if any(c.suppressed and c.figure not in COUNT_FIGURES for c in cells):
            found.append(
                f"Means, medians, changes and intervals need at least "
                f"{rules.min_n_for_statistics} people behind them; a percentage is shown only "
                "when the counts it is made of are."
            )
    if any(c.value is None and not c.suppressed for c in cells):
        found.append("“–”: no figure (no one to count, or no threshold for the measure).")
    return found


# Tables and charts ----------------------------------------------------------------------------


def _cell(row: Row, name: str, dims: Sequence[str]) -> Cell | None:
    f = row.figures.get(name)
    key = tuple(row.group[d] for d in dims)
    return None if f is None else Cell(key, name, f.value, f.suppressed)


def _pair(row: Row, names: tuple[str, str], dims: Sequence[str]) -> Pair | None:
    first, second = (_cell(row, n, dims) for n in names)
    return None if first is None or second is None else (first, second)


def _row_label(row: Row, dims: Sequence[str]) -> str:
    return ", ".join(labels.value(d, row.group[d]) for d in dims) or "All referrals"


def table(
    caption: str, report: Report, rows: Sequence[Row], figures: Sequence[str], **measure: str
) -> Table:
    """Rows of the report (one per group), a column per figure."""
    dims = report.group_by
    return Table(
        caption,
        report.name,
        " and ".join(labels.dimension(d) for d in dims) or "Group",
        [labels.figure(f) for f in figures],
        [(_row_label(r, dims), [_cell(r, f, dims) for f in figures]) for r in rows],
        measure.get("instrument"),
        measure.get("measure"),
    )


def _value(row: Row, name: str, dims: Sequence[str]) -> charts.Value:
    f = row.figures[name]
    return charts.Value(_row_label(row, dims), _float(f.value), f.suppressed)


def _float(value: float | int | None) -> float | None:
    return None if value is None else float(value)


def _groups(report: Report) -> list[Row]:
    """The rows of the groups themselves, without the margins and the gap."""
    return [r for r in report.rows if not {ALL, GAP} & set(r.group.values())]


def _series(rows: Sequence[Row], names: Sequence[str]) -> list[charts.Series]:
    return [
        charts.Series(
            labels.figure(n),
            [_float(r.figures[n].value) for r in rows],
            [r.figures[n].suppressed for r in rows],
        )
        for n in names
    ]


# Pages ----------------------------------------------------------------------------------------

ReportWanted = tuple[str, tuple[str, ...]]  # report name, group_by


@dataclass(frozen=True)
class Choices:
    """What a page's URL chooses beside the window: ``by``, a further grouping (the outcomes
    page); ``need``, the need whose activity categories the directory page charts."""

    by: str | None = None
    need: str | None = None


def _overview_reports(by: str | None) -> list[ReportWanted]:
    return [("referrals", ()), ("referrals", ("month",))]


def _overview(reports: Sequence[Report], choices: Choices) -> list[Section]:
    total, trend = reports
    funnel = Section("funnel", "Referrals, from received to completed", total)
    (row,) = total.rows
    funnel.exhibits.append(
        Exhibit(
            "The referral funnel",
            charts.bars(
                "chart-funnel",
                "Referrals at each step",
                [charts.Value(labels.figure(n), *_shown(row, n)) for n in FUNNEL],
                description=_describe([labels.figure(n) for n in FUNNEL], row, FUNNEL),
            ),
            Table(
                "Referrals at each step",
                total.name,
                "Step",
                ["Referrals"],
                [(labels.figure(n), [_cell(row, n, [])]) for n in REFERRAL_FIGURES],
            ),
        )
    )
    months = Section("trend", "Referrals by month", trend)
    rows = _groups(trend)
    months.exhibits.append(
        Exhibit(
            "Trend by month",
            charts.lines(
                "chart-trend",
                "Referrals by month",
                [labels.month(r.group["month"]) for r in rows],
                _series(rows, TREND),
                description="Referrals received, accepted, booked, attended and completed, "
                "by the month the referral was made.",
            ),
            table("Referrals by month", trend, trend.rows, REFERRAL_FIGURES),
        )
    )
    return [funnel, months]


def _shown(row: Row, name: str) -> tuple[float | None, bool]:
    f = row.figures[name]
    return _float(f.value), f.suppressed


def _describe(names: Sequence[str], row: Row, figures: Sequence[str]) -> str:
    parts = []
    for label, name in zip(names, figures, strict=True):
        f = row.figures[name]
        parts.append(f"{label}: {'suppressed' if f.suppressed else labels.number(f.value)}")
    return "; ".join(parts) + "."


def _outcomes_reports(by: str | None) -> list[ReportWanted]:
    return [
        ("outcomes", ("quarter",)),
        *([("outcomes", (by,))] if by else []),
        ("paired-completion", ("route",)),
    ]


def _outcome_section(report: Report) -> Section:
    (dim,) = report.group_by
    section = Section(
        f"by-{dim}", f"Change in wellbeing by {labels.dimension(dim).lower()}", report
    )
    found = dict.fromkeys((r.instrument or "", r.measure or "") for r in report.rows)
    order = list(labels.MEASURES)  # SWEMWBS first: the wellbeing measure the equity view uses
    measures = sorted(found, key=lambda m: order.index(m) if m in order else len(order))
    for instrument, measure in measures:
        mine = [r for r in report.rows if (r.instrument, r.measure) == (instrument, measure)]
        name = labels.measure(instrument, measure)
        points = [
            charts.Interval(
                _row_label(r, [dim]),
                _float(r.figures["mean_change"].value),
                _float(r.figures["ci_lower"].value),
                _float(r.figures["ci_upper"].value),
                r.figures["mean_change"].suppressed,
            )
            for r in mine
        ]
        section.exhibits.append(
            Exhibit(
                name,
                charts.intervals(
                    f"chart-{dim}-{instrument}-{measure}".lower(),
                    f"Mean change: {name}",
                    points,
                    description=f"Mean change from baseline to follow-up in {name}, with its "
                    f"95% interval, by {labels.dimension(dim).lower()}.",
                ),
                table(
                    f"{name} by {labels.dimension(dim).lower()}",
                    report,
                    mine,
                    OUTCOME_FIGURES,
                    instrument=instrument,
                    measure=measure,
                ),
            )
        )
        shares = [r.figures["share_reliable_improvement"] for r in mine]
        if any(f.value is not None or f.suppressed for f in shares):  # it has a threshold
            section.exhibits.append(_reliable(report, mine, instrument, measure))
    if not measures:
        section.sentences.append("No one has a baseline and a follow-up in this window.")
    return section


def _reliable(report: Report, rows: Sequence[Row], instrument: str, measure: str) -> Exhibit:
    (dim,) = report.group_by
    name = labels.measure(instrument, measure)
    by = labels.dimension(dim).lower()
    return Exhibit(
        f"{name}: reliably improved",
        charts.bars(
            f"chart-{dim}-{instrument}-{measure}-reliable".lower(),
            f"Reliably improved: {name}",
            [_value(r, "share_reliable_improvement", [dim]) for r in rows],
            description=f"The percentage of people whose {name} improved by at least the "
            f"instrument's reliable-change threshold, by {by}.",
            unit="%",
        ),
        table(
            f"{name}: reliably improved, by {by}",
            report,
            rows,
            ("people", "share_reliable_improvement"),
            instrument=instrument,
            measure=measure,
        ),
    )


def _completion_section(report: Report) -> Section:
    """Paired completion by route (app/reporting/completion.py)."""
    section = Section("paired-completion", "Baseline and follow-up, by route", report)
    rows = [r for r in report.rows if r.group["route"] != ALL]
    section.exhibits.append(
        Exhibit(
            "Baseline and follow-up",
            charts.bars(
                "chart-paired-completion",
                "People with a baseline who have a follow-up too",
                [_value(r, "share_paired", ["route"]) for r in rows],
                description="The percentage of people with a baseline questionnaire who also "
                "have a follow-up, for people sent a questionnaire link and people not sent one.",
                unit="%",
            ),
            table(
                "Baseline and follow-up, by route",
                report,
                report.rows,
                ("with_baseline", "paired", "share_paired"),
            ),
        )
    )
    return section


def _outcomes(reports: Sequence[Report], choices: Choices) -> list[Section]:
    return [
        _completion_section(r) if r.name == "paired-completion" else _outcome_section(r)
        for r in reports
    ]


def _equity_reports(by: str | None) -> list[ReportWanted]:
    return [("equity", ("imd_quintile",)), ("referrals", ("imd_decile",))]


EQUITY_TABLES = (
    ("Share of referrals", ("referrals", "referral_share")),
    ("Engagement and completion", ("engaged", "engagement_rate", "completed", "completion_rate")),
    (
        "Change in wellbeing",
        ("wellbeing_people", "mean_wellbeing_change", "wellbeing_ci_lower", "wellbeing_ci_upper"),
    ),
)


def _equity(reports: Sequence[Report], choices: Choices) -> list[Section]:
    equity, deciles = reports
    section = Section("quintiles", "By deprivation of the area people live in", equity)
    rows = _groups(equity)
    dims = equity.group_by
    share, rates, wellbeing = EQUITY_TABLES
    section.exhibits += [
        Exhibit(
            share[0],
            charts.bars(
                "chart-share",
                "Share of referrals by IMD quintile",
                [_value(r, "referral_share", dims) for r in rows],
                description="The percentage of referrals from each fifth of areas, most to "
                "least deprived.",
                unit="%",
            ),
            table(share[0], equity, equity.rows, share[1]),
        ),
        Exhibit(
            rates[0],
            charts.grouped_bars(
                "chart-rates",
                "Engagement and completion rates by IMD quintile",
                [_row_label(r, dims) for r in rows],
                _series(rows, ("engagement_rate", "completion_rate")),
                description="The percentage of referrals that engaged and that completed, for "
                "each fifth of areas.",
                unit="%",
            ),
            table(rates[0], equity, equity.rows, rates[1]),
        ),
        Exhibit(
            wellbeing[0],
            charts.intervals(
                "chart-wellbeing",
                "Mean change in SWEMWBS wellbeing by IMD quintile",
                [
                    charts.Interval(
                        _row_label(r, dims),
                        _float(r.figures["mean_wellbeing_change"].value),
                        _float(r.figures["wellbeing_ci_lower"].value),
                        _float(r.figures["wellbeing_ci_upper"].value),
                        r.figures["mean_wellbeing_change"].suppressed,
                    )
                    for r in rows
                ],
                description="Mean change in SWEMWBS metric score with its 95% interval, for each "
                "fifth of areas.",
            ),
            table(wellbeing[0], equity, equity.rows, wellbeing[1]),
        ),
    ]
    section.sentences += gap_sentences(equity)
    by_decile = Section("deciles", "Referrals by IMD decile", deciles)
    rows = _groups(deciles)
    by_decile.exhibits.append(
        Exhibit(
            "Referrals by IMD decile",
            charts.bars(
                "chart-deciles",
                "Referrals by IMD decile",
                [_value(r, "received", deciles.group_by) for r in rows],
                description="Referrals received from each tenth of areas, most to least deprived.",
            ),
            table("Referrals by IMD decile", deciles, deciles.rows, ("received",)),
        )
    )
    return [section, by_decile]


GAP_WORDS = {
    "referral_share": ("share of referrals", "%", "percentage points"),
    "engagement_rate": ("engagement rate", "%", "percentage points"),
    "completion_rate": ("completion rate", "%", "percentage points"),
    "mean_wellbeing_change": ("mean change in wellbeing (SWEMWBS)", "", "points"),
}


def gap_sentences(equity: Report) -> list[str]:
    """The gap between the most and least deprived fifth of areas, in words, from the published
    quintile 1 and 5 figures and the published gap row only."""
    by = {r.group["imd_quintile"]: r for r in equity.rows if len(equity.group_by) == 1}
    most, least, gap = by.get("1"), by.get("5"), by.get(GAP)
    sentences = []
    for name, (words, unit, difference) in GAP_WORDS.items():
        figures = [r.figures.get(name) if r else None for r in (most, least, gap)]
        if any(f is None or f.value is None for f in figures):
            sentences.append(
                f"The gap in {words} between the most and least deprived areas cannot be given: "
                "a figure it needs is suppressed or not available."
            )
            continue
        a, b, d = (float(f.value) for f in figures if f is not None and f.value is not None)
        direction = "higher" if d > 0 else "lower" if d < 0 else "the same"
        size = f"{labels.number(abs(d))} {difference} {direction}" if d else "the same"
        sentences.append(
            f"In the most deprived fifth of areas the {words} is {labels.number(a)}{unit}, "
            f"against {labels.number(b)}{unit} in the least deprived: {size}."
        )
    return sentences


def _directory_reports(by: str | None) -> list[ReportWanted]:
    return [
        ("referrals", ("activity_category",)),
        ("referrals", ("need",)),
        ("referrals", ("activity_category", "need")),
    ]


def _use(report: Report, slug: str) -> Section:
    (dim,) = report.group_by
    section = Section(slug, f"By {labels.dimension(dim).lower()}", report)
    rows = _groups(report)
    heading = f"Referrals booked and attended, by {labels.dimension(dim).lower()}"
    section.exhibits.append(
        Exhibit(
            heading,
            charts.grouped_bars(
                f"chart-{slug}",
                heading,
                [_row_label(r, [dim]) for r in rows],
                _series(rows, ("booked", "attended")),
                description=f"Referrals booked on an activity and referrals that attended one, "
                f"by {labels.dimension(dim).lower()}.",
            ),
            table(heading, report, report.rows, ("received", "booked", "attended")),
        )
    )
    return section


def _ordered(found: Sequence[str]) -> list[str]:
    """Labels in the reports' order: codes sorted, ``none`` last, ``all`` after it."""
    last = {NONE: 1, ALL: 2}
    return sorted(set(found), key=lambda label: (last.get(label, 0), label))


def _by_need(report: Report, need: str | None) -> Section:
    """Activity categories (rows) by need (columns), each cell "booked / attended", margins
    included; the chart shows one need's categories (``need``; by default the table's first)."""
    dims = report.group_by  # activity_category, need
    section = Section("category-need", "By activity category and need", report)
    rows = {(r.group[dims[0]], r.group[dims[1]]): r for r in report.rows}
    categories = _ordered([c for c, _ in rows])
    needs = _ordered([n for _, n in rows])
    cells: list[tuple[str, list[Cell | Pair | None]]] = []
    for category in categories:
        line: list[Cell | Pair | None] = []
        for n in needs:
            row = rows.get((category, n))
            line.append(None if row is None else _pair(row, ("booked", "attended"), dims))
        cells.append((labels.value(dims[0], category), line))
    charted = need or next((n for n in needs if n != ALL), NONE)
    shown = [rows[(c, charted)] for c in categories if c != ALL and (c, charted) in rows]
    words = labels.value(dims[1], charted)
    heading = "Referrals booked / attended, by activity category and need"
    section.exhibits.append(
        Exhibit(
            heading,
            charts.grouped_bars(
                "chart-category-need",
                f"Booked and attended by activity category: {words}",
                [_row_label(r, dims[:1]) for r in shown],
                _series(shown, ("booked", "attended")),
                description=f"Referrals with the need “{words}” booked on an activity of each "
                "category and referrals that attended one.",
            ),
            Table(
                heading,
                report.name,
                labels.dimension(dims[0]),
                [labels.value(dims[1], n) for n in needs],
                cells,
            ),
        )
    )
    section.sentences.append(
        f"The chart shows the need “{words}”; choose another need above (“Need in the chart”). "
        "Each cell of the table is booked / attended; a referral with several needs, or booked "
        "on activities of several categories, is in each of its cells."
    )
    return section


def _directory(reports: Sequence[Report], choices: Choices) -> list[Section]:
    categories, needs, both = reports
    return [
        _use(categories, "categories"),
        _use(needs, "needs"),
        _by_need(both, choices.need),
    ]


@dataclass(frozen=True)
class Page:
    slug: str
    title: str
    summary: str
    by_options: tuple[str, ...]
    reports: Callable[[str | None], list[ReportWanted]]
    build: Callable[[Sequence[Report], Choices], list[Section]]
    needs: bool = False  # a need chooser (``need``) for a chart


PAGES: dict[str, Page] = {
    p.slug: p
    for p in (
        Page(
            "overview",
            "Overview",
            "Referrals from received to completed, and by month.",
            (),
            _overview_reports,
            _overview,
        ),
        Page(
            "outcomes",
            "Outcomes",
            "Change in wellbeing and loneliness between baseline and follow-up.",
            OUTCOME_DIMENSIONS,
            _outcomes_reports,
            _outcomes,
        ),
        Page(
            "equity",
            "Equity",
            "Referrals, engagement, completion and wellbeing by deprivation.",
            (),
            _equity_reports,
            _equity,
        ),
        Page(
            "directory",
            "Directory use",
            "Which activity categories people are booked on and attend, by need.",
            (),
            _directory_reports,
            _directory,
            needs=True,
        ),
    )
}
