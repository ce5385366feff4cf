"""The request context every domain's use cases take: who is acting, for authorisation and the
audit trail."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request

from app import deps
from app.audit import service as audit
from app.auth.dependencies import Caller
from app.auth.policy import Action, Reach
from app.auth.principal import PERSON_ORG, Principal, Role

PERSON = Caller(
    Principal(sub=audit.SELF, role=Role.REFERRER, org=PERSON_ORG),
    Action.REFERRAL_CREATE,
    Reach.REQUESTED,
)
"""A person on a public page (no token): they may create their own referral, and reach only
self-referrals (what the intake looks up to link a repeat), through ``app/person`` only."""


@dataclass(frozen=True)
class Context:
    """Who is acting, for authorisation and the audit trail."""

    caller: Caller
    actor: audit.Actor
    sessionmaker: async_sessionmaker[AsyncSession]

    @classmethod
    def of(cls, request: Request, caller: Caller) -> Context:
        return cls(caller, audit.Actor.of(request, caller.principal), deps.sessionmaker_of(request))

    @classmethod
    def person(cls, request: Request) -> Context:
        """The context of a person acting on a public page: audited as ``self``."""
        return cls(PERSON, audit.Actor.of(request, None), deps.sessionmaker_of(request))

    @property
    def org(self) -> str:
        return self.caller.principal.org

    @property
    def reach(self) -> Reach:
        return self.caller.reach
