"""Every ORM model, imported in one place so ``Base.metadata`` is whole (Alembic reads it)."""

from app.audit.models import AuditEvent
from app.db import Base
from app.referrals.models import (
    Consent,
    Patient,
    Referral,
    ReferralCoding,
    ReferralIdentifier,
    ReferralNeed,
    ResourceVersion,
    RoutingRule,
    Task,
)
from app.terminology.models import SnomedNeedMapping

__all__ = [
    "AuditEvent",
    "Base",
    "Consent",
    "Patient",
    "Referral",
    "ReferralCoding",
    "ReferralIdentifier",
    "ReferralNeed",
    "ResourceVersion",
    "RoutingRule",
    "SnomedNeedMapping",
    "Task",
]
