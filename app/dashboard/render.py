"""The dashboard's HTML: the page shells, the panels of figures, the sign-in and error pages.

Small Python string templates; every piece of text that is not markup written here goes through
``e`` (``html.escape``). No inline script or style (the pages' CSP allows neither): the look is
``static/dashboard.css``, the behaviour ``static/dashboard.js``.
"""

# ruff: noqa: RUF001 (words for people: the en dashes and curly quotes are meant)

from __future__ import annotations

from collections.abc import Sequence
from html import escape as e

from app.dashboard import labels
from app.dashboard.views import NEEDS, PAGES, Cell, Page, Pair, Section, Table, notes
from app.ops.middleware import DASHBOARD_ASSETS as STATIC
from app.reporting.service import Report

CURRENT = ' aria-current="page"'
WIDE = 5  # a table of more figures goes below its chart, not beside it


def document(title: str, main: str, *, current: str | None = None) -> str:
    """A whole page: skip link, header with the pages' navigation, ``main``."""
    nav = "".join(
        f'<li><a href="/dashboard/{p.slug}"{CURRENT if p.slug == current else ""}>'
        f"{e(p.title)}</a></li>"
        for p in PAGES.values()
    )
    return f"""<!doctype html>
<html lang="en-GB">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(title)} — assetlink dashboard</title>
<link rel="stylesheet" href="{STATIC}/dashboard.css">
<script src="{STATIC}/dashboard.js" defer></script>
</head>
<body>
<a class="skip" href="#main">Skip to main content</a>
<header class="top">
<p class="brand">assetlink <span>commissioner’s dashboard</span></p>
<nav aria-label="Dashboard pages"><ul>{nav}</ul></nav>
<p class="account"><a href="/dashboard/sign-in" id="sign-in-link">Sign in</a>
<button type="button" id="sign-out" hidden>Sign out</button></p>
</header>
<main id="main" tabindex="-1">
{main}
</main>
<footer class="bottom"><p>Figures are those the report API publishes, after disclosure
control. Definitions: the service’s docs/reports.md.</p></footer>
</body>
</html>
"""


def _need_chooser(page: Page, need: str) -> str:
    if not page.needs:
        return ""
    options = "".join(
        f'<option value="{e(n)}"{" selected" if n == need else ""}>'
        f"{e(labels.value('need', n))}</option>"
        for n in NEEDS
    )
    return (
        '<div class="field"><label for="need">Need in the chart</label>'
        f'<select id="need" name="need"><option value="">The first in the table</option>{options}'
        "</select></div>"
    )


def _filters(page: Page, start: str, end: str, by: str, need: str = "") -> str:
    grouping = _need_chooser(page, need)
    if page.by_options:
        options = "".join(
            f'<option value="{e(d)}"{" selected" if d == by else ""}>{e(labels.dimension(d))}'
            "</option>"
            for d in page.by_options
        )
        grouping += (
            '<div class="field"><label for="by">Also group by</label>'
            f'<select id="by" name="by"><option value="">Nothing else</option>{options}</select>'
            "</div>"
        )
    return f"""<form class="filters" method="get" action="/dashboard/{page.slug}">
<fieldset><legend>Which referrals</legend>
<div class="field"><label for="from">Made from <span class="hint">(first day)</span></label>
<input type="date" id="from" name="from" value="{e(start)}"></div>
<div class="field"><label for="to">to <span class="hint">(last day)</span></label>
<input type="date" id="to" name="to" value="{e(end)}"></div>
{grouping}
<div class="field"><button type="submit">Show figures</button></div>
</fieldset>
<p class="hint">Without dates: the last twelve calendar months, this one so far.</p>
</form>"""


def shell(
    page: Page,
    *,
    start: str,
    end: str,
    by: str,
    panel_url: str,
    need: str = "",
    panel: str | None = None,
    message: str | None = None,
) -> str:
    """A page: its filters and either the panel (rendered inline) or the place the script puts
    it (``data-panel``), with a message when the figures cannot be shown."""
    if panel is not None:
        content = f'<div id="panel" class="panel">{panel}</div>'
    else:
        status = (
            f'<p class="status">{e(message)}</p>'
            if message
            else '<p class="status">Loading the figures… (they need JavaScript and a sign-in)</p>'
        )
        source = "" if message else f' data-panel="{e(panel_url)}"'
        content = f'<div id="panel" class="panel"{source}>{status}</div>'
    main = f"""<h1>{e(page.title)}</h1>
<p class="summary">{e(page.summary)}</p>
{_filters(page, start, end, by, need)}
<p id="panel-status" class="visually-hidden" role="status"></p>
{content}"""
    return document(page.title, main, current=page.slug)


def panel(sections: Sequence[Section], report: Report) -> str:
    """The figures of one page: a fragment, put in the page by the script or inline."""
    window = (
        f'<p class="window">Referrals made from {e(labels.day(report.start))} to '
        f"{e(labels.day(report.end))}.</p>"
    )
    return window + "\n".join(_section(s) for s in sections)


def _section(section: Section) -> str:
    notes_id = f"{section.slug}-notes"
    exhibits = "\n".join(
        f'<div class="exhibit{" wide" if len(x.table.columns) > WIDE else ""}">'
        f"<h3>{e(x.heading)}</h3>"
        f'<div class="chart">{x.chart}</div>'
        + _table(x.table, f"{section.slug}-{n}", notes_id)
        + "</div>"
        for n, x in enumerate(section.exhibits, 1)
    )
    sentences = "".join(f'<p class="sentence">{e(s)}</p>' for s in section.sentences)
    found = notes(section)
    about = (
        f'<div class="notes" id="{notes_id}"><h3>About these figures</h3><ul>'
        + "".join(f"<li>{e(n)}</li>" for n in found)
        + "</ul></div>"
        if found
        else ""
    )
    filename = (
        f"{section.report.name}-{section.report.start}-{section.report.end}"
        + "".join("-" + d for d in section.report.group_by)
        + ".csv"
    )
    slug = e(section.slug)
    return f"""<section class="section" id="{slug}" aria-labelledby="{slug}-h">
<h2 id="{slug}-h">{e(section.heading)}</h2>
{sentences}
{exhibits}
{about}
<p><button type="button" class="csv" data-csv="{e(section.csv_url)}" data-filename="{e(filename)}">
Download these figures (CSV)</button></p>
</section>"""


def _table(table: Table, table_id: str, notes_id: str) -> str:
    head = "".join(f'<th scope="col">{e(c)}</th>' for c in [table.row_header, *table.columns])
    body = "".join(
        f'<tr><th scope="row">{e(label)}</th>'
        + "".join(_cell(c, notes_id) for c in cells)
        + "</tr>"
        for label, cells in table.rows
    )
    measure = ""
    if table.instrument:
        measure = (
            f' data-instrument="{e(table.instrument)}" data-measure="{e(table.measure or "")}"'
        )
    return (
        f'<div class="table-wrap" role="region" tabindex="0" aria-labelledby="{table_id}-c">'
        f'<table id="{table_id}" data-report="{e(table.report)}"{measure}>'
        f'<caption id="{table_id}-c">{e(table.caption)}</caption>'
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>"
    )


def _cell(cell: Cell | Pair | None, notes_id: str) -> str:
    if cell is None:
        return "<td></td>"
    if isinstance(cell, tuple):  # two figures of one group: "booked / attended"
        return (
            '<td class="pair">' + " / ".join(_figure(c, notes_id, "span") for c in cell) + "</td>"
        )
    return _figure(cell, notes_id, "td")


def _figure(cell: Cell, notes_id: str, tag: str) -> str:
    data = f'data-key="{e("|".join(cell.key))}" data-figure="{e(cell.figure)}"'
    if cell.suppressed:
        return f'<{tag} {data} class="suppressed" aria-describedby="{notes_id}">suppressed</{tag}>'
    return f"<{tag} {data}>{e(labels.number(cell.value))}</{tag}>"


def message(text: str, *, link: bool = False) -> str:
    """A panel in place of the figures: why they are not shown."""
    sign_in = ' <a href="/dashboard/sign-in">Sign in</a>' if link else ""
    return f'<p class="status">{e(text)}{sign_in}</p>'


def sign_in() -> str:
    main = """<h1>Sign in</h1>
<p>Paste your bearer token. It is kept in this browser tab only (session storage) until you
sign out or close the tab; it is never put in an address or a cookie.</p>
<form id="sign-in-form" class="sign-in">
<div class="field"><label for="token">Bearer token</label>
<input type="password" id="token" autocomplete="off" spellcheck="false" required></div>
<div class="field"><button type="submit">Sign in</button></div>
<p id="sign-in-status" class="status" role="status"></p>
</form>
<noscript><p class="status">Signing in here needs JavaScript.</p></noscript>
<p class="hint">In development: <code>assetlink token --role commissioner --org 15N</code>.
In production the dashboard sits behind the organisation’s sign-in and needs no token here.</p>"""
    return document("Sign in", main)
