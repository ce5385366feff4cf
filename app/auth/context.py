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

PERSON = Principal(sub=audit.SELF, role=Role.REFERRER, org=PERSON_ORG)
"""A person on a public page (no token), through ``app/person`` only: they may create their own
referral and answer their questionnaire link, and reach only self-referrals (what the intake
looks up to link a repeat; a link names its referral itself)."""


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
    def person(cls, request: Request, action: Action = Action.REFERRAL_CREATE) -> Context:
        """The context of a person acting on a public page (``action``: referring themselves,
        or ``Action.OUTCOME_WRITE`` answering their questionnaire link): audited as ``self``."""
        caller = Caller(PERSON, action, Reach.REQUESTED)
        return cls(caller, audit.Actor.of(request, None), deps.sessionmaker_of(request))

    @property
    def org(self) -> str:
        return self.caller.principal.org

    @property
    def reach(self) -> Reach:
        return self.caller.reach
