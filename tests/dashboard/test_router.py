"""The dashboard over HTTP (issue 18): public shells without data, panels for the report readers
only, the figures inline when the page request itself is signed in, bad filters as a 400 page,
and the pages' own security headers."""

from __future__ import annotations

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.auth.principal import Role
from app.dashboard import router, views
from app.dashboard.views import PAGES
from app.errors import BadRequest
from tests.conftest import TokenFactory

POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
NOT_READERS = (Role.REFERRER, Role.PROVIDER, Role.LINK_WORKER)


async def test_dashboard_redirects_to_the_overview(client: httpx.AsyncClient) -> None:
    response = await client.get("/dashboard")
    assert response.status_code == 307
    assert response.headers["Location"] == "/dashboard/overview"


@pytest.mark.parametrize("slug", list(PAGES))
async def test_a_page_shell_is_public_and_holds_no_figures(
    client: httpx.AsyncClient, slug: str
) -> None:
    response = await client.get(f"/dashboard/{slug}", params={"from": "2026-01-01"})
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")
    page = response.text
    assert f"<h1>{PAGES[slug].title}</h1>" in page
    assert 'href="#main"' in page
    assert '<main id="main"' in page  # skip link
    assert f'data-panel="/dashboard/{slug}/panel?from=2026-01-01"' in page
    assert 'name="from" value="2026-01-01"' in page
    assert "<table" not in page
    assert "data-figure" not in page
    assert "<svg" not in page
    assert "<script>" not in page
    assert "style=" not in page  # nothing inline (CSP)
    for other in PAGES.values():
        assert f'href="/dashboard/{other.slug}"' in page


async def test_the_sign_in_page_keeps_the_token_out_of_any_form_submission(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/dashboard/sign-in")
    assert response.status_code == 200
    field = response.text.split('id="token"', 1)[1].split(">", 1)[0]
    assert "name=" not in field  # a form sent without the script carries no token
    assert 'type="password"' in response.text


@pytest.mark.parametrize("slug", list(PAGES))
async def test_a_panel_needs_a_token(client: httpx.AsyncClient, slug: str) -> None:
    response = await client.get(f"/dashboard/{slug}/panel")
    assert response.status_code == 401
    bad = await client.get(
        f"/dashboard/{slug}/panel", headers={"Authorization": "Bearer not-a-token"}
    )
    assert bad.status_code == 401


@pytest.mark.parametrize("role", NOT_READERS)
async def test_a_panel_is_refused_to_roles_that_cannot_read_reports(
    client: httpx.AsyncClient, auth: TokenFactory, role: Role
) -> None:
    for slug in PAGES:
        response = await client.get(f"/dashboard/{slug}/panel", headers=auth(role, "A81001"))
        assert response.status_code == 403, slug
        assert "data-figure" not in response.text


@pytest.mark.parametrize("role", [Role.COMMISSIONER, Role.ADMIN])
async def test_report_readers_get_every_panel(
    client: httpx.AsyncClient, auth: TokenFactory, role: Role
) -> None:
    for slug in PAGES:
        response = await client.get(f"/dashboard/{slug}/panel", headers=auth(role, "15N"))
        assert response.status_code == 200, (slug, response.text)
        assert response.headers["Content-Type"].startswith("text/html")
        assert response.headers["Content-Security-Policy"] == POLICY
        assert response.headers["Cache-Control"] == "no-store"
        assert "Referrals made from" in response.text
        assert "<section" in response.text
        assert 'class="csv"' in response.text


async def test_a_signed_in_page_request_gets_the_figures_inline(
    client: httpx.AsyncClient, auth: TokenFactory
) -> None:
    response = await client.get(
        "/dashboard/overview", params={"to": "2026-06-30"}, headers=auth(Role.COMMISSIONER, "15N")
    )
    assert response.status_code == 200
    assert "data-panel" not in response.text
    assert 'data-figure="received"' in response.text
    assert "<svg" in response.text
    assert "to 30 Jun 2026" in response.text


@pytest.mark.parametrize(
    ("headers", "status", "words"),
    [
        ({"Authorization": "Bearer not-a-token"}, 401, "Sign in to see the figures"),
        (None, 403, "This dashboard is for commissioners"),
    ],
)
async def test_a_page_request_signed_in_wrongly_says_why_without_figures(
    client: httpx.AsyncClient,
    auth: TokenFactory,
    headers: dict[str, str] | None,
    status: int,
    words: str,
) -> None:
    response = await client.get(
        "/dashboard/equity", headers=headers or auth(Role.REFERRER, "A81001")
    )
    assert response.status_code == status
    assert words in response.text
    assert "data-figure" not in response.text
    assert "data-panel" not in response.text


@pytest.mark.parametrize(
    ("slug", "params", "words"),
    [
        ("overview", {"from": "2026-02-30"}, "`from` must be a date written YYYY-MM-DD"),
        ("overview", {"to": "yesterday"}, "`to` must be a date written YYYY-MM-DD"),
        ("equity", {"from": "2026-05-01", "to": "2026-04-01"}, "`from` is after `to`"),
        ("overview", {"from": "0999-12-31"}, "`from` must be between"),
        ("outcomes", {"by": "postcode"}, "`by` must be one of need, practice"),
        ("outcomes", {"by": "month"}, "`by` must be one of"),
        ("overview", {"by": "sex"}, "The Overview page has no `by`"),
        ("directory", {"need": "walking"}, "`need` must be one of loneliness-isolation, low-mood"),
        ("equity", {"need": "low-mood"}, "The Equity page has no `need`"),
    ],
)
async def test_a_bad_filter_is_a_400_page_saying_what_is_wrong(
    client: httpx.AsyncClient,
    auth: TokenFactory,
    slug: str,
    params: dict[str, str],
    words: str,
) -> None:
    page = await client.get(f"/dashboard/{slug}", params=params)
    assert page.status_code == 400
    assert page.headers["Content-Type"].startswith("text/html")
    assert words in page.text.replace("&#x27;", "'")
    assert page.headers["Content-Security-Policy"] == POLICY
    panel = await client.get(
        f"/dashboard/{slug}/panel", params=params, headers=auth(Role.COMMISSIONER, "15N")
    )
    assert panel.status_code == 400
    assert words in panel.text
    assert "data-figure" not in panel.text


async def test_empty_filters_from_the_form_mean_the_default_window(
    client: httpx.AsyncClient, auth: TokenFactory
) -> None:
    params = {"from": "", "to": "", "by": ""}
    response = await client.get(
        "/dashboard/outcomes/panel", params=params, headers=auth(Role.COMMISSIONER, "15N")
    )
    assert response.status_code == 200
    shell = await client.get("/dashboard/outcomes", params=params)
    assert 'data-panel="/dashboard/outcomes/panel"' in shell.text


async def test_pages_have_their_own_policy_and_static_files_are_cacheable(
    client: httpx.AsyncClient,
) -> None:
    for path in ("/dashboard/overview", "/dashboard/sign-in", "/dashboard/outcomes?by=x"):
        headers = (await client.get(path)).headers
        assert headers["Content-Security-Policy"] == POLICY, path
        assert headers["Cache-Control"] == "no-store", path
        assert headers["X-Frame-Options"] == "DENY", path
    for name, kind in (("dashboard.css", "text/css"), ("dashboard.js", "text/javascript")):
        asset = await client.get(f"/dashboard/static/{name}")
        assert asset.status_code == 200
        assert asset.headers["Content-Type"].startswith(kind)
        assert "no-store" not in asset.headers.get("Cache-Control", "")
        assert asset.headers["X-Content-Type-Options"] == "nosniff"
    assert (await client.get("/dashboard/static/nothing.js")).status_code == 404
    api = await client.get("/api/v1/reports/referrals")
    assert api.headers["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'none'"


async def test_the_dashboard_is_not_in_the_openapi_document(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]
    assert not [p for p in paths if p.startswith("/dashboard")]


async def test_a_bad_filter_is_shown_back_escaped_in_the_form(client: httpx.AsyncClient) -> None:
    given = '"><script>alert(1)</script>'
    response = await client.get("/dashboard/outcomes", params={"from": given, "by": given})
    assert response.status_code == 400
    assert "<script>alert" not in response.text
    assert 'value="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"' in response.text
    assert "data-panel" not in response.text


@given(
    start=st.none() | st.text(max_size=12) | st.dates().map(str),
    end=st.none() | st.text(max_size=12) | st.dates().map(str),
    by=st.none() | st.text(max_size=12) | st.sampled_from(views.OUTCOME_DIMENSIONS),
    need=st.none() | st.text(max_size=12) | st.sampled_from(views.NEEDS),
)
def test_any_filter_is_used_or_refused_with_a_bad_request(
    start: str | None, end: str | None, by: str | None, need: str | None
) -> None:
    for page in PAGES.values():
        refused: list[str | None] = []
        try:
            found = router.filters(page, start, end, by, need)
        except BadRequest as error:
            refused = [issue.expression for issue in error.issues]
        else:
            assert found.by is None or found.by in page.by_options
            assert found.need is None or (page.needs and found.need in views.NEEDS)
            assert found.start is None or found.end is None or found.start <= found.end
        assert set(refused) <= {"from", "to", "by", "need"}
