"""Self-referrals as a front end sends them, with overrides for each test."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx

from tests.referrals import factories

API = "/api/v1/self-referrals"


def adult_birth_date(years: int = 30) -> str:
    today = dt.date.today()
    return today.replace(year=today.year - years, day=min(today.day, 28)).isoformat()


def self_referral(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "given_name": "Amira",
        "family_name": "Haddad",
        "birth_date": adult_birth_date(),
        "postcode": "ls6 3ab",
        "mobile": "07700 900982",
        "email": "amira@example.com",
        "about": "I feel lonely since I moved here and I do not know anyone",
        "preferences": {
            "attendance_mode": "in-person",
            "available_days": ["tue", "thu"],
            "max_travel_km": 5,
            "accessibility_needs": ["step-free"],
            "group_preferences": ["small-group"],
            "interests": ["gardening", "walking"],
            "language": "ar",
            "free_only": True,
        },
        "gp_practice": "Hyde Park Surgery",
        "nhs_number": None,
        "consent": True,
    }
    body.update(overrides)
    return body


async def refer(client: httpx.AsyncClient, **overrides: Any) -> httpx.Response:
    return await client.post(API, json=self_referral(**overrides))


NHS_NUMBER = factories.nhs_number
