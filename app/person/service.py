"""Self-referral (DESIGN.md 13): a person refers themselves; it becomes the same
ServiceRequest + Task as a GP's referral, written by the referrals domain's one write path.

- checked by ``rules.problems`` (422 naming each field), then built as FHIR (``fhir.py``) and
  checked again by the referral intake, as a GP's referral is;
- routed by the person's postcode (``app/routing`` postcode routes, longest prefix), else by
  their GP practice's routing rule when they gave its ODS code, else the default service;
- a repeat by the same person (same NHS number, or same name, birth date and postcode) while
  their self-referral of the last ``ASSETLINK_SELF_REFERRAL_LINK_DAYS`` days is open is not
  stored again: the answer is the first one's reference, and their new words are added to it as
  a note;
- a filled honeypot field (``website``) is answered like a stored referral, with a reference
  that leads nowhere, and nothing is stored or audited;
- audited with the actor ``self`` (ids only, as every audit row);
- a person already stored (their NHS number) is not changed: anyone can send the form, so it
  must not rewrite a record's address or contact details; the details given are a note on the
  referral instead.

The answer is the same for a new, a linked and a honeypot referral (a reference and what
happens next): it does not tell whoever sends the form whether that person had referred
themselves before.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.context import Context
from app.db import utcnow
from app.errors import Issue, Unprocessable
from app.person import fhir, rules
from app.person.schemas import SelfReferralCreate
from app.person.text import text
from app.referrals import intake, nhs_number
from app.referrals import service as referrals_service
from app.routing import service as routing_service

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read out on the phone
REFERENCE_LENGTH = 10  # 50 bits: a clash is improbable, and retried when it happens


@dataclass(frozen=True)
class Accepted:
    reference: str
    linked: bool  # a repeat, linked to the person's open self-referral (never shown to them)


@dataclass(frozen=True)
class Intake:
    """What the intake needs from the process: the need resolver, the clock skew, the default
    performer and the repeat window."""

    resolve_needs: intake.NeedResolver
    clock_skew: dt.timedelta
    default_performer: str | None
    link_days: int


def new_reference() -> str:
    chars = "".join(secrets.choice(ALPHABET) for _ in range(REFERENCE_LENGTH))
    return f"{chars[:5]}-{chars[5:]}"


@dataclass(eq=False)
class Refused(Unprocessable):
    """A self-referral that breaks ``rules``: 422, each issue naming its field."""

    problems: Sequence[rules.Problem] = ()


def refused(problems: Sequence[rules.Problem]) -> Refused:
    return Refused(
        "The self-referral cannot be accepted",
        [Issue(text(message), field, code="value") for field, message in problems],
        problems=problems,
    )


async def refer(
    session: AsyncSession, ctx: Context, data: SelfReferralCreate, given: Intake
) -> Accepted:
    """Accept a self-referral (422 when it breaks a rule, nothing stored)."""
    if data.website:
        return Accepted(new_reference(), linked=False)  # the honeypot: nothing stored
    problems = rules.problems(data, utcnow().date())
    if problems:
        raise refused(problems)
    postcode = rules.postcode(data.postcode)
    performer = await routing_service.performer_by_postcode(session, postcode)
    practice = (data.gp_practice or "").strip().upper()
    if performer is None and practice:
        performer = (await routing_service.performers(session, [practice])).get(practice)
    if performer is None and given.default_performer is None:
        raise refused([("postcode", "error.no_service")])
    number = nhs_number.normalise(data.nhs_number.strip()) if data.nhs_number else None
    known = bool(number) and await referrals_service.person_known(session, str(number))
    for _ in range(3):
        reference, now = new_reference(), utcnow()
        draft = intake.check_referral(
            fhir.service_request(data, reference, performer, now, person_known=known),
            resolve_needs=given.resolve_needs,
            clock_skew=given.clock_skew,
            self_referral=True,
        )
        since = now - dt.timedelta(days=given.link_days)
        earlier = await referrals_service.earlier_self_referral(session, ctx, draft, since=since)
        if earlier is not None:
            await referrals_service.add_note(session, ctx, earlier, data.about.strip())
            return Accepted(_reference_of(earlier.resource), linked=True)
        stored = await referrals_service.create_referral(
            session, ctx, draft, default_performer=given.default_performer
        )
        if stored.created:
            return Accepted(reference, linked=False)
    raise AssertionError("three references in a row were taken")  # 2^-50 each


def _reference_of(resource: dict[str, object]) -> str:
    identifiers = resource.get("identifier")
    assert isinstance(identifiers, list)
    return next(str(i["value"]) for i in identifiers if i.get("system") == fhir.REFERENCE_SYSTEM)
