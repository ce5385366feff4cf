"""The need -> activity-category suitability table (``data/need_categories.json``).

Values in [0, 1]: how well a kind of activity addresses a need; the matching engine's need fit.
The table is data, not code; its rationale and sources are in docs/terminology.md.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from app.terminology.codesystems import activity_category_codes, need_codes

DATA = Path(__file__).parent / "data"


@cache
def _load() -> dict[str, dict[str, float]]:
    raw = json.loads((DATA / "need_categories.json").read_text(encoding="utf-8"))["suitability"]
    needs, categories = need_codes(), activity_category_codes()
    unknown = set(raw) - needs
    if unknown:
        raise ValueError(f"need_categories.json names unknown needs: {sorted(unknown)}")
    table: dict[str, dict[str, float]] = {}
    for need in sorted(needs):
        row = raw.get(need, {})
        stray = set(row) - categories
        if stray:
            raise ValueError(f"need_categories.json: {need} names unknown categories {stray}")
        for category, value in row.items():
            if not isinstance(value, int | float) or not 0.0 <= value <= 1.0:
                raise ValueError(f"need_categories.json: {need}/{category} is not in [0, 1]")
        table[need] = {c: float(row.get(c, 0.0)) for c in sorted(categories)}
    return table


def need_category_suitability() -> dict[str, dict[str, float]]:
    """``{need: {category: suitability}}`` for every need and category (a fresh copy)."""
    return {need: dict(row) for need, row in _load().items()}
