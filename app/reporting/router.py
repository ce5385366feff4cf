"""``/api/v1/reports``: aggregate figures for commissioners, disclosure-controlled."""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from app.auth.context import Context
from app.auth.dependencies import Caller, allowed
from app.auth.policy import Action
from app.db import SessionDep
from app.deps import SessionmakerDep, SettingsDep, WriteLockDep
from app.reporting import service, summary
from app.reporting.dependencies import SharedRefreshDep
from app.reporting.disclosure import DisclosureRules
from app.reporting.repository import Window
from app.reporting.schemas import ReportRead

router = APIRouter(prefix="/api/v1/reports", tags=["reports"])

CSV = "text/csv"
Refresh = Callable[[], Awaitable[object]]
CallerDep = Annotated[Caller, Depends(allowed(Action.REPORT_READ))]
FromQuery = Annotated[
    dt.date | None,
    Query(alias="from", description="first day (inclusive); default: 12 calendar months to `to`"),
]
ToQuery = Annotated[dt.date | None, Query(description="last day (inclusive); default: today")]
GroupByQuery = Annotated[
    list[str],
    Query(
        description="one or two of month, quarter, practice, performer, need, "
        "activity_category, imd_quintile, imd_decile, age_band, sex (repeated or comma-separated)"
    ),
]
RESPONSES: dict[int | str, dict[str, object]] = {
    200: {"content": {CSV: {"schema": {"type": "string"}}}},
    400: {"description": "unknown, repeated or too many group_by dimensions; bad dates"},
}


async def _rules(settings: SettingsDep) -> DisclosureRules:
    return service.disclosure_rules(settings)


async def _refresh(
    shared: SharedRefreshDep, sessionmaker: SessionmakerDep, write_lock: WriteLockDep
) -> Refresh:
    """The summary rows' refresh, with this process's sessionmaker and SQLite writer lock,
    shared by its concurrent report requests."""
    return functools.partial(
        shared.run, functools.partial(summary.refresh, sessionmaker, write_lock=write_lock)
    )


RulesDep = Annotated[DisclosureRules, Depends(_rules)]
RefreshDep = Annotated[Refresh, Depends(_refresh)]


def _read(report: service.Report) -> ReportRead:
    # validated in one call from plain data: a model built per figure costs more than the SQL
    # of a report with a few thousand rows
    return ReportRead.model_validate(
        {
            "report": report.name,
            "from": report.start,
            "to": report.end,
            "group_by": report.group_by,
            "disclosure": {
                "suppress_below": report.rules.suppress_below,
                "round_to": report.rules.round_to,
                "min_n": report.rules.min_n_for_statistics,
            },
            "rows": [
                {
                    "group": row.group,
                    "instrument": row.instrument,
                    "measure": row.measure,
                    "figures": {
                        k: {"value": f.value, "suppressed": f.suppressed}
                        for k, f in row.figures.items()
                    },
                }
                for row in report.rows
            ],
        }
    )


def render_csv(report: service.Report) -> str:
    """A header row, then one line per row: the group labels, every figure (empty when not
    published) and a ``suppressed`` column naming the figures withheld on that line."""
    with_measure = any(row.instrument is not None for row in report.rows)
    figures: list[str] = []
    for row in report.rows:
        figures += [name for name in row.figures if name not in figures]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    labels = [*report.group_by, *(["instrument", "measure"] if with_measure else [])]
    writer.writerow([*labels, *figures, "suppressed"])
    for row in report.rows:
        measure = [row.instrument or "", row.measure or ""] if with_measure else []
        cells = []
        for name in figures:
            figure = row.figures.get(name)
            cells.append("" if figure is None or figure.value is None else figure.value)
        hidden = " ".join(name for name, f in row.figures.items() if f.suppressed)
        writer.writerow([*(row.group[d] for d in report.group_by), *measure, *cells, hidden])
    return out.getvalue()


def _answer(request: Request, report: service.Report) -> ReportRead | Response:
    if CSV in request.headers.get("accept", ""):
        filename = f"{report.name}-{report.start}-{report.end}.csv"
        return Response(
            render_csv(report),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )
    return _read(report)


async def _inputs(
    refresh: Refresh, start: dt.date | None, end: dt.date | None, group_by: list[str]
) -> tuple[Window, list[str]]:
    dims = service.parse_group_by(group_by)
    w = service.window(start, end, dt.datetime.now(dt.UTC).date())
    # the summary rows of every referral changed since the last report, recomputed and
    # committed before the request's own session first reads (so its snapshot includes them)
    await refresh()
    return w, dims


@router.get(
    "/referrals",
    operation_id="reports-referrals",
    response_model=ReportRead,
    response_model_by_alias=True,
    responses=RESPONSES,
)
async def referrals_report(
    request: Request,
    session: SessionDep,
    caller: CallerDep,
    refresh: RefreshDep,
    rules: RulesDep,
    start: FromQuery = None,
    to: ToQuery = None,
    group_by: GroupByQuery = [],  # noqa: B006 (FastAPI copies the default)
) -> ReportRead | Response:
    """Referrals received, accepted, rejected, declined, booked, attended, completed; first
    contacts and the median days to first contact."""
    w, dims = await _inputs(refresh, start, to, group_by)
    return _answer(request, await service.referrals_report(session, w, dims, rules))


@router.get(
    "/outcomes",
    operation_id="reports-outcomes",
    response_model=ReportRead,
    response_model_by_alias=True,
    responses=RESPONSES,
)
async def outcomes_report(
    request: Request,
    session: SessionDep,
    caller: CallerDep,
    refresh: RefreshDep,
    rules: RulesDep,
    start: FromQuery = None,
    to: ToQuery = None,
    group_by: GroupByQuery = [],  # noqa: B006 (FastAPI copies the default)
) -> ReportRead | Response:
    """Per instrument score: people, mean scores, mean change with 95% CI, reliable change."""
    w, dims = await _inputs(refresh, start, to, group_by)
    return _answer(request, await service.outcomes_report(session, w, dims, rules))


@router.get(
    "/paired-completion",
    operation_id="reports-paired_completion",
    response_model=ReportRead,
    response_model_by_alias=True,
    responses=RESPONSES,
)
async def paired_completion_report(
    request: Request,
    session: SessionDep,
    caller: CallerDep,
    rules: RulesDep,
    start: FromQuery = None,
    to: ToQuery = None,
) -> ReportRead | Response:
    """Of the people referred in the window with a baseline, how many have a follow-up too
    (paired completion), by route: sent a questionnaire link, or not (link worker)."""
    w = service.window(start, to, dt.datetime.now(dt.UTC).date())
    return _answer(request, await service.paired_completion_report(session, w, ["route"], rules))


@router.get(
    "/equity",
    operation_id="reports-equity",
    response_model=ReportRead,
    response_model_by_alias=True,
    responses=RESPONSES,
)
async def equity_report(
    request: Request,
    session: SessionDep,
    caller: CallerDep,
    refresh: RefreshDep,
    rules: RulesDep,
    start: FromQuery = None,
    to: ToQuery = None,
    group_by: GroupByQuery = [],  # noqa: B006 (FastAPI copies the default)
) -> ReportRead | Response:
    """By IMD quintile: referral share, engagement, completion, wellbeing, and the gap."""
    w, dims = await _inputs(refresh, start, to, group_by)
    return _answer(request, await service.equity_report(session, w, dims, rules))


@router.get(
    "/unsuitable",
    operation_id="reports-unsuitable",
    response_model=ReportRead,
    response_model_by_alias=True,
    responses=RESPONSES,
)
async def unsuitable_report(
    request: Request,
    session: SessionDep,
    caller: Annotated[Caller, Depends(allowed(Action.UNSUITABLE_READ))],
    rules: RulesDep,
    start: FromQuery = None,
    to: ToQuery = None,
) -> ReportRead | Response:
    """Matches marked not suitable, per activity and reason code, by the day they were marked: a
    provider's own activities, every activity for a commissioner; counts disclosure-controlled."""
    w = service.window(start, to, dt.datetime.now(dt.UTC).date())
    ctx = Context.of(request, caller)
    return _answer(request, await service.unsuitable_report(session, ctx, w, rules))
