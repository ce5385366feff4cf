"""The process's self-referral rate limiter (set on ``app.state`` by ``create_app``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from app.deps import provider
from app.ops.abuse import RateLimiter


def self_referral_limiter_of(request: Request) -> RateLimiter | None:
    found: RateLimiter | None = request.app.state.self_referral_limiter
    return found


SelfReferralLimiterDep = Annotated[RateLimiter | None, Depends(provider(self_referral_limiter_of))]
