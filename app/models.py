"""Every ORM model, imported in one place so ``Base.metadata`` is whole (Alembic reads it)."""

from app.areas.models import LsoaDeprivation, Postcode, PostcodeDistrict
from app.audit.models import AuditEvent
from app.db import Base
from app.directory.models import (
    Activity,
    ActivityCategoryLink,
    ActivityLanguage,
    ActivityNeed,
    CostOption,
    Location,
    Organisation,
    Schedule,
    ServiceArea,
)

__all__ = [
    "Activity",
    "ActivityCategoryLink",
    "ActivityLanguage",
    "ActivityNeed",
    "AuditEvent",
    "Base",
    "CostOption",
    "Location",
    "LsoaDeprivation",
    "Organisation",
    "Postcode",
    "PostcodeDistrict",
    "Schedule",
    "ServiceArea",
]
