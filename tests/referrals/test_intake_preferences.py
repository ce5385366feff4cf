"""The referral-preferences extension's group wishes (groupPreference, issue 19): what the GP
can say of the group the person would go to, carried to matching."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from app.errors import Unprocessable
from app.referrals import intake, needs
from app.terminology.resolver import NO_PHRASES
from app.terminology.service import NeedMaps
from tests.referrals import factories


def _preferences(*codes: str) -> dict[str, Any]:
    return _with(groupPreference=[{"valueCode": c} for c in codes])


def _with(**parts: Any) -> dict[str, Any]:
    """The stored preferences of a referral whose extension has these parts."""
    sr = factories.service_request(extension=[factories.preferences(**parts)])
    return intake.check_referral(
        sr,
        resolve_needs=needs.resolver(NeedMaps({}, NO_PHRASES)),
        clock_skew=dt.timedelta(seconds=60),
    ).preferences


def test_group_preferences_are_kept_once_each_in_order() -> None:
    assert _preferences("small-group", "quiet", "small-group") == {
        "group_preferences": ["small-group", "quiet"]
    }
    assert _preferences("women-only") == {"group_preferences": ["women-only"]}


def test_an_unknown_group_preference_is_refused_naming_the_codes() -> None:
    with pytest.raises(Unprocessable) as refused:
        _preferences("adults-only")
    (issue,) = refused.value.issues
    assert (issue.expression or "").endswith(".valueCode")
    assert "women-only, men-only, small-group, quiet" in issue.message


def test_women_only_and_men_only_together_are_refused() -> None:
    with pytest.raises(Unprocessable) as refused:
        _preferences("women-only", "men-only")
    assert [i.message for i in refused.value.issues] == [
        "groupPreference cannot be both women-only and men-only"
    ]


def test_contact_by_message_is_kept_and_must_be_a_boolean() -> None:
    """Issue 21: the person may say no to texts and emails (docs/messages.md)."""
    assert _with(contactByMessage={"valueBoolean": False}) == {"contact_by_message": False}
    assert _with(freeOnly={"valueBoolean": True}) == {"free_only": True}
    with pytest.raises(Unprocessable) as refused:
        _with(contactByMessage={"valueCode": "no"})
    (issue,) = refused.value.issues
    assert issue.message == "contactByMessage needs valueBoolean"
