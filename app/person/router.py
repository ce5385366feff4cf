"""Self-referral: ``POST /api/v1/self-referrals`` (public JSON, for other front ends) and the
``/refer`` page (GET the form, POST it; server-rendered, no script needed).

Both are public (no token: DESIGN.md 4 and 13) and hold nothing about anyone but what the
person sends. Abuse controls: a tight rate limit per client address on every post
(``ASSETLINK_SELF_REFERRAL_PER_HOUR``, 429), a smaller body limit
(``ASSETLINK_SELF_REFERRAL_MAX_BYTES``, 413, applied by the request middleware), a honeypot
field (``service.refer``), and on the form a CSRF double-submit token (``forms.py``).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from app.auth.context import Context
from app.config import Environment, Settings
from app.db import SessionDep, utcnow
from app.deps import SessionmakerDep, SettingsDep
from app.errors import AppError
from app.ops.abuse import RateLimiter
from app.ops.middleware import PERSON_ASSETS
from app.person import forms, pages, service
from app.person.dependencies import SelfReferralLimiterDep
from app.person.schemas import SelfReferralAccepted, SelfReferralCreate
from app.person.text import text
from app.referrals.routers.common import cached_resolver
from app.terminology.dependencies import NeedMappingsDep

STATIC = Path(__file__).parent / "static"
STATIC_URL = PERSON_ASSETS  # no data in its paths: cacheable (app/ops/abuse.py)
API_PATH, PAGE_PATH = "/api/v1/self-referrals", "/refer"
PUBLIC_POSTS = (API_PATH, PAGE_PATH)  # with the smaller body limit (app.main)

api_router = APIRouter(tags=["self-referral"])
router = APIRouter(include_in_schema=False)


def static_files() -> StaticFiles:
    """``/static/person``: the style sheet of the person's pages, ``/refer`` and ``/q/{token}``
    (mounted by ``app.main``)."""
    return StaticFiles(directory=STATIC)


async def _throttled(limiter: RateLimiter | None, request: Request) -> AppError | None:
    if limiter is None:
        return None
    client = request.client.host if request.client else ""
    return await limiter.check(request.url.path, client, None)


async def _intake(
    settings: Settings, need_mappings: NeedMappingsDep, sessionmaker: SessionmakerDep
) -> service.Intake:
    return service.Intake(
        resolve_needs=await cached_resolver(need_mappings, sessionmaker),
        clock_skew=settings.clock_skew,
        default_performer=settings.default_performer_ods,
        link_days=settings.self_referral_link_days,
    )


@api_router.post(
    API_PATH,
    status_code=202,
    response_model=SelfReferralAccepted,
    responses={422: {"description": "a rule is broken: each problem names its field"}},
)
async def create_self_referral(
    body: SelfReferralCreate,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    sessionmaker: SessionmakerDep,
    need_mappings: NeedMappingsDep,
    limiter: SelfReferralLimiterDep,
) -> SelfReferralAccepted:
    """A person aged 16 or older refers themselves (public: no token). Answered 202 with their
    reference, the same for a new referral and for a repeat linked to their open one."""
    throttled = await _throttled(limiter, request)
    if throttled is not None:
        raise throttled
    given = await _intake(settings, need_mappings, sessionmaker)
    accepted = await service.refer(session, Context.person(request), body, given)
    return SelfReferralAccepted(reference=accepted.reference, next_steps=text("done.next.1"))


def _html(
    page: str, status: int = 200, csrf_token: str | None = None, *, secure: bool = False
) -> HTMLResponse:
    response = HTMLResponse(page, status_code=status)
    if csrf_token is not None:
        response.set_cookie(
            forms.CSRF_COOKIE,
            csrf_token,
            path=PAGE_PATH,
            httponly=True,
            samesite="strict",
            secure=secure,
        )
    return response


@router.get(PAGE_PATH)
async def refer_page(request: Request, settings: SettingsDep) -> Response:
    """The self-referral form."""
    token = request.cookies.get(forms.CSRF_COOKIE) or forms.new_csrf_token()
    secure = settings.environment is Environment.PRODUCTION
    return _html(pages.refer_form({}, {}, token), csrf_token=token, secure=secure)


@router.post(PAGE_PATH)
async def refer_submit(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    sessionmaker: SessionmakerDep,
    need_mappings: NeedMappingsDep,
    limiter: SelfReferralLimiterDep,
) -> Response:
    """The form posted: the confirmation, or the form again with its problems."""
    throttled = await _throttled(limiter, request)
    if throttled is not None:
        response = _html(pages.refusal("limit.title", "limit.body"), throttled.status)
        response.headers.update(throttled.headers or {})
        return response
    fields = forms.parse(await request.body())
    cookie = request.cookies.get(forms.CSRF_COOKIE)
    hosts = forms.allowed_hosts(request.headers.get("host"), settings.public_base_url)
    if not forms.csrf_ok(fields, cookie, request.headers.get("origin"), hosts):
        return _html(pages.refusal("csrf.title", "error.csrf"), 403)
    assert cookie is not None
    data, errors = forms.submitted(fields, utcnow().date())
    if not errors:
        given = await _intake(settings, need_mappings, sessionmaker)
        try:
            accepted = await service.refer(session, Context.person(request), data, given)
        except service.Refused as refused:
            errors = dict(refused.problems)
        else:
            return _html(pages.confirmation(accepted.reference))
    return _html(pages.refer_form(fields, errors, cookie), 422)
