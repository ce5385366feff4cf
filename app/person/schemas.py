"""The self-referral as a front end sends it (``POST /api/v1/self-referrals``), and the answer.

Types and sizes are checked here; the rules that need the date or a checksum (16 or older, the
NHS number's Modulus 11, a UK mobile, a contact given, consent) are ``rules.py``'s, shared with
the ``/refer`` form."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from app.ops.input_guard import Text

AttendanceMode = Literal["in-person", "online", "phone", "any"]
DigitalAccess = Literal["none", "limited", "full"]
Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
Accessibility = Literal[
    "wheelchair", "step-free", "hearing-loop", "large-print", "bsl", "quiet-space"
]
GroupPreference = Literal["women-only", "men-only", "small-group", "quiet"]
# the codes of the intake's vocabulary (app/referrals/intake.py; tests/person/test_schemas.py)
LANGUAGES = (
    *("ar", "bn", "cy", "es", "fa", "fr", "gu", "hi", "ku", "lt", "pa", "pl"),
    *("pt", "ro", "ru", "so", "ta", "ti", "tr", "uk", "ur", "yue", "zh"),
)
"""BCP 47 codes offered on the form (an API caller may send any)."""
TRAVEL_KM = (2, 5, 10, 20)  # the choices on the form (an API caller may send any in (0, 500])
ABOUT_MAX = 2000


class Preferences(BaseModel):
    """What would suit the person: the referral-preferences extension (DESIGN.md 5.3) and
    their language, all optional."""

    model_config = ConfigDict(extra="forbid")

    attendance_mode: AttendanceMode | None = None
    digital_access: DigitalAccess | None = None
    available_days: list[Day] = Field(default_factory=list, max_length=7)
    max_travel_km: float | None = Field(None, gt=0, le=500)
    free_only: bool = False
    accessibility_needs: list[Accessibility] = Field(default_factory=list, max_length=6)
    group_preferences: list[GroupPreference] = Field(default_factory=list, max_length=4)
    interests: list[str] = Field(
        default_factory=list, max_length=19, description="activity-category codes"
    )
    language: str | None = Field(
        None, pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$", description="BCP 47 code"
    )


class SelfReferralCreate(BaseModel):
    """A person aged 16 or older referring themselves to a link-worker service."""

    model_config = ConfigDict(extra="forbid")

    given_name: Text = Field(min_length=1, max_length=100)
    family_name: Text = Field(min_length=1, max_length=100)
    birth_date: dt.date
    postcode: Text = Field(min_length=5, max_length=10, description="a UK postcode")
    mobile: Text | None = Field(None, max_length=20, description="a UK mobile number")
    email: Text | None = Field(None, max_length=254)
    about: Text = Field(
        min_length=1, max_length=ABOUT_MAX, description="what is going on, in their own words"
    )
    preferences: Preferences = Field(default_factory=Preferences)
    gp_practice: Text | None = Field(
        None, max_length=100, description="their GP practice: its ODS code or its name"
    )
    nhs_number: Text | None = Field(None, max_length=14, description="checked when given")
    consent: bool = Field(
        description="they agree to be referred and to share these details with the link-worker "
        "service (required: true)"
    )
    website: str | None = Field(
        None,
        max_length=200,
        description="leave out or empty: a field people do not see on the form (a filled one "
        "is answered as usual and nothing is stored)",
    )


class SelfReferralAccepted(BaseModel):
    reference: str = Field(description="the person's reference for their self-referral")
    next_steps: str
