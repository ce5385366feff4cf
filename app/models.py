"""Every ORM model, imported in one place so ``Base.metadata`` is whole (Alembic reads it)."""

from app.areas.models import LsoaDeprivation, Postcode, PostcodeDistrict
from app.audit.models import AuditEvent
from app.bookings.models import Booking
from app.db import Base
from app.directory.models import (
    Activity,
    ActivityCategoryLink,
    ActivityChange,
    ActivityLanguage,
    ActivityNeed,
    CostOption,
    DatabaseEpoch,
    DirectoryFeed,
    Location,
    Organisation,
    Schedule,
    ServiceArea,
)
from app.matching.models import UnsuitableMark
from app.messages.models import Message
from app.notifications.models import Delivery, OutboxEvent, Subscription
from app.outcomes.models import OutcomeRecord, OutcomeScore
from app.questionnaires.models import QuestionnaireLink, QuestionnaireLinkToken
from app.referrals.models import (
    Consent,
    Patient,
    Referral,
    ReferralCoding,
    ReferralIdentifier,
    ReferralNeed,
    ResourceVersion,
    Task,
)
from app.reporting.models import (
    ReportCategory,
    ReportChange,
    ReportDirty,
    ReportNeed,
    ReportPurged,
    ReportReferral,
)
from app.routing.models import RoutingRule
from app.terminology.models import NeedPhrase, SnomedNeedMapping

__all__ = [
    "Activity",
    "ActivityCategoryLink",
    "ActivityChange",
    "ActivityLanguage",
    "ActivityNeed",
    "AuditEvent",
    "Base",
    "Booking",
    "Consent",
    "CostOption",
    "DatabaseEpoch",
    "Delivery",
    "DirectoryFeed",
    "Location",
    "LsoaDeprivation",
    "Message",
    "NeedPhrase",
    "Organisation",
    "OutboxEvent",
    "OutcomeRecord",
    "OutcomeScore",
    "Patient",
    "Postcode",
    "PostcodeDistrict",
    "QuestionnaireLink",
    "QuestionnaireLinkToken",
    "Referral",
    "ReferralCoding",
    "ReferralIdentifier",
    "ReferralNeed",
    "ReportCategory",
    "ReportChange",
    "ReportDirty",
    "ReportNeed",
    "ReportPurged",
    "ReportReferral",
    "ResourceVersion",
    "RoutingRule",
    "Schedule",
    "ServiceArea",
    "SnomedNeedMapping",
    "Subscription",
    "Task",
    "UnsuitableMark",
]
