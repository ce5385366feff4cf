"""The questionnaire page ``/q/{token}`` (DESIGN.md 13): GET the instrument, POST the answers.

Public (the token is the authority) and server-rendered, no script. A token not known counts as
a guess against the client's address (``ASSETLINK_QUESTIONNAIRE_LINK_GUESSES`` an hour, then 429
for every link from that address); a used or expired link answers 410 with a kind page, an
unknown one 404, each saying nothing about the link or the person. The answers are scored by
``questionnaires_service.answer``, the link worker's use case. CSRF: a double-submit token (a
``SameSite=Strict``, ``HttpOnly`` cookie on ``/q/`` equal to a hidden field), and a post whose
``Origin`` names another host is refused. The token never reaches a log: the request log names
the route (``/q/{token}``), not the path.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse

from app.auth.context import Context
from app.auth.policy import Action
from app.config import Environment, Settings
from app.db import SessionDep, utcnow
from app.deps import SettingsDep
from app.errors import AppError
from app.outcomes import instruments
from app.person import forms
from app.person import questionnaire as pages
from app.questionnaires import service
from app.questionnaires.dependencies import GuessesDep

PAGE = service.PATH + "{token}"
CSRF_COOKIE = "q_csrf"
MAX_FIELDS = 40

router = APIRouter(include_in_schema=False)


def _page(
    body: str, status: int = 200, *, csrf: str | None = None, settings: Settings | None = None
) -> HTMLResponse:
    response = HTMLResponse(body, status_code=status)
    if csrf is not None:
        secure = settings is not None and settings.environment is Environment.PRODUCTION
        response.set_cookie(
            CSRF_COOKIE, csrf, path=service.PATH, httponly=True, samesite="strict", secure=secure
        )
    return response


async def _opened(
    request: Request, token: str, session: SessionDep, guesses: GuessesDep, settings: Settings
) -> service.Found | Response:
    """The link's state, or the page that answers instead (429, 404, 410)."""
    address = request.client.host if request.client else ""
    wait = guesses.blocked(address)
    if wait is not None:
        response = _page(pages.notice("q.limit.title", "q.limit.body"), 429)
        response.headers["Retry-After"] = str(wait)
        return response
    found = await service.find(session, token, utcnow())
    if found is None:
        guesses.missed(address)
        return _page(pages.notice("q.unknown.title", "q.unknown.body"), 404)
    if found.state == service.USED:
        return _page(pages.notice("q.used.title", "q.used.body"), 410)
    if found.state == service.EXPIRED:
        days = str(settings.questionnaire_link_days)
        return _page(pages.notice("q.expired.title", "q.expired.body", days=days), 410)
    return found


def _form(
    found: service.Found,
    token: str,
    csrf: str,
    *,
    chosen: dict[str, str] | None = None,
    missing: list[str] | None = None,
    csrf_failed: bool = False,
) -> str:
    day = found.link.expires_at.date()
    return pages.form(
        instruments.instrument(found.link.instrument),
        action=service.PATH + token,
        first_name=found.first_name,
        expires=f"{day:%A} {day.day} {day:%B}",
        csrf_token=csrf,
        chosen=chosen,
        missing=missing,
        csrf_failed=csrf_failed,
    )


@router.get(PAGE)
async def questionnaire_page(
    token: str, request: Request, session: SessionDep, guesses: GuessesDep, settings: SettingsDep
) -> Response:
    """The questionnaire of a link."""
    found = await _opened(request, token, session, guesses, settings)
    if isinstance(found, Response):
        return found
    service.audit_view(session, Context.person(request, Action.OUTCOME_WRITE), found)
    csrf = request.cookies.get(CSRF_COOKIE) or forms.new_csrf_token()
    return _page(_form(found, token, csrf), csrf=csrf, settings=settings)


def _answers(
    spec: instruments.Instrument, fields: forms.Fields
) -> tuple[dict[str, object], list[str]]:
    """The posted answers in the instrument's types, and the items not (validly) answered."""
    answers: dict[str, object] = {}
    for item in spec.items:
        raw = forms.one(fields, item.id)
        value: object = int(raw) if item.is_numeric and raw.isdigit() else raw
        if value in item.values:
            answers[item.id] = value
    return answers, [i.id for i in spec.items if i.id not in answers]


@router.post(PAGE)
async def questionnaire_answers(
    token: str, request: Request, session: SessionDep, guesses: GuessesDep, settings: SettingsDep
) -> Response:
    """The answers posted: the thanks, or the questionnaire again with what is missing."""
    found = await _opened(request, token, session, guesses, settings)
    if isinstance(found, Response):
        return found
    origin = request.headers.get("origin")
    hosts = forms.allowed_hosts(request.headers.get("host"), settings.public_base_url)
    if not forms.same_site(origin, hosts):
        return _page(pages.notice("q.failed.title", "q.failed.body"), 403)
    fields = forms.parse(await request.body(), MAX_FIELDS)
    spec = instruments.instrument(found.link.instrument)
    answers, missing = _answers(spec, fields)
    chosen = {k: str(v) for k, v in answers.items()}
    cookie = request.cookies.get(CSRF_COOKIE)
    if cookie is None or not forms.csrf_ok(fields, cookie, origin, hosts):  # the token differs
        csrf = cookie or forms.new_csrf_token()
        body = _form(found, token, csrf, chosen=chosen, csrf_failed=True)
        return _page(body, 400, csrf=csrf, settings=settings)
    if missing:
        body = _form(found, token, cookie, chosen=chosen, missing=missing)
        return _page(body, 422)
    try:
        ctx = Context.person(request, Action.OUTCOME_WRITE)
        state = await service.answer(session, ctx, found, answers, utcnow())
    except AppError as error:  # the Task not taken on, a baseline after a follow-up...
        await session.rollback()
        return _page(pages.notice("q.failed.title", "q.failed.body"), error.status)
    if state == service.USED:
        return _page(pages.notice("q.used.title", "q.used.body"), 410)
    return _page(pages.notice("q.done.title", "q.done.body"))
