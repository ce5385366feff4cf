"""Paired completion by route as published: disclosure control on its counts and shares."""

from __future__ import annotations

from app.reporting.disclosure import DisclosureRules
from app.reporting.service import publish_paired_completion


def test_small_counts_are_suppressed_with_their_complement_and_shares() -> None:
    rows = publish_paired_completion({"link-worker": (40, 22), "link": (5, 3)}, DisclosureRules())
    by_route = {r.group["route"]: r.figures for r in rows}
    assert by_route["link"]["with_baseline"].suppressed
    assert by_route["link-worker"]["with_baseline"].suppressed  # else: total minus it
    assert by_route["all"]["with_baseline"].value == 45
    assert by_route["link"]["share_paired"].suppressed
    assert by_route["link-worker"]["share_paired"].value is not None
    assert by_route["all"]["share_paired"].value == 56  # 25 of 45, whole percent


def test_no_one_with_a_baseline_gives_no_share() -> None:
    rows = publish_paired_completion({"link-worker": (0, 0), "link": (0, 0)}, DisclosureRules())
    assert [r.figures["share_paired"].value for r in rows] == [None, None, None]
    assert not any(r.figures["share_paired"].suppressed for r in rows)
