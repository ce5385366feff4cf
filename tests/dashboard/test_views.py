"""The figures the dashboard shows are the report API's (issue 18 "Must show"): every table cell
of every panel against the JSON of the API request its section downloads as CSV, on the report
tests' seeded population; suppression shown and explained; labels in words; the equity gap in
words from published figures only."""

# ruff: noqa: RUF001 (the dashboard's en dashes are meant)

from __future__ import annotations

import datetime as dt
import re
import urllib.parse
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncConnection

from app.auth.principal import Role
from app.dashboard import labels, views
from app.reporting.disclosure import DisclosureRules
from app.reporting.service import Figure, Report, Row
from app.terminology import codesystems
from tests.conftest import TokenFactory
from tests.reporting import population
from tests.reporting.population import connection, seeded_connection

# fixtures: the module's tests share one seeded population, each in a savepoint of its own
__all__ = ["connection", "seeded_connection"]

WINDOW = {"from": population.FROM.isoformat(), "to": population.AS_OF.isoformat()}
VIEWS = [
    ("overview", None),
    ("outcomes", None),
    *(("outcomes", by) for by in views.OUTCOME_DIMENSIONS),
    ("equity", None),
    ("directory", None),
]


@dataclass
class Shown:
    """One section of a panel: the API request behind it and what its tables show."""

    csv: str
    cells: list[dict[str, Any]]  # table, key, figure, text, suppressed, describedby
    row_headers: list[tuple[list[str], str, str]]  # (group_by, key, header text)
    texts: list[str]  # captions, column headers, headings: the words a reader sees
    sentences: list[str]


@pytest.fixture
def seeded(seeded_connection: AsyncConnection) -> None:
    """The tests that read the population say so (``connection`` gives it to every test)."""


@pytest.fixture
def commissioner(auth: TokenFactory) -> dict[str, str]:
    return auth(Role.COMMISSIONER, "15N")


def _text(element: ET.Element) -> str:
    return " ".join("".join(element.itertext()).split())


def parse(panel: str) -> tuple[ET.Element, list[Shown]]:
    """The panel as XML (it is written well-formed), and its sections."""
    root = ET.fromstring(f"<div>{panel}</div>")  # noqa: S314 (the service's own markup)
    sections = []
    for section in root.iter("section"):
        (button,) = section.iter("button")
        shown = Shown(button.attrib["data-csv"], [], [], [], [])
        group_by = urllib.parse.parse_qs(urllib.parse.urlsplit(shown.csv).query).get("group_by", [])
        shown.texts += [_text(h) for tag in ("h2", "h3", "caption") for h in section.iter(tag)]
        shown.sentences = [_text(p) for p in section.iter("p") if p.get("class") == "sentence"]
        for table in section.iter("table"):
            shown.texts += [_text(th) for th in table.iter("th")]
            for tr in table.iter("tr"):
                # a figure is a cell, or one of the two in a "booked / attended" cell
                cells = [
                    e for e in tr.iter() if e.tag in ("td", "span") and "data-figure" in e.attrib
                ]
                header = tr.find("th[@scope='row']")
                crossed = tr.find("td[@class='pair']") is not None  # rows by one, columns by other
                step = table.find("thead/tr/th").text == "Step"
                if header is not None and cells and not step and not crossed:
                    key = cells[0].attrib["data-key"]
                    shown.row_headers.append((group_by, key, _text(header)))
                for td in cells:
                    shown.cells.append(
                        {
                            "table": (table.get("data-instrument"), table.get("data-measure")),
                            "key": td.attrib["data-key"],
                            "figure": td.attrib["data-figure"],
                            "text": _text(td),
                            "suppressed": td.get("class") == "suppressed",
                            "describedby": td.get("aria-describedby"),
                        }
                    )
        sections.append(shown)
    return root, sections


def number(text: str) -> float | None:
    return None if text == "–" else float(text.replace(",", ""))


async def panel(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    slug: str,
    by: str | None,
    need: str | None = None,
) -> str:
    params = WINDOW | ({"by": by} if by else {}) | ({"need": need} if need else {})
    response = await client.get(f"/dashboard/{slug}/panel", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.text


async def test_every_figure_shown_is_the_report_apis_with_labels_in_words(
    client: httpx.AsyncClient, commissioner: dict[str, str], seeded: None
) -> None:
    for slug, by in VIEWS:
        page = await panel(client, commissioner, slug, by)
        await check_figures(client, commissioner, page, slug, by)
        check_labels(page)


async def check_figures(
    client: httpx.AsyncClient, commissioner: dict[str, str], page: str, slug: str, by: str | None
) -> None:
    root, sections = parse(page)
    wanted = views.PAGES[slug].reports(by)
    assert len(sections) == len(wanted)
    ids = {e.get("id") for e in root.iter() if e.get("id")}
    compared = suppressed = 0
    for shown, (report, dims) in zip(sections, wanted, strict=True):
        url = urllib.parse.urlsplit(shown.csv)
        assert url.path == f"/api/v1/reports/{report}"
        query = urllib.parse.parse_qs(url.query)
        assert query["from"] == [WINDOW["from"]]
        assert query["to"] == [WINDOW["to"]]
        assert query.get("group_by", []) == list(dims)
        response = await client.get(shown.csv, headers=commissioner)
        assert response.status_code == 200
        body = response.json()
        group_by = body["group_by"]
        api = {
            (row["instrument"], row["measure"], "|".join(row["group"][d] for d in group_by)): row[
                "figures"
            ]
            for row in body["rows"]
        }
        seen = set()
        for cell in shown.cells:
            instrument, measure = cell["table"]
            figure = api[(instrument, measure, cell["key"])][cell["figure"]]
            seen.add((instrument, measure, cell["key"], cell["figure"]))
            assert cell["suppressed"] == figure["suppressed"], cell
            if figure["suppressed"]:
                assert cell["text"] == "suppressed"
                assert cell["describedby"] in ids
                suppressed += 1
            else:
                assert number(cell["text"]) == figure["value"], cell
            compared += 1
        # and nothing published is left out: every row of the report, every figure a table shows
        tables: dict[tuple[Any, Any], set[str]] = {}
        for cell in shown.cells:
            tables.setdefault(cell["table"], set()).add(cell["figure"])
        for (instrument, measure, key), figures in api.items():
            shown_figures = tables.get((instrument, measure), set())
            for name in shown_figures & set(figures):
                assert (instrument, measure, key, name) in seen, (instrument, measure, key, name)
        if not tables:
            assert not any(row["instrument"] for row in body["rows"])
    assert compared > 0
    if slug == "outcomes" and by:
        assert suppressed > 0  # the seeded population is small: the view has hidden cells


async def test_a_suppressed_cell_says_so_and_its_note_gives_the_rules_in_force(
    client: httpx.AsyncClient, commissioner: dict[str, str], seeded: None, app: Any
) -> None:
    root, _ = parse(await panel(client, commissioner, "outcomes", "need"))
    hidden = [td for td in root.iter("td") if td.get("class") == "suppressed"]
    assert hidden
    notes = {e.get("id"): _text(e) for e in root.iter("div") if e.get("class") == "notes"}
    for td in hidden:
        assert _text(td) == "suppressed"
        note = notes[td.attrib["aria-describedby"]]
        assert "a count of 1 to 7 people is not shown" in note
        assert "rounded to the nearest 5" in note
        assert "the next smallest is suppressed too" in note
    await check_gap_words(client, commissioner)
    # the thresholds are the report's own (its disclosure block), not words written once
    settings = app.state.settings
    app.state.settings = settings.model_copy(
        update={"disclosure_suppress_below": 11, "disclosure_round_to": 10, "disclosure_min_n": 12}
    )
    root, _ = parse(await panel(client, commissioner, "outcomes", "sex"))
    notes = " ".join(_text(e) for e in root.iter("div") if e.get("class") == "notes")
    assert "a count of 1 to 10 people is not shown" in notes
    assert "rounded to the nearest 10" in notes
    assert "at least 12 people" in notes


CODES = (
    set(codesystems.need_codes())
    | set(codesystems.activity_category_codes())
    | set(labels.FIGURES)
    | set(labels.DIMENSIONS)
    | {"all", "unknown", "none", views.GAP, "75+"}
)
RAW = re.compile(r"^(\d{4}-\d{2}|\d{4}-Q\d|[a-z]+(_[a-z]+)+)$")  # 2026-03, 2026-Q1, mean_change


def check_labels(page: str) -> None:
    """Captions, headings and headers in words; each row's header is labels.py's."""
    _, sections = parse(page)
    for shown in sections:
        for text in shown.texts:
            assert text not in CODES, text
            assert not RAW.match(text), text
            assert not any(f"{code} " in f"{text} " for code in CODES if "-" in code), text
        for group_by, key, header in shown.row_headers:
            words = ", ".join(
                labels.value(d, k) for d, k in zip(group_by, key.split("|"), strict=True)
            )
            assert header == (words or "All referrals")
            if group_by in (["practice"], ["performer"]) and key not in ("all", "unknown"):
                assert header == key  # ODS codes are shown as they are


def test_label_words() -> None:
    assert labels.value("imd_quintile", "1") == "1 — most deprived"
    assert labels.value("imd_quintile", "5") == "5 — least deprived"
    assert labels.value("imd_decile", "10") == "10 — least deprived"
    assert labels.value("imd_decile", "5") == "5"
    assert labels.value("month", "2026-03") == "Mar 2026"
    assert labels.value("quarter", "2026-Q4") == "Oct–Dec 2026"
    assert labels.value("need", "loneliness-isolation") == "Loneliness or social isolation"
    assert labels.value("activity_category", "walking") == "Walking"
    assert labels.value("age_band", "75+") == "75 and over"
    assert labels.value("practice", "A81001") == "A81001"
    assert labels.value("sex", "unknown") == "Not known"
    assert labels.figure("received") == "Referrals received"
    assert labels.number(12345) == "12,345"
    assert labels.number(-1.5) == "-1.5"
    assert labels.number(2.25) == "2.25"
    assert labels.number(None) == "–"
    for code in codesystems.need_codes():
        assert labels.value("need", code) != code


def _equity(q1: dict[str, Figure], q5: dict[str, Figure], gap: dict[str, Figure]) -> Report:
    rows = [Row({"imd_quintile": q}, f) for q, f in (("1", q1), ("5", q5), (views.GAP, gap))]
    day = dt.date(2026, 1, 1)
    return Report("equity", day, day, ["imd_quintile"], DisclosureRules(), rows)


def _published(**values: float) -> dict[str, Figure]:
    return {k: Figure(v, False) for k, v in values.items()}


def test_the_gap_in_words_uses_the_published_figures() -> None:
    q1 = _published(
        referral_share=30, engagement_rate=55, completion_rate=40, mean_wellbeing_change=2.5
    )
    q5 = _published(
        referral_share=12, engagement_rate=65, completion_rate=40, mean_wellbeing_change=1.25
    )
    gap = _published(
        referral_share=18, engagement_rate=-10, completion_rate=0, mean_wellbeing_change=1.25
    )
    share, engagement, completion, wellbeing = views.gap_sentences(_equity(q1, q5, gap))
    assert share == (
        "In the most deprived fifth of areas the share of referrals is 30%, against 12% in the "
        "least deprived: 18 percentage points higher."
    )
    assert "engagement rate is 55%, against 65%" in engagement
    assert engagement.endswith("10 percentage points lower.")
    assert completion.endswith(": the same.")
    assert "is 2.5, against 1.25" in wellbeing
    assert wellbeing.endswith("1.25 points higher.")


def test_the_gap_cannot_be_given_when_a_figure_is_suppressed() -> None:
    q1 = _published(referral_share=30, completion_rate=40, mean_wellbeing_change=2.5) | {
        "engagement_rate": Figure(None, True)
    }
    q5 = _published(
        referral_share=12, engagement_rate=65, completion_rate=40, mean_wellbeing_change=1.25
    )
    gap = _published(referral_share=18, completion_rate=0, mean_wellbeing_change=1.25) | {
        "engagement_rate": Figure(None, True)
    }
    sentences = views.gap_sentences(_equity(q1, q5, gap))
    assert sentences[1] == (
        "The gap in engagement rate between the most and least deprived areas cannot be given: "
        "a figure it needs is suppressed or not available."
    )
    assert "65" not in sentences[1]
    assert sentences[0].startswith("In the most deprived fifth")


async def check_gap_words(client: httpx.AsyncClient, commissioner: dict[str, str]) -> None:
    """The equity page's sentences name the published quintile 1 and 5 figures."""
    _, sections = parse(await panel(client, commissioner, "equity", None))
    body = (await client.get(sections[0].csv, headers=commissioner)).json()
    rows = {row["group"]["imd_quintile"]: row["figures"] for row in body["rows"]}
    for sentence, (name, (words, unit, _)) in zip(
        sections[0].sentences, views.GAP_WORDS.items(), strict=True
    ):
        figures = [rows.get(q, {}).get(name, {"value": None}) for q in ("1", "5", views.GAP)]
        if any(f["value"] is None for f in figures):
            assert "cannot be given" in sentence
        else:
            most, least, _gap = (f["value"] for f in figures)
            assert f"the {words} is {labels.number(most)}{unit}, against" in sentence
            assert f"against {labels.number(least)}{unit} in the least deprived" in sentence


async def test_the_directory_page_crosses_categories_with_needs_and_charts_the_chosen_need(
    client: httpx.AsyncClient, commissioner: dict[str, str], seeded: None
) -> None:
    params = [*WINDOW.items(), ("group_by", "activity_category"), ("group_by", "need")]
    response = await client.get("/api/v1/reports/referrals", params=params, headers=commissioner)
    rows = {
        (r["group"]["activity_category"], r["group"]["need"]): r["figures"]
        for r in response.json()["rows"]
    }
    needs = sorted({n for _, n in rows} - {"all", "none"})
    # the need with the most referrals booked, and the default: the table's first need
    busiest = max(needs, key=lambda n: rows[("all", n)]["booked"]["value"] or 0)
    for chosen, charted in ((None, needs[0]), (busiest, busiest), ("none", "none")):
        root, _ = parse(await panel(client, commissioner, "directory", None, chosen))
        (section,) = [s for s in root.iter("section") if s.get("id") == "category-need"]
        (table,) = section.iter("table")
        columns = [_text(th) for th in table.iterfind("thead/tr/th")]
        assert columns[0] == "Activity category"
        pairs = 0
        for tr in table.iterfind("tbody/tr"):
            header = _text(tr.find("th"))
            for column, td in zip(columns[1:], tr.iterfind("td"), strict=True):
                booked, attended = td.iterfind("span")
                category, need = booked.attrib["data-key"].split("|")
                assert attended.attrib["data-key"] == booked.attrib["data-key"]
                assert (booked.get("data-figure"), attended.get("data-figure")) == (
                    "booked",
                    "attended",
                )
                assert header == labels.value("activity_category", category)
                assert column == labels.value("need", need)
                assert _text(td) == f"{_text(booked)} / {_text(attended)}"
                pairs += 1
        assert pairs == len(rows)  # every group and margin of the report, once
        (svg,) = [g for g in section.iter() if g.tag.endswith("svg")]
        texts = [
            (t.get("class"), "".join(t.itertext())) for t in svg.iter() if t.tag.endswith("text")
        ]
        words = labels.value("need", charted)
        title = next(t for t in svg.iter() if t.tag.endswith("title"))
        assert title.text == f"Booked and attended by activity category: {words}"
        categories = [c for c, n in rows if n == charted and c != "all"]
        assert [t for c, t in texts if c == "chart-label"] == [
            labels.value("activity_category", c) for c in categories
        ]
        printed = []
        for c in categories:
            for name in ("booked", "attended"):
                figure = rows[(c, charted)][name]
                printed.append(
                    "suppressed" if figure["suppressed"] else labels.number(figure["value"])
                )
        assert [t for c, t in texts if c == "chart-value"] == printed
        assert f"The chart shows the need “{words}”" in _text(section)
        if chosen:  # the page's chooser shows the choice
            shell = await client.get("/dashboard/directory", params={"need": chosen})
            assert f'<option value="{chosen}" selected>' in shell.text
