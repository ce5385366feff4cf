"""The coded vocabularies of the directory (DESIGN.md 5.3, 5.4 and 6).

Activity categories and needs are the CodeSystems
``https://w3id.org/assetlink/fhir/CodeSystem/activity-category`` and ``.../need`` of DESIGN.md 5.4;
accessibility codes are those of the referral-preferences extension (5.3); statuses are the
Open Referral UK service statuses (``OpenReferralUK/uk-profile:schema/service.json``).
"""

from __future__ import annotations

from enum import StrEnum


class ActivityCategory(StrEnum):
    ARTS_CREATIVE = "arts-creative"
    MUSIC_SINGING = "music-singing"
    HERITAGE_MUSEUMS = "heritage-museums"
    LIBRARIES_READING = "libraries-reading"
    NATURE_GREEN = "nature-green"
    GARDENING = "gardening"
    PHYSICAL_ACTIVITY = "physical-activity"
    WALKING = "walking"
    DANCE = "dance"
    SOCIAL_GROUPS = "social-groups"
    BEFRIENDING = "befriending"
    LEARNING_SKILLS = "learning-skills"
    VOLUNTEERING = "volunteering"
    ADVICE_WELFARE = "advice-welfare"
    CARERS_SUPPORT = "carers-support"
    BEREAVEMENT_SUPPORT = "bereavement-support"
    PEER_SUPPORT = "peer-support"
    DIGITAL_SKILLS = "digital-skills"
    FOOD_COOKING = "food-cooking"


class Need(StrEnum):
    LONELINESS_ISOLATION = "loneliness-isolation"
    LOW_MOOD = "low-mood"
    ANXIETY_STRESS = "anxiety-stress"
    LONG_TERM_CONDITION = "long-term-condition"
    PHYSICAL_INACTIVITY = "physical-inactivity"
    BEREAVEMENT = "bereavement"
    CARER_SUPPORT = "carer-support"
    DEBT_FINANCE = "debt-finance"
    HOUSING = "housing"
    EMPLOYMENT_LEARNING = "employment-learning"
    OTHER = "other"


class Accessibility(StrEnum):
    WHEELCHAIR = "wheelchair"
    STEP_FREE = "step-free"
    HEARING_LOOP = "hearing-loop"
    LARGE_PRINT = "large-print"
    BSL = "bsl"
    QUIET_SPACE = "quiet-space"


class ServiceStatus(StrEnum):
    ACTIVE = "active"
    INACTIVE = "inactive"
    DEFUNCT = "defunct"
    TEMPORARILY_CLOSED = "temporarily closed"


class AttendingType(StrEnum):
    IN_PERSON = "in-person"
    ONLINE = "online"
    PHONE = "phone"
    HYBRID = "hybrid"


class Gender(StrEnum):
    """``eligibility.gender``: who the activity is for, when it is for one sex only."""

    FEMALE = "female"
    MALE = "male"


class Frequency(StrEnum):
    """ORUK schedules: RFC 5545 ``FREQ``, restricted by the UK profile to these two."""

    WEEKLY = "WEEKLY"
    MONTHLY = "MONTHLY"


WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")  # RFC 5545 BYDAY weekday codes
DAY_ALIASES = {
    **{d: d for d in WEEKDAYS},
    **dict(zip(("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"), WEEKDAYS, strict=True)),
    **dict(
        zip(
            ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY"),
            WEEKDAYS,
            strict=True,
        )
    ),
}
"""``day`` accepts RFC 5545 codes (``MO``), DESIGN 5.3 codes (``mon``) and English names."""

# Column of ``location`` holding each accessibility code.
ACCESSIBILITY_COLUMNS = {
    Accessibility.WHEELCHAIR: "access_wheelchair",
    Accessibility.STEP_FREE: "access_step_free",
    Accessibility.HEARING_LOOP: "access_hearing_loop",
    Accessibility.LARGE_PRINT: "access_large_print",
    Accessibility.BSL: "access_bsl",
    Accessibility.QUIET_SPACE: "access_quiet_space",
}
