"""Diversity in the first five matches (issue 19): five near-identical groups (two sight-loss
clubs, the same drop-in at two venues) hide the other kinds a link worker would offer, so the
first `DIVERSE_FIRST` places are filled one by one with the best score less `SIMILAR_PENALTY` per
activity of the same kind already placed, from the first `DIVERSE_POOL` by score, without ever
costing need fit. Deterministic; scores are unchanged. Pure, like the engine.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

from app.matching.scoring import made_for

if TYPE_CHECKING:  # the engine's survivor of the hard rules, which imports this module
    from app.matching.engine import _Scored as Scored

DIVERSE_FIRST = 5  # the places diversity applies to: the first five a link worker reads
DIVERSE_POOL = 15  # from the first this many by score
SIMILAR_PENALTY = 0.05  # per activity of the same kind already placed above


def kind(s: Scored) -> tuple[frozenset[str], frozenset[str]]:
    """Near-identical activities share their categories and what they are made for."""
    return s.activity.categories, made_for(s.activity)


def diversify(scored: Sequence[Scored]) -> list[tuple[Scored, str | None]]:
    """The first `DIVERSE_FIRST` places filled one by one with the best score less
    `SIMILAR_PENALTY` per activity of the same kind already placed (ties keep the order by
    score, distance and id), among the activities whose need fit is at least that of the next
    by score (variety never costs fit to the needs the person was referred for), then the rest
    in that order; each with the name of the first activity of its kind placed in the first
    places above it, if any (for the reasons). Deterministic."""
    rest = list(scored)
    placed: list[tuple[Scored, str | None]] = []
    while rest and len(placed) < DIVERSE_FIRST:
        best, best_value = 0, -math.inf
        head_need = rest[0].components[0]  # the next by score: variety never costs need fit
        for i, s in enumerate(rest):
            if s.components[0] < head_need:
                continue
            same = sum(1 for p, _ in placed if kind(p) == kind(s))
            value = s.score - SIMILAR_PENALTY * same
            if value > best_value:
                best, best_value = i, value
        chosen = rest.pop(best)
        like = next((p.activity.name for p, _ in placed if kind(p) == kind(chosen)), None)
        placed.append((chosen, like))
    kinds: dict[tuple[frozenset[str], frozenset[str]], str] = {}
    for p, _ in placed:
        kinds.setdefault(kind(p), p.activity.name)
    return placed + [(s, kinds.get(kind(s))) for s in rest]
