"""``/dashboard``: the commissioner's dashboard, HTML pages over the report API's figures.

A page (``/dashboard/overview``...) is a shell with no data: anyone may load it, and its script
fetches ``/dashboard/<page>/panel`` with the bearer token kept in the browser tab. The panel is
for the roles that may read the reports (``report.read``: commissioner, admin), with the same
dependencies as ``app/reporting/router.py``, so it shows what the API would publish. When the
page request itself carries a valid ``Authorization`` header (an OIDC-aware proxy in front, in
production), the panel is rendered inline and the page works without JavaScript. Filters are the
report API's ``from`` and ``to``, ``by`` on the pages that offer a grouping and ``need`` on the
one that charts a need; a bad one is a 400 page saying what is wrong.
"""

from __future__ import annotations

import datetime as dt
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from app.auth.dependencies import Caller, Credentials, allowed, get_principal
from app.auth.policy import Action, authorize
from app.dashboard import render
from app.dashboard.views import NEEDS, PAGES, Choices, Page
from app.db import SessionDep
from app.errors import AppError, BadRequest, Issue
from app.ops.middleware import DASHBOARD_ASSETS
from app.reporting import service
from app.reporting.router import Refresh, RefreshDep, RulesDep

STATIC = Path(__file__).parent / "static"
router = APIRouter(prefix="/dashboard", include_in_schema=False)
CallerDep = Annotated[Caller, Depends(allowed(Action.REPORT_READ))]
FromQuery = Annotated[str | None, Query(alias="from")]
SIGN_IN = "Sign in to see the figures."
FORBIDDEN = "This dashboard is for commissioners: your role cannot read the reports."
REPORTS = {
    "referrals": service.referrals_report,
    "outcomes": service.outcomes_report,
    "equity": service.equity_report,
    "paired-completion": service.paired_completion_report,
}


STATIC_URL = DASHBOARD_ASSETS  # no data in its paths: cacheable (app/ops/abuse.py)


def static_files() -> StaticFiles:
    """``/dashboard/static``: the style sheet and the script (mounted by ``app.main``)."""
    return StaticFiles(directory=STATIC)


@dataclass(frozen=True)
class Filters:
    start: dt.date | None
    end: dt.date | None
    by: str | None
    need: str | None = None

    def query(self) -> str:
        params = {"from": self.start, "to": self.end, "by": self.by, "need": self.need}
        return urllib.parse.urlencode({k: str(v) for k, v in params.items() if v})


def _date(name: str, raw: str | None) -> dt.date | None:
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise BadRequest(
            f"`{name}` must be a date written YYYY-MM-DD, such as 2026-03-01",
            [Issue("not a date", name, "value")],
        ) from None


def filters(
    page: Page, start: str | None, end: str | None, by: str | None, need: str | None = None
) -> Filters:
    """The page's filters, checked as the report API checks them (``BadRequest`` otherwise)."""
    found = Filters(_date("from", start), _date("to", end), by or None, need or None)
    if found.by is not None and found.by not in page.by_options:
        choice = ", ".join(page.by_options)
        raise BadRequest(
            f"`by` must be one of {choice}" if choice else f"The {page.title} page has no `by`",
            [Issue("not a grouping of this page", "by", "value")],
        )
    if found.need is not None and (not page.needs or found.need not in NEEDS):
        raise BadRequest(
            f"`need` must be one of {', '.join(NEEDS)}"
            if page.needs
            else f"The {page.title} page has no `need`",
            [Issue("not a need this page charts", "need", "value")],
        )
    service.window(found.start, found.end, _today())  # from after to, dates out of range
    return found


def _today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


async def _panel(
    page: Page, found: Filters, session: SessionDep, refresh: Refresh, rules: RulesDep
) -> str:
    w = service.window(found.start, found.end, _today())
    # as the report API: the summary rows refreshed and committed before this session reads
    await refresh()
    reports = [
        await REPORTS[name](session, w, list(dims), rules) for name, dims in page.reports(found.by)
    ]
    return render.panel(page.build(reports, Choices(found.by, found.need)), reports[0])


def _html(body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(body, status_code=status)


def _add_page(page: Page) -> None:
    async def shell(
        request: Request,
        credentials: Credentials,
        session: SessionDep,
        refresh: RefreshDep,
        rules: RulesDep,
        start: FromQuery = None,
        to: str | None = None,
        by: str | None = None,
        need: str | None = None,
    ) -> HTMLResponse:
        try:
            found = filters(page, start, to, by, need)
        except BadRequest as error:  # the page with the filters as given, to correct them
            given = {
                "start": start or "",
                "end": to or "",
                "by": by or "",
                "need": need or "",
                "panel_url": "",
            }
            return _html(render.shell(page, **given, message=error.message), 400)
        query = found.query()
        fields = {
            "start": str(found.start or ""),
            "end": str(found.end or ""),
            "by": found.by or "",
            "need": found.need or "",
            "panel_url": f"/dashboard/{page.slug}/panel" + (f"?{query}" if query else ""),
        }
        if credentials is None:
            return _html(render.shell(page, **fields))
        try:  # a proxy in front signed the user in: the figures go in the page
            authorize(await get_principal(request, credentials), Action.REPORT_READ)
        except AppError as error:
            text = FORBIDDEN if error.status == 403 else SIGN_IN
            return _html(render.shell(page, **fields, message=text), error.status)
        panel = await _panel(page, found, session, refresh, rules)
        return _html(render.shell(page, **fields, panel=panel))

    async def panel(
        caller: CallerDep,
        session: SessionDep,
        refresh: RefreshDep,
        rules: RulesDep,
        start: FromQuery = None,
        to: str | None = None,
        by: str | None = None,
        need: str | None = None,
    ) -> HTMLResponse:
        try:
            found = filters(page, start, to, by, need)
        except BadRequest as error:
            return _html(render.message(error.message), 400)
        return _html(await _panel(page, found, session, refresh, rules))

    shell.__doc__ = f"The {page.title} page: filters, and the figures when signed in."
    panel.__doc__ = f"The {page.title} page's figures, an HTML fragment (report.read)."
    router.add_api_route(f"/{page.slug}", shell, methods=["GET"], name=f"dashboard-{page.slug}")
    router.add_api_route(
        f"/{page.slug}/panel", panel, methods=["GET"], name=f"dashboard-{page.slug}-panel"
    )


@router.get("")
async def home() -> RedirectResponse:
    """The first page."""
    return RedirectResponse("/dashboard/overview", status_code=307)


@router.get("/sign-in")
async def sign_in() -> HTMLResponse:
    """Development sign-in: the token pasted once, kept in the tab's session storage."""
    return _html(render.sign_in())


for _page in PAGES.values():
    _add_page(_page)
