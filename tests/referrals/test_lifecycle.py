"""The wording of Task-status 409s, from the graph (pure)."""

from __future__ import annotations

import itertools

import pytest

from app.referrals.lifecycle import TERMINAL, TRANSITIONS, moves_to, remedy, status_conflict

GRAPH = sorted({*TRANSITIONS, *TERMINAL})


@pytest.mark.parametrize(("start", "target"), list(itertools.product(GRAPH, GRAPH)))
def test_moves_are_a_shortest_walk_through_the_graph(start: str, target: str) -> None:
    path = moves_to(start, {target})
    if path is None:
        assert start != target
        return
    walk = [start, *path]
    assert walk[-1] == target
    assert all(b in TRANSITIONS[a] for a, b in itertools.pairwise(walk))
    assert len(path) <= 3


def test_open_statuses_are_preferred_to_final_ones() -> None:
    assert moves_to("requested", {"accepted", "cancelled"}) == ["accepted"]
    assert moves_to("requested", {"cancelled"}) == ["cancelled"]


def test_the_advice_names_the_moves_or_says_final() -> None:
    assert remedy("on-hold", {"in-progress"}) == "move the Task to in-progress first"
    assert remedy("requested", {"completed"}, last_step=False) == (
        "move the Task to accepted, then in-progress first"
    )
    assert "final" in remedy("completed", {"accepted"})
    conflict = status_conflict("book activities", "failed", ("accepted", "in-progress"))
    assert conflict.status == 409
    assert conflict.message.startswith("Cannot book activities: the referral's Task is failed")
    assert "failed is a final status" in conflict.message
