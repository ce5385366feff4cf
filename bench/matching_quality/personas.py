"""The benchmark's people: each described as a link worker would, turned into the FHIR
ServiceRequest a GP system sends (`referral`), and labelled against the benchmark's directory.

Labels (activity ids without the ``bench-`` prefix, each with a one-line reason):

- ``ideal``: what a link worker would offer first;
- ``accept``: would also be fine to offer;
- ``never``: must not be in the first five (made for another situation, or wrong for this
  person in a way the link worker would not accept).

Activities not labelled count as neither good nor bad (gain 0, not a violation). The criteria
are in LABELLING.md (the second, blind review applied them to every eligible activity; the kinds
of activity made for a situation are shared groups merged by `others`). The labels were
written before any change to the ranking and are reviewed like code: change one only with the
reason, in its own commit. A wish for a women-only group or a quiet small group is in the story
and the ``note`` (``ServiceRequest.note``, as a GP writes it) and, since issue 19, also in the
referral's ``groupPreference`` (``groups``); the labels follow the story.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from app.referrals.intake import ODS_SYSTEM, PREFERENCES_URL, REFERRAL_CODE, SNOMED
from app.terminology.codesystems import ACTIVITY_CATEGORY_SYSTEM, NEED_SYSTEM
from bench.matching_quality.directory import ACTIVITIES, ONLINE, PHONE

LABELS = ("ideal", "accept", "never")
REQUESTER_ODS = "A81001"
GP_SYSTEM = "https://fhir.example-gp.nhs.uk/Id/referral"
BCP47 = "urn:ietf:bcp:47"


@dataclass(frozen=True)
class Persona:
    id: str
    story: str  # as the link worker would describe the person
    born: str  # YYYY-MM-DD
    gender: str
    postcode: str
    needs: tuple[tuple[str, str], ...]  # (need code, the GP's words), most important first
    interests: tuple[str, ...] = ()
    mode: str | None = None  # attendanceMode
    digital: str | None = None  # digitalAccess
    access: tuple[str, ...] = ()  # accessibilityNeed
    days: tuple[str, ...] = ()  # availableDay
    free_only: bool = False
    km: float | None = None  # maxTravelKm
    languages: tuple[str, ...] = ()  # BCP 47, preferred first; empty = English, not recorded
    note: str | None = None
    groups: tuple[str, ...] = ()  # groupPreference: what the note says of the group wanted
    ideal: dict[str, str] = field(default_factory=dict)
    accept: dict[str, str] = field(default_factory=dict)
    never: dict[str, str] = field(default_factory=dict)


def _nhs_number(seed: str) -> str:
    """A 999-range NHS number (never a real person) with a valid check digit, from ``seed``."""
    digest = int(hashlib.sha256(seed.encode()).hexdigest(), 16)
    for attempt in range(100):
        body = "999" + f"{(digest + attempt) % 1_000_000:06d}"
        total = sum(int(d) * (10 - i) for i, d in enumerate(body))
        check = 11 - total % 11
        if check == 11:
            check = 0
        if check != 10:
            return body + str(check)
    raise AssertionError("no NHS number")  # pragma: no cover


def referral(p: Persona) -> dict[str, Any]:
    """The persona's referral as a GP system sends it (contained Patient and Consent)."""
    prefs: list[dict[str, Any]] = [
        {"url": "interest", "valueCoding": {"system": ACTIVITY_CATEGORY_SYSTEM, "code": code}}
        for code in p.interests
    ]
    if p.mode:
        prefs.append({"url": "attendanceMode", "valueCode": p.mode})
    if p.digital:
        prefs.append({"url": "digitalAccess", "valueCode": p.digital})
    prefs += [{"url": "accessibilityNeed", "valueCode": code} for code in p.access]
    prefs += [{"url": "availableDay", "valueCode": day} for day in p.days]
    prefs += [{"url": "groupPreference", "valueCode": code} for code in p.groups]
    if p.free_only:
        prefs.append({"url": "freeOnly", "valueBoolean": True})
    if p.km is not None:
        prefs.append({"url": "maxTravelKm", "valueDecimal": p.km})
    patient: dict[str, Any] = {
        "resourceType": "Patient",
        "id": "patient",
        "identifier": [{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": _nhs_number(p.id)}],
        "name": [{"family": "Bench", "given": [p.id]}],
        "gender": p.gender,
        "birthDate": p.born,
        "address": [{"line": ["1 Example Street"], "city": "London", "postalCode": p.postcode}],
    }
    if p.languages:
        patient["communication"] = [
            {"language": {"coding": [{"system": BCP47, "code": code}]}, "preferred": i == 0}
            for i, code in enumerate(p.languages)
        ]
    resource: dict[str, Any] = {
        "resourceType": "ServiceRequest",
        "contained": [
            patient,
            {
                "resourceType": "Consent",
                "id": "consent",
                "status": "active",
                "scope": {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/consentscope",
                            "code": "patient-privacy",
                        }
                    ]
                },
                "category": [{"coding": [{"system": "http://loinc.org", "code": "59284-0"}]}],
                "patient": {"reference": "#patient"},
                "dateTime": "2026-11-01T09:55:00+00:00",
                "policyRule": {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
                            "code": "OPTIN",
                        }
                    ]
                },
            },
        ],
        "identifier": [{"system": GP_SYSTEM, "value": f"BENCH-{p.id}"}],
        "status": "active",
        "intent": "order",
        "code": {"coding": [{"system": SNOMED, "code": REFERRAL_CODE}]},
        "subject": {"reference": "#patient"},
        "requester": {"identifier": {"system": ODS_SYSTEM, "value": REQUESTER_ODS}},
        "authoredOn": "2026-11-01T10:00:00+00:00",
        "reasonCode": [
            {"coding": [{"system": NEED_SYSTEM, "code": code}], "text": words}
            for code, words in p.needs
        ],
        "supportingInfo": [{"reference": "#consent"}],
    }
    if prefs:
        resource["extension"] = [{"url": PREFERENCES_URL, "extension": prefs}]
    if p.note:
        resource["note"] = [{"text": p.note}]
    return resource


P = Persona

# Kinds of activity made for a situation or group (LABELLING.md, "never"): a persona's ``never``
# merges those it is not in with `others`, so that similar personas get the same labels.
HOMELESS = {
    "rough-sleeping-outreach": "for people sleeping rough; housed",
    "day-centre-homeless": "for people who are homeless; housed",
}
SIGHT_LOSS = {
    "sight-loss-club-hackney": "for people with sight loss",
    "sight-loss-club-bow": "for people with sight loss",
    "sight-loss-tech": "for people with sight loss",
    "talking-books": "for people with sight loss",
}
CONDITIONS = {
    "singing-lungs": "for lung conditions",
    "parkinsons-dance": "for Parkinson's",
    "stroke-club": "for stroke survivors",
    "hybrid-singing": "for people living with dementia and their carers",
    "heart-online": "for heart conditions",
    "fatigue-online": "for long Covid or ME/CFS",
    "pain-management": "for persistent pain",
    "diabetes-group": "for type 2 diabetes",
    "hearing-voices": "for people who hear voices",
    "wheelchair-sports": "for disabled adults",
}
GAMBLING = {"gamblers-support": "for gambling harm"}
CARERS = {
    "carers-cafe": "for unpaid carers",
    "carers-advice-line": "for unpaid carers",
    "carers-online": "for unpaid carers",
    "dementia-carers": "for carers of someone with dementia",
    "carers-pamper": "for unpaid carers",
}
BEREAVEMENT = {
    "bereavement-cafe-clapton": "for bereaved people",
    "bereavement-group-holloway": "for bereaved people",
    "bereavement-walk": "for bereaved people",
    "bereavement-phone": "for bereaved people",
    "grief-art": "for bereaved people",
    "widows-lunch": "for people widowed under 60",
    "child-bereavement-parents": "for parents whose child died",
    "suicide-bereavement": "for people bereaved by suicide",
    "bereavement-bengali": "for widowed and bereaved women, in Bengali",
}
JOB_SEEKERS = {
    "job-club-dalston": "for people looking for work",
    "job-club-whitechapel": "for people looking for work",
    "digital-job-skills": "computer skills for job seekers",
    "esol-work": "English for job seekers",
}
LEARNING_ENGLISH = {
    "esol-conversation": "for people learning English",
    "esol-work": "English for job seekers",
}
PHONE_ONLY = {
    "rent-bills-line": "a phone line",
    "energy-advice-phone": "a phone line",
    "bereavement-phone": "a phone line",
    "polish-support-line": "a phone line",
    "sight-loss-tech": "a phone line",
    "talking-therapy-phone": "a phone line",
    "befriending-phone": "a phone line",
    "carers-advice-line": "a phone line",
    "digital-phone-help": "a phone line",
}
IN_LANGUAGE = {
    "bn": {
        "bengali-womens-group": "held in Bengali",
        "bengali-elders": "held in Bengali",
        "bengali-sewing": "held in Bengali",
        "bereavement-bengali": "held in Bengali",
        "digital-bengali": "taught in Bengali",
    },
    "tr": {
        "turkish-womens-group": "held in Turkish and Kurdish",
        "turkish-elders": "held in Turkish",
        "turkish-walk": "held in Turkish",
        "turkish-advice": "held in Turkish and Kurdish",
        "turkish-exercise-women": "held in Turkish",
    },
    "so": {
        "somali-womens-group": "held in Somali",
        "somali-elders": "held in Somali",
        "somali-advice": "held in Somali",
        "somali-walk-women": "held in Somali",
    },
    "pl": {"polish-club": "held in Polish", "polish-support-line": "in Polish"},
    "bfi": {"bsl-social": "in British Sign Language, for Deaf people"},
}
MIXED_EXERCISE = dict.fromkeys(
    (
        "mixed-gym-londonfields",
        "mixed-gym-highbury",
        "health-walk-springfield",
        "health-walk-clissold",
        "health-walk-mileend",
        "walk-islington",
        "nordic-walking",
        "tai-chi",
        "walking-football",
        "canal-walk-long",
        "dance-over-50",
        "boxing-fitness",
        "chair-exercise",
        "falls-prevention",
    ),
    "mixed; she asked for women-only",
)
# every activity held at a venue (not by phone or online): the never of someone housebound
IN_PERSON = {
    a.id: "in person; she is housebound"
    for a in ACTIVITIES
    if a.where not in (ONLINE, PHONE) and a.id != "befriending-home"
}


def others(
    *groups: dict[str, str], speaks: tuple[str, ...] = ("en",), but: tuple[str, ...] = ()
) -> dict[str, str]:
    """The ``never`` labels of ``groups`` and of the groups held in a language the persona does
    not speak (``speaks``), except the activities in ``but`` (labelled otherwise)."""
    merged: dict[str, str] = {}
    for language, held in IN_LANGUAGE.items():
        if language not in speaks:
            merged.update(held)
    for group in groups:
        merged.update(group)
    return {a: reason for a, reason in merged.items() if a not in but}


# the groups a persona is rarely in: merged into most personas' never (LABELLING.md)
USUAL = (HOMELESS, SIGHT_LOSS, CONDITIONS, GAMBLING, CARERS, BEREAVEMENT, JOB_SEEKERS)
JOBS_ENGLISH = (JOB_SEEKERS, LEARNING_ENGLISH)
# PERSONAS below
PERSONAS: tuple[Persona, ...] = (
    # --- money, rent, work, housing ---------------------------------------------------------
    P(
        "debt-rent-clapton",
        "44, works mornings as a cleaner, behind on rent and energy bills, bailiff letters; "
        "housed (council flat); has a phone and a smartphone; free weekday afternoons.",
        "1982-03-14",
        "female",
        "E5 3UX",
        (
            ("debt-finance", "Behind on rent and bills, bailiff letters"),
            ("housing", "Rent arrears, worried about eviction"),
        ),
        days=("mon", "tue", "wed", "thu", "fri"),
        ideal={
            "rent-bills-line": "made for rent and bill arrears, by phone around her shifts",
            "money-clinic-clapton": "face-to-face debt advice 5 minutes away",
        },
        accept={
            "housing-advice-hackney": "arrears and eviction advice",
            "money-clinic-whitechapel": "debt and rent advice, further away",
            "energy-advice-phone": "energy debt is part of it",
            "benefits-online": "a benefit check helps the budget",
            "food-bank-lea": "money adviser on hand at the food bank",
            "tenants-association": "tenants' rights when facing arrears",
            "budget-cooking": "cheap meals help the budget, round the corner",
        },
        never={
            **others(*USUAL, LEARNING_ENGLISH),
            "job-club-dalston": "she works; the problem is arrears, not finding a job",
            "job-club-whitechapel": "she works",
            "gamblers-support": "no gambling in her story",
        },
    ),
    P(
        "debt-jobless-whitechapel",
        "38, lost his warehouse job in the summer, council tax and credit card arrears, wants to "
        "get back to work; housed; online at the library.",
        "1988-07-02",
        "male",
        "E1 1UV",
        (
            ("debt-finance", "Council tax and credit card arrears"),
            ("employment-learning", "Lost his job, wants work"),
        ),
        ideal={
            "money-clinic-whitechapel": "debt advice round the corner",
            "job-club-whitechapel": "job club round the corner",
            "rent-bills-line": "arrears support by phone",
        },
        accept={
            "job-club-dalston": "job club, further",
            "benefits-online": "benefit check while out of work",
            "digital-job-skills": "online job applications",
            "volunteer-centre": "volunteering on the way back to work",
            "energy-advice-phone": "bills advice",
            "money-clinic-clapton": "debt advice, further away",
            "food-bank-lea": "money adviser on hand at the food bank",
            "budget-cooking": "cheap meals help the budget",
            "adult-learning": "maths, English and computing courses, free on benefits",
            "library-volunteers": "volunteering with training, near, on the way back to work",
            "food-volunteers": "volunteering on the way back to work",
        },
        never={
            **others(HOMELESS, SIGHT_LOSS, CONDITIONS, CARERS, BEREAVEMENT, LEARNING_ENGLISH),
            "rough-sleeping-outreach": "he is housed",
            "day-centre-homeless": "he is housed",
            "gamblers-support": "no gambling in his story",
        },
    ),
    P(
        "sleeping-rough",
        "52, sleeping rough around Whitechapel since October after a relationship ended; no "
        "phone credit, no internet; registered at the practice's address.",
        "1974-01-20",
        "male",
        "E1 2WX",
        (("housing", "Sleeping rough since October"),),
        mode="in-person",
        digital="none",
        ideal={
            "rough-sleeping-outreach": "made for people sleeping rough",
            "day-centre-homeless": "breakfast, showers and housing caseworkers nearby",
        },
        accept={"housing-advice-hackney": "housing advice", "food-bank-lea": "food"},
        never={
            **others(SIGHT_LOSS, CONDITIONS, GAMBLING, CARERS, BEREAVEMENT, *JOBS_ENGLISH),
            "tenants-association": "he has no tenancy",
            "rent-bills-line": "he has no rent or bills: the outreach team is what he needs",
            "energy-advice-phone": "he has no home or energy bills, and no phone credit",
        },
    ),
    P(
        "debt-bengali",
        "61, speaks Bengali and Sylheti, very little English; rent arrears and a loan she does "
        "not understand; not looking for work.",
        "1965-05-05",
        "female",
        "E1 3YZ",
        (("debt-finance", "Debts and rent arrears, speaks little English"),),
        languages=("bn",),
        ideal={"money-clinic-whitechapel": "debt advice with Bengali-speaking advisers nearby"},
        accept={
            "rent-bills-line": "arrears line with interpreters",
            "food-bank-lea": "food and a money adviser",
        },
        never={
            **others(*USUAL, speaks=("bn",)),
            "somali-advice": "held in Somali",
            "turkish-advice": "held in Turkish and Kurdish, far",
            "rough-sleeping-outreach": "she is housed",
            "day-centre-homeless": "she is housed",
            "job-club-whitechapel": "not looking for work",
        },
    ),
    P(
        "debt-gambling",
        "31, works in a shop, gambling debts of several thousand pounds, anxious about it.",
        "1995-09-09",
        "male",
        "E8 8GW",
        (("debt-finance", "Gambling debts"), ("anxiety-stress", "Anxious, not sleeping")),
        ideal={
            "gamblers-support": "made for gambling harm, with debt advice",
            "money-clinic-clapton": "debt advice nearby",
        },
        accept={
            "birdwatch": "made for anxiety, his secondary need",
            "boxing-fitness": "made for anxiety, his secondary need",
            "pottery": "made for anxiety, his secondary need",
            "quiet-art": "made for anxiety, his secondary need",
            "tai-chi": "made for anxiety, his secondary need",
            "therapeutic-garden": "made for anxiety, his secondary need",
            "money-clinic-whitechapel": "debt advice",
            "rent-bills-line": "debt support by phone",
            "anxiety-group": "anxiety course",
            "benefits-online": "budget check",
            "food-bank-lea": "money adviser on hand at the food bank",
            "hybrid-anxiety-course": "stress control course for his anxiety",
            "mindfulness-online": "mindfulness for his anxiety, evenings",
            "talking-therapy-phone": "wellbeing calls for his anxiety",
        },
        never={
            **others(HOMELESS, SIGHT_LOSS, CONDITIONS, CARERS, BEREAVEMENT, LEARNING_ENGLISH),
            "rough-sleeping-outreach": "he is housed",
            "day-centre-homeless": "he is housed",
            "job-club-dalston": "he works",
            "job-club-whitechapel": "he works",
            "digital-job-skills": "he works",
        },
    ),
    P(
        "energy-debt-pensioner",
        "82, lives alone, cannot afford to heat the flat, no internet, happiest on the phone.",
        "1944-02-11",
        "female",
        "E9 1DF",
        (("debt-finance", "Cannot afford heating"),),
        mode="phone",
        digital="none",
        ideal={
            "energy-advice-phone": "energy debt and heating grants, by phone",
            "rent-bills-line": "bills support by phone",
        },
        accept={
            "money-clinic-clapton": "debt advice in person",
            "food-bank-lea": "food and a money adviser",
        },
        never={
            **others(*USUAL, LEARNING_ENGLISH),
            "job-club-dalston": "retired",
            "job-club-whitechapel": "retired",
            "rough-sleeping-outreach": "she is housed",
            "gamblers-support": "no gambling",
        },
    ),
    P(
        "housing-disrepair",
        "50, private tenant in Hoxton, damp flat, landlord ignores repairs and raised the rent.",
        "1976-04-30",
        "male",
        "N1 3HR",
        (("housing", "Damp flat, landlord will not repair"),),
        ideal={
            "housing-advice-hackney": "tenants' advice on disrepair",
            "tenants-association": "tenants' rights workshop",
        },
        accept={"rent-bills-line": "rent increase advice"},
        never={
            **others(*USUAL, LEARNING_ENGLISH),
            "rough-sleeping-outreach": "he has a home",
            "day-centre-homeless": "he has a home",
            "job-club-dalston": "not looking for work: referred for his flat",
        },
    ),
    P(
        "esol-job-seeker",
        "29, came from Sylhet three years ago, speaks some English, wants a job and better "
        "English.",
        "1997-08-18",
        "female",
        "E1 3YZ",
        (("employment-learning", "Wants work, needs better English"),),
        languages=("bn", "en"),
        ideal={"esol-work": "English for work nearby", "job-club-whitechapel": "job club nearby"},
        accept={
            "esol-conversation": "conversation practice",
            "digital-bengali": "digital skills in Bengali",
            "library-volunteers": "volunteering experience",
            "volunteer-centre": "volunteering experience",
            "digital-job-skills": "computer skills for work",
            "job-club-dalston": "job club, further",
            "adult-learning": "English and computing courses, free on benefits",
            "food-volunteers": "volunteering experience",
        },
        never={
            **others(
                HOMELESS, SIGHT_LOSS, CONDITIONS, GAMBLING, CARERS, BEREAVEMENT, speaks=("bn", "en")
            ),
            "rough-sleeping-outreach": "she is housed",
            "day-centre-homeless": "she is housed",
        },
    ),
    # --- bereavement --------------------------------------------------------------------------
    P(
        "bereaved-widower",
        "74, wife died in August after cancer, lives alone, struggling; walks well.",
        "1952-06-01",
        "male",
        "E5 3UX",
        (("bereavement", "Wife died in August"), ("loneliness-isolation", "Lives alone")),
        ideal={
            "bereavement-cafe-clapton": "bereavement café round the corner",
            "bereavement-walk": "bereavement walk in the park",
        },
        accept={
            "art-studio-open": "made for loneliness, his secondary need",
            "befriending-home": "made for loneliness, his secondary need",
            "bingo-social": "made for loneliness, his secondary need",
            "book-club-whitechapel": "made for loneliness, his secondary need",
            "choir-islington": "made for loneliness, his secondary need",
            "coffee-morning-archway": "made for loneliness, his secondary need",
            "community-choir-hackney": "made for loneliness, his secondary need",
            "community-garden-clapton": "made for loneliness, his secondary need",
            "conservation-volunteers": "made for loneliness, his secondary need",
            "food-volunteers": "made for loneliness, his secondary need",
            "garden-islington": "made for loneliness, his secondary need",
            "health-walk-clissold": "made for loneliness, his secondary need",
            "heritage-tours": "made for loneliness, his secondary need",
            "hybrid-book-club": "made for loneliness, his secondary need",
            "knit-natter": "made for loneliness, his secondary need",
            "library-volunteers": "made for loneliness, his secondary need",
            "mens-shed-bow": "made for loneliness, his secondary need",
            "mens-walk": "made for loneliness, his secondary need",
            "silver-singers": "made for loneliness, his secondary need",
            "volunteer-centre": "made for loneliness, his secondary need",
            "walk-islington": "made for loneliness, his secondary need",
            "walking-football": "made for loneliness, his secondary need",
            "bereavement-phone": "bereavement calls",
            "bereavement-group-holloway": "bereavement group, further",
            "grief-art": "art for grief",
            "lunch-club-clapton": "company at lunch",
            "befriending-phone": "weekly calls for someone over 60 living alone",
            "cooking-men": "for men living alone, cook and eat together",
            "mens-shed-hackney": "company for a man on his own, nearby",
            "singing-wellbeing": "friendly singing group round the corner, for loneliness",
        },
        never={
            **others(HOMELESS, SIGHT_LOSS, CONDITIONS, GAMBLING, CARERS, *JOBS_ENGLISH),
            "suicide-bereavement": "his wife died of cancer, not suicide",
            "child-bereavement-parents": "for parents whose child died",
            "bereavement-bengali": "for women, in Bengali",
        },
    ),
    P(
        "bereaved-daughter-evenings",
        "45, her mother died in spring, low since; works full time in the day, free Tuesday to "
        "Thursday evenings.",
        "1981-10-10",
        "female",
        "N7 7BB",
        (("bereavement", "Mother died in spring"), ("low-mood", "Low since")),
        days=("tue", "wed", "thu"),
        ideal={"bereavement-group-holloway": "evening bereavement group near home"},
        accept={
            "art-studio-open": "made for low mood, her secondary need (daytime)",
            "community-garden-clapton": "made for low mood, her secondary need (daytime)",
            "quiet-art": "made for low mood, her secondary need (daytime)",
            "singing-wellbeing": "made for low mood, her secondary need (daytime)",
            "therapeutic-garden": "made for low mood, her secondary need (daytime)",
            "bereavement-phone": "bereavement calls until 8pm",
            "grief-art": "art for grief (daytime)",
            "bereavement-cafe-clapton": "bereavement café (daytime)",
            "creative-writing": "small supportive group for low mood, Thursday evenings, near",
            "peer-support-low-mood": "low mood peer group (daytime)",
            "talking-therapy-phone": "wellbeing calls for low mood (working hours)",
        },
        never={
            **others(HOMELESS, SIGHT_LOSS, CONDITIONS, GAMBLING, CARERS, *JOBS_ENGLISH),
            "suicide-bereavement": "not bereaved by suicide",
            "child-bereavement-parents": "for parents whose child died",
            "bereavement-bengali": "held in Bengali",
        },
    ),
    P(
        "bereaved-parent",
        "39, his teenage son died last year of an illness; prefers to join from home in the "
        "evening.",
        "1987-03-03",
        "male",
        "E8 3HJ",
        (("bereavement", "Son died last year"),),
        mode="online",
        ideal={"child-bereavement-parents": "made for parents whose child died, online"},
        accept={
            "bereavement-phone": "bereavement calls",
            "bereavement-group-holloway": "general bereavement group",
        },
        never={
            **others(HOMELESS, SIGHT_LOSS, CONDITIONS, GAMBLING, CARERS, *JOBS_ENGLISH),
            "widows-lunch": "for people widowed",
            "suicide-bereavement": "his son did not die by suicide",
            "bereavement-bengali": "for women, in Bengali",
        },
    ),
    P(
        "bereaved-by-suicide",
        "33, her brother took his own life in September; anxious, not sleeping.",
        "1993-12-12",
        "female",
        "E8 6DZ",
        (("bereavement", "Brother took his own life"), ("anxiety-stress", "Anxious")),
        ideal={"suicide-bereavement": "made for people bereaved by suicide"},
        accept={
            "birdwatch": "made for anxiety, her secondary need",
            "boxing-fitness": "made for anxiety, her secondary need",
            "pottery": "made for anxiety, her secondary need",
            "quiet-art": "made for anxiety, her secondary need",
            "tai-chi": "made for anxiety, her secondary need",
            "therapeutic-garden": "made for anxiety, her secondary need",
            "bereavement-phone": "bereavement calls",
            "bereavement-cafe-clapton": "bereavement café",
            "bereavement-walk": "bereavement walk",
            "bereavement-group-holloway": "bereavement group",
            "grief-art": "small art group for grief",
            "anxiety-group": "anxiety course for her anxiety",
            "hybrid-anxiety-course": "stress control course for her anxiety",
            "mindfulness-online": "mindfulness for anxiety and sleep",
            "talking-therapy-phone": "wellbeing calls for her anxiety",
        },
        never={
            **others(HOMELESS, SIGHT_LOSS, CONDITIONS, GAMBLING, CARERS, *JOBS_ENGLISH),
            "child-bereavement-parents": "for parents whose child died",
            "widows-lunch": "for people widowed",
            "bereavement-bengali": "held in Bengali, for widowed women",
        },
    ),
    P(
        "bereaved-bengali-widow",
        "67, husband died in the summer, speaks only Bengali, lonely at home.",
        "1959-01-15",
        "female",
        "E1 1UV",
        (("bereavement", "Husband died"), ("loneliness-isolation", "Lonely at home")),
        languages=("bn",),
        ideal={"bereavement-bengali": "bereavement circle in Bengali for widowed women"},
        accept={
            "bengali-womens-group": "women's group in Bengali, for her loneliness, not grief",
            "bengali-elders": "lunch club in Bengali",
            "bengali-sewing": "sewing group in Bengali",
        },
        never={
            **others(
                HOMELESS, SIGHT_LOSS, CONDITIONS, GAMBLING, CARERS, JOB_SEEKERS, speaks=("bn",)
            ),
            "bereavement-phone": "phone calls in English she cannot follow",
            "talking-therapy-phone": "phone calls in English she cannot follow",
            "befriending-phone": "phone calls in English she cannot follow",
            "sight-loss-club-bow": "for people with sight loss",
            "talking-books": "for people with sight loss",
            "turkish-womens-group": "held in Turkish",
            "somali-womens-group": "held in Somali",
            "suicide-bereavement": "her husband did not die by suicide",
            "child-bereavement-parents": "for parents whose child died",
        },
    ),
    P(
        "bereaved-young-widow",
        "52, widowed in the spring, works weekdays; Sundays are the worst.",
        "1974-05-25",
        "female",
        "E2 6EF",
        (("bereavement", "Husband died in spring"), ("loneliness-isolation", "Lonely weekends")),
        days=("sat", "sun"),
        ideal={
            "widows-lunch": "Sunday lunch for people widowed under 60",
            "bereavement-walk": "Saturday bereavement walk",
        },
        accept={
            "library-volunteers": "Saturday volunteering, for lonely weekends",
            "bereavement-phone": "weekday evening calls",
            "community-garden-clapton": "Saturday gardening with others, for lonely weekends",
            "conservation-volunteers": "Sunday outdoors with a team, for lonely weekends",
            "art-studio-open": "Saturday open studio, for lonely weekends",
        },
        never={
            **others(HOMELESS, SIGHT_LOSS, CONDITIONS, GAMBLING, CARERS, *JOBS_ENGLISH),
            "child-bereavement-parents": "for parents whose child died",
            "suicide-bereavement": "her husband did not die by suicide",
            "bereavement-bengali": "held in Bengali",
            "somali-elders": "held in Somali",
        },
    ),
    # --- languages and cultural groups --------------------------------------------------------
    P(
        "turkish-isolated-woman",
        "58, speaks Turkish, little English, isolated since her children moved out, low mood.",
        "1968-02-02",
        "female",
        "N16 3AN",
        (("loneliness-isolation", "Isolated, little English"), ("low-mood", "Low mood")),
        languages=("tr",),
        ideal={
            "turkish-womens-group": "women's group in Turkish",
            "turkish-elders": "elders' club in Turkish nearby",
        },
        accept={
            "esol-conversation": "relaxed English practice with others, for her isolation",
            "turkish-walk": "walking group in Turkish",
            "turkish-exercise-women": "women's exercise in Turkish",
        },
        never={
            **others(*USUAL, speaks=("tr",)),
            "sight-loss-club-hackney": "for people with sight loss",
            "talking-books": "for people with sight loss",
            "bengali-womens-group": "held in Bengali",
            "somali-womens-group": "held in Somali",
            "polish-club": "held in Polish",
        },
    ),
    P(
        "somali-older-man",
        "70, speaks Somali, lonely since moving from Leicester to be near his son.",
        "1956-07-07",
        "male",
        "E2 6EF",
        (("loneliness-isolation", "Lonely since moving here, speaks Somali"),),
        languages=("so",),
        ideal={"somali-elders": "elders' circle in Somali"},
        accept={
            "esol-conversation": "relaxed English practice with others, for his loneliness",
        },
        never={
            **others(*USUAL, speaks=("so",)),
            "sight-loss-club-bow": "for people with sight loss",
            "sight-loss-club-hackney": "for people with sight loss",
            "talking-books": "for people with sight loss",
            "bengali-elders": "held in Bengali",
            "turkish-elders": "held in Turkish",
            "polish-club": "held in Polish",
        },
    ),
    P(
        "polish-low-mood",
        "35, Polish builder, speaks some English, low since his marriage ended.",
        "1991-11-11",
        "male",
        "N7 8CD",
        (("low-mood", "Feeling low since separation"),),
        languages=("pl", "en"),
        ideal={"polish-support-line": "emotional support in Polish"},
        accept={
            "polish-club": "Polish social club near home, made for loneliness, not low mood",
            "peer-support-low-mood": "low mood peer group",
            "mindfulness-online": "mindfulness",
            "community-garden-clapton": "gardening with others",
            "talking-therapy-phone": "wellbeing calls for low mood",
            "creative-writing": "small group for low mood on his street",
            "singing-wellbeing": "singing for low mood",
            "quiet-art": "art group for low mood",
            "pottery": "pottery for low mood",
            "art-studio-open": "painting studio for low mood",
            "drumming-circle": "drumming for low mood",
            "therapeutic-garden": "gardening for low mood",
            "conservation-volunteers": "outdoor volunteering for low mood",
            "mens-shed-hackney": "men's workshop for low mood",
        },
        never={
            **others(*USUAL, speaks=("pl", "en")),
            "sight-loss-club-hackney": "for people with sight loss",
            "bengali-elders": "held in Bengali",
            "turkish-elders": "held in Turkish",
        },
    ),
    P(
        "somali-woman-walk",
        "47, speaks Somali, overweight and inactive, would only exercise with other women.",
        "1979-09-19",
        "female",
        "E3 4NP",
        (("physical-inactivity", "Inactive, overweight"),),
        languages=("so",),
        note="Would only attend women-only groups.",
        groups=("women-only",),
        ideal={"somali-walk-women": "women's walking group in Somali"},
        accept={
            "somali-womens-group": "women's coffee morning in Somali, not exercise",
            "womens-fitness-bow": "women-only fitness nearby",
            "womens-gym-shacklewell": "women-only gym, in English",
            "womens-swim": "women-only swim, in English",
            "muslim-womens-swim": "women-only swim with covered windows, in English",
            "dance-bengali-women": "women-only Zumba, in Bengali and English",
        },
        never={
            **others(*USUAL, MIXED_EXERCISE, speaks=("so",)),
            "sight-loss-club-bow": "for people with sight loss",
            "turkish-exercise-women": "held in Turkish",
            "mixed-gym-londonfields": "mixed gym; she asked for women-only",
            "walking-football": "mixed",
            "health-walk-mileend": "mixed walk; she asked for women-only",
        },
    ),
    P(
        "deaf-bsl",
        "57, Deaf, BSL user, isolated; cannot use the phone.",
        "1969-04-04",
        "male",
        "E1 1UV",
        (("loneliness-isolation", "Deaf BSL user, isolated"),),
        languages=("bfi",),
        mode="in-person",
        ideal={"bsl-social": "Deaf social club in BSL"},
        never={
            **others(*USUAL, LEARNING_ENGLISH, PHONE_ONLY, speaks=("bfi",)),
            "talking-therapy-phone": "a phone service for a Deaf BSL user",
            "bereavement-phone": "a phone service, and he is not bereaved",
            "polish-support-line": "phone, in Polish",
        },
    ),
    # --- sight, hearing, mobility ------------------------------------------------------------
    P(
        "sight-loss-woman",
        "80, macular degeneration, registered sight impaired, lonely; needs large print.",
        "1946-08-08",
        "female",
        "E8 3HJ",
        (("long-term-condition", "Macular degeneration"), ("loneliness-isolation", "Lonely")),
        access=("large-print",),
        ideal={
            "sight-loss-club-hackney": "sight loss club nearby",
            "talking-books": "audio book group for people with sight loss",
        },
        accept={
            "book-club-whitechapel": "book club for loneliness; large print or audio books",
            "hybrid-book-club": "book club for loneliness; large print or audio books",
            "garden-islington": "made for loneliness, her secondary need",
            "knit-natter": "made for loneliness, her secondary need",
            "sight-loss-tech": "phone tech help for sight loss",
            "befriending-phone": "weekly calls",
            "sight-loss-club-bow": "sight loss group, further",
        },
        never={
            **others(HOMELESS, CONDITIONS, GAMBLING, CARERS, BEREAVEMENT, *JOBS_ENGLISH),
            "turkish-elders": "held in Turkish",
            "bengali-elders": "held in Bengali",
        },
    ),
    P(
        "hearing-loop-woman",
        "77, hard of hearing (uses the loop), lonely in Bow.",
        "1949-03-30",
        "female",
        "E3 2JK",
        (("loneliness-isolation", "Lonely, hard of hearing"),),
        access=("hearing-loop",),
        ideal={
            "silver-singers": "singing for over-60s in a hall with a loop",
            "bingo-social": "bingo and tea in a hall with a loop",
        },
        accept={
            "food-volunteers": "friendly team in a hall with a loop, further",
            "library-volunteers": "volunteering at a library with a loop",
            "book-club-whitechapel": "book club with a loop",
            "lunch-club-clapton": "lunch club for older people, hall with a loop, further",
            "singing-wellbeing": "friendly singing group, hall with a loop, further",
            "knit-natter": "craft and tea, library with a loop, further",
        },
        never={
            **others(*USUAL, LEARNING_ENGLISH),
            "sight-loss-club-bow": "she has no sight loss",
        },
    ),
    P(
        "wheelchair-user",
        "50, wheelchair user after a spinal injury, wants to get active and meet people.",
        "1976-06-06",
        "male",
        "N5 1NP",
        (("physical-inactivity", "Inactive since injury"), ("loneliness-isolation", "Isolated")),
        access=("wheelchair",),
        ideal={"wheelchair-sports": "inclusive sports club, wheelchair accessible"},
        accept={
            "book-club-whitechapel": "made for loneliness, his secondary need; accessible",
            "community-choir-hackney": "made for loneliness, his secondary need; accessible",
            "knit-natter": "made for loneliness, his secondary need; accessible",
            "library-volunteers": "made for loneliness, his secondary need; accessible",
            "volunteer-centre": "made for loneliness, his secondary need; accessible",
            "seated-yoga-online": "seated exercise from home",
            "mixed-gym-highbury": "accessible gym",
            "online-social": "online chat",
            "mixed-gym-londonfields": "exercise referral, accessible changing rooms",
            "walk-islington": "led walk with others near home",
            "hybrid-book-club": "company, at the library near home or online",
        },
        never={
            **others(*USUAL, LEARNING_ENGLISH, but=("wheelchair-sports",)),
        },
    ),
    P(
        "stroke-survivor",
        "63, stroke in June, walks with a stick, needs step-free access.",
        "1963-01-01",
        "male",
        "N16 3AN",
        (("long-term-condition", "Stroke in June"),),
        access=("step-free",),
        ideal={"stroke-club": "stroke survivors club nearby"},
        accept={
            "falls-prevention": "strength and balance",
            "seated-yoga-online": "seated exercise",
            "chair-exercise": "seated exercise",
            "mixed-gym-highbury": "exercise referral for long-term conditions, step-free",
            "mixed-gym-londonfields": "exercise referral for long-term conditions",
        },
        never={
            **others(*USUAL, LEARNING_ENGLISH, but=("stroke-club",)),
            "parkinsons-dance": "for Parkinson's",
            "singing-lungs": "for lung conditions",
            "sight-loss-club-hackney": "for sight loss",
            "talking-books": "for sight loss",
            "nordic-walking": "brisk walking with poles; he walks with a stick",
            "canal-walk-long": "three-hour brisk walk; he walks with a stick",
        },
    ),
    # --- physical activity -------------------------------------------------------------------
    P(
        "women-only-gym",
        "42, wants to lose weight and get fitter; would only go to women-only sessions.",
        "1984-02-14",
        "female",
        "E8 6DZ",
        (("physical-inactivity", "Inactive, wants to lose weight"),),
        note="Would only attend women-only sessions.",
        groups=("women-only",),
        ideal={
            "womens-gym-shacklewell": "women-only gym on her street",
            "womens-fitness-bow": "women's fitness class",
            "womens-swim": "women-only swim",
        },
        accept={
            "muslim-womens-swim": "women-only swim, further",
            "dance-bengali-women": "women-only Zumba",
        },
        never={
            **others(*USUAL, LEARNING_ENGLISH, MIXED_EXERCISE),
            "mixed-gym-londonfields": "mixed gym; she asked for women-only",
            "mixed-gym-highbury": "mixed gym",
            "tai-chi": "mixed group",
            "nordic-walking": "mixed group",
        },
    ),
    P(
        "bengali-diabetes-woman",
        "36, type 2 diabetes, wants to exercise but only with women; Bengali and English.",
        "1990-10-01",
        "female",
        "E1 2WX",
        (("physical-inactivity", "Needs to exercise"), ("long-term-condition", "Type 2 diabetes")),
        languages=("bn", "en"),
        note="Women-only activities please.",
        groups=("women-only",),
        ideal={
            "dance-bengali-women": "women's Zumba with a Bengali-speaking instructor",
            "muslim-womens-swim": "women-only swim nearby",
        },
        accept={
            "diabetes-group": "diabetes group with a Bengali interpreter, but mixed, not exercise",
            "womens-fitness-bow": "women's fitness",
            "womens-gym-shacklewell": "women-only gym",
            "womens-swim": "women-only swim",
        },
        never={
            **others(
                *USUAL,
                LEARNING_ENGLISH,
                MIXED_EXERCISE,
                speaks=("bn", "en"),
                but=("diabetes-group",),
            ),
            "mixed-gym-londonfields": "mixed gym",
            "mixed-gym-highbury": "mixed gym",
        },
    ),
    P(
        "retired-inactive-man",
        "68, sedentary since retiring, type 2 diabetes, used to play football.",
        "1958-05-05",
        "male",
        "E3 2JK",
        (
            ("physical-inactivity", "Sedentary since retiring"),
            ("long-term-condition", "Type 2 diabetes"),
        ),
        interests=("physical-activity",),
        ideal={
            "walking-football": "walking football nearby",
            "health-walk-mileend": "led walks nearby",
        },
        accept={
            "falls-prevention": "strength and balance",
            "chair-exercise": "seated exercise",
            "mixed-gym-londonfields": "gym referral",
            "diabetes-group": "diabetes support",
            "mens-walk": "men's walking group",
            "tai-chi": "gentle exercise",
            "mixed-gym-highbury": "gym referral, further",
            "dance-over-50": "dance class for over 50s",
            "nordic-walking": "brisk walking with poles",
            "health-walk-springfield": "led walk, further",
            "health-walk-clissold": "led walk, further",
            "walk-islington": "led walk, further",
            "seated-yoga-online": "seated exercise from home",
        },
        never={
            **others(*USUAL, LEARNING_ENGLISH, but=("diabetes-group",)),
            "wheelchair-sports": "for disabled adults",
            "parkinsons-dance": "for Parkinson's",
        },
    ),
    P(
        "copd-man",
        "66, COPD, breathless on hills, lonely.",
        "1960-09-09",
        "male",
        "E9 6BA",
        (("long-term-condition", "COPD"), ("loneliness-isolation", "Lonely")),
        ideal={"singing-lungs": "singing for lung health nearby"},
        accept={
            "art-studio-open": "made for loneliness, his secondary need",
            "befriending-home": "made for loneliness, his secondary need",
            "bingo-social": "made for loneliness, his secondary need",
            "book-club-whitechapel": "made for loneliness, his secondary need",
            "choir-islington": "made for loneliness, his secondary need",
            "coffee-morning-archway": "made for loneliness, his secondary need",
            "community-choir-hackney": "made for loneliness, his secondary need",
            "community-garden-clapton": "made for loneliness, his secondary need",
            "conservation-volunteers": "made for loneliness, his secondary need",
            "cooking-men": "made for loneliness, his secondary need",
            "food-volunteers": "made for loneliness, his secondary need",
            "garden-islington": "made for loneliness, his secondary need",
            "health-walk-clissold": "made for loneliness, his secondary need",
            "heritage-tours": "made for loneliness, his secondary need",
            "hybrid-book-club": "made for loneliness, his secondary need",
            "knit-natter": "made for loneliness, his secondary need",
            "library-volunteers": "made for loneliness, his secondary need",
            "mens-shed-bow": "made for loneliness, his secondary need",
            "mens-walk": "made for loneliness, his secondary need",
            "silver-singers": "made for loneliness, his secondary need",
            "volunteer-centre": "made for loneliness, his secondary need",
            "walk-islington": "made for loneliness, his secondary need",
            "walking-football": "made for loneliness, his secondary need",
            "chair-exercise": "seated exercise",
            "mens-shed-hackney": "men's shed",
            "lunch-club-clapton": "lunch club",
            "seated-yoga-online": "seated exercise for a long-term condition",
            "mixed-gym-londonfields": "GP exercise referral for a long-term condition",
            "singing-wellbeing": "friendly singing group nearby, for loneliness",
            "befriending-phone": "weekly calls for someone over 60 who feels alone",
        },
        never={
            **others(*USUAL, LEARNING_ENGLISH, but=("singing-lungs",)),
            "nordic-walking": "brisk walking, too much for his breathing",
            "canal-walk-long": "three-hour brisk walk",
            "parkinsons-dance": "for Parkinson's",
            "stroke-club": "for stroke survivors",
        },
    ),
    P(
        "parkinsons-woman",
        "71, Parkinson's disease, wants to keep moving.",
        "1955-04-12",
        "female",
        "E8 3HJ",
        (("long-term-condition", "Parkinson's disease"), ("physical-inactivity", "Moving less")),
        ideal={"parkinsons-dance": "dance for Parkinson's nearby"},
        accept={
            "dance-bengali-women": "made for inactivity, her secondary need",
            "health-walk-mileend": "made for inactivity, her secondary need",
            "mixed-gym-highbury": "made for inactivity, her secondary need",
            "muslim-womens-swim": "made for inactivity, her secondary need",
            "nordic-walking": "made for inactivity, her secondary need",
            "walk-islington": "made for inactivity, her secondary need",
            "walking-football": "made for inactivity, her secondary need",
            "womens-gym-shacklewell": "made for inactivity, her secondary need",
            "womens-swim": "made for inactivity, her secondary need",
            "chair-exercise": "seated exercise",
            "falls-prevention": "falls prevention",
            "seated-yoga-online": "seated yoga",
            "dance-over-50": "dance class",
            "tai-chi": "slow balance exercise",
            "health-walk-springfield": "easy led walk",
            "health-walk-clissold": "led walk for all abilities",
            "mixed-gym-londonfields": "GP exercise referral",
            "womens-fitness-bow": "gentle fitness for women, further",
        },
        never={
            **others(*USUAL, LEARNING_ENGLISH, but=("parkinsons-dance",)),
            "singing-lungs": "for lung conditions",
            "stroke-club": "for stroke survivors",
            "sight-loss-club-hackney": "for sight loss",
        },
    ),
    P(
        "chronic-pain",
        "55, chronic back pain, low, stopped working.",
        "1971-02-22",
        "female",
        "N5 2QR",
        (("long-term-condition", "Chronic back pain"), ("low-mood", "Low")),
        ideal={"pain-management": "pain self-management course nearby"},
        accept={
            "art-studio-open": "made for low mood, her secondary need",
            "community-garden-clapton": "made for low mood, her secondary need",
            "creative-writing": "made for low mood, her secondary need",
            "drumming-circle": "made for low mood, her secondary need",
            "pottery": "made for low mood, her secondary need",
            "quiet-art": "made for low mood, her secondary need",
            "singing-wellbeing": "made for low mood, her secondary need",
            "therapeutic-garden": "made for low mood, her secondary need",
            "seated-yoga-online": "gentle movement",
            "tai-chi": "gentle movement",
            "peer-support-low-mood": "low mood group",
            "talking-therapy-phone": "wellbeing calls for low mood",
            "mindfulness-online": "mindfulness for low mood and pain",
            "chair-exercise": "seated exercise, further",
            "mixed-gym-highbury": "exercise referral for a long-term condition, nearby",
        },
        never={
            **others(*USUAL, LEARNING_ENGLISH, but=("pain-management",)),
            "nordic-walking": "brisk, with back pain",
            "canal-walk-long": "three-hour brisk walk, with back pain",
            "sight-loss-club-hackney": "for sight loss",
            "parkinsons-dance": "for Parkinson's",
        },
    ),
    P(
        "long-covid",
        "45, long Covid, exhausted after any outing, prefers to join from home.",
        "1981-06-16",
        "male",
        "E3 3LM",
        (("long-term-condition", "Long Covid, exhausted"),),
        mode="online",
        ideal={"fatigue-online": "long Covid and fatigue group online"},
        accept={
            "seated-yoga-online": "seated yoga from home",
            "mindfulness-online": "mindfulness from home",
        },
        never={
            **others(*USUAL, LEARNING_ENGLISH, but=("fatigue-online",)),
            "nordic-walking": "too strenuous",
            "canal-walk-long": "three-hour walk",
            "boxing-fitness": "high-energy",
            "mixed-gym-londonfields": "gym sessions; exhausted after any outing",
            "mixed-gym-highbury": "gym sessions; exhausted after any outing",
        },
    ),
    # --- mental wellbeing ---------------------------------------------------------------------
    P(
        "anxious-young-man",
        "27, social anxiety, panics in crowds, wants a small quiet group.",
        "1999-01-09",
        "male",
        "E9 6BA",
        (("anxiety-stress", "Social anxiety, panic in crowds"),),
        note="Small, quiet groups only.",
        groups=("small-group", "quiet"),
        ideal={
            "anxiety-group": "small anxiety course",
            "therapeutic-garden": "small quiet gardening group",
            "quiet-art": "quiet art room for six",
        },
        accept={
            "hybrid-anxiety-course": "stress control, can join online",
            "mindfulness-online": "mindfulness, camera optional",
            "birdwatch": "quiet walk",
            "tai-chi": "calm exercise",
            "talking-therapy-phone": "one-to-one wellbeing calls for anxiety",
            "pottery": "small group of 8, for anxiety",
        },
        never={
            **others(*USUAL, LEARNING_ENGLISH),
            "drumming-circle": "loud and crowded",
            "community-choir-hackney": "big choir",
            "art-studio-open": "busy drop-in studio",
        },
    ),
    P(
        "low-mood-painter",
        "48, depression, used to paint, lives in Hoxton.",
        "1978-07-17",
        "female",
        "N1 6AU",
        (("low-mood", "Depression"),),
        interests=("arts-creative",),
        ideal={
            "art-studio-open": "painting studio round the corner",
            "pottery": "pottery for wellbeing",
            "quiet-art": "drawing and painting for low mood, a small group",
        },
        accept={
            "creative-writing": "creative writing",
            "knit-natter": "craft group",
            "peer-support-low-mood": "low mood peer group",
            "talking-therapy-phone": "wellbeing calls for low mood",
            "mindfulness-online": "mindfulness for low mood",
            "singing-wellbeing": "singing for low mood",
            "drumming-circle": "drumming for low mood",
            "community-garden-clapton": "gardening for low mood",
            "therapeutic-garden": "gardening for low mood",
            "conservation-volunteers": "outdoor volunteering for low mood",
        },
        never={
            **others(*USUAL, LEARNING_ENGLISH),
            "sight-loss-club-hackney": "for sight loss",
            "singing-lungs": "for lung conditions",
            "parkinsons-dance": "for Parkinson's",
        },
    ),
    P(
        "postnatal-low-mood",
        "30, low since her baby was born, money is tight.",
        "1996-03-23",
        "female",
        "E5 1AU",
        (("low-mood", "Low mood after having a baby"),),
        free_only=True,
        ideal={
            "singing-wellbeing": "free singing for wellbeing nearby",
            "community-garden-clapton": "free gardening group",
            "peer-support-low-mood": "low mood peer group",
        },
        accept={
            "mindfulness-online": "mindfulness online",
            "talking-therapy-phone": "wellbeing calls",
            "knit-natter": "craft group",
            "drumming-circle": "free drumming for low mood",
            "quiet-art": "free art room for low mood",
            "creative-writing": "free writing group for low mood",
            "therapeutic-garden": "free gardening group for low mood",
            "conservation-volunteers": "free outdoor volunteering for low mood",
        },
        never={
            **others(*USUAL, LEARNING_ENGLISH),
            "bereavement-cafe-clapton": "not bereaved",
            "carers-cafe": "not a carer",
            "hearing-voices": "for people who hear voices",
        },
    ),
    P(
        "hearing-voices",
        "34, hears voices, isolated, low.",
        "1992-08-08",
        "male",
        "E8 8GW",
        (("other", "Hears voices"), ("low-mood", "Low, isolated")),
        ideal={"hearing-voices": "hearing voices group"},
        accept={
            "peer-support-low-mood": "low mood group",
            "community-garden-clapton": "gardening with others",
            "mens-shed-hackney": "men's shed",
            "talking-therapy-phone": "wellbeing calls for low mood",
            "mindfulness-online": "mindfulness for low mood",
            "singing-wellbeing": "singing for low mood",
            "quiet-art": "quiet art room for low mood",
            "creative-writing": "writing group for low mood",
            "therapeutic-garden": "gardening for low mood",
            "conservation-volunteers": "outdoor volunteering, for low mood and isolation",
            "pottery": "pottery for low mood",
            "art-studio-open": "painting studio, for low mood and isolation",
        },
        never={
            **others(*USUAL, LEARNING_ENGLISH, but=("hearing-voices",)),
            "bereavement-cafe-clapton": "not bereaved",
            "carers-cafe": "not a carer",
        },
    ),
    P(
        "weekend-only-low-mood",
        "41, works weekdays, low, only free at weekends, likes music.",
        "1985-12-01",
        "female",
        "N19 4JK",
        (("low-mood", "Low mood"),),
        days=("sat", "sun"),
        ideal={
            "ukulele-club": "Saturday ukulele nearby",
            "community-garden-clapton": "Saturday gardening",
        },
        accept={
            "art-studio-open": "Saturday studio",
            "tai-chi": "Saturday tai chi",
            "conservation-volunteers": "Sunday conservation",
        },
        never={
            **others(*USUAL, LEARNING_ENGLISH),
            "bereavement-walk": "not bereaved",
            "polish-club": "held in Polish",
            "somali-elders": "held in Somali",
            "turkish-walk": "held in Turkish",
        },
    ),
    # --- loneliness ---------------------------------------------------------------------------
    P(
        "young-lonely",
        "22, moved to London for work, knows nobody, free evenings.",
        "2004-04-04",
        "male",
        "E2 7GH",
        (("loneliness-isolation", "Moved to London, knows nobody"),),
        ideal={"young-adults-social": "meet-up for 18-30s"},
        accept={
            "mens-shed-bow": "Saturday workshop with other men",
            "community-choir-hackney": "friendly choir",
            "drumming-circle": "drumming circle",
            "book-club-whitechapel": "book club",
            "volunteer-centre": "volunteering",
            "conservation-volunteers": "conservation volunteering",
            "choir-islington": "evening community choir",
            "hybrid-book-club": "evening book club",
            "library-volunteers": "Saturday volunteering",
            "community-garden-clapton": "Saturday gardening with others",
            "art-studio-open": "Saturday open studio",
        },
        never={
            **others(*USUAL, LEARNING_ENGLISH),
            "sight-loss-club-bow": "for sight loss",
            "carers-cafe": "not a carer",
            "bereavement-cafe-clapton": "not bereaved",
            "hearing-voices": "for people who hear voices",
            "job-club-dalston": "he works",
            "job-club-whitechapel": "he works",
        },
    ),
    P(
        "lonely-older-woman",
        "79, lonely since friends moved away; Tuesdays and Thursdays; no spare money.",
        "1947-10-10",
        "female",
        "E5 3UX",
        (("loneliness-isolation", "Lonely since friends moved away"),),
        days=("tue", "thu"),
        free_only=True,
        ideal={
            "singing-wellbeing": "free singing round the corner",
            "befriending-home": "home visits",
        },
        accept={
            "book-club-whitechapel": "book club, further",
            "garden-islington": "Thursday gardening with others, further",
            "heritage-tours": "reminiscence at the museum",
            "health-walk-springfield": "led walk",
            "health-walk-clissold": "led walk",
            "befriending-phone": "weekly calls",
            "coffee-morning-archway": "Thursday coffee morning, further",
            "food-volunteers": "Thursday volunteering with a friendly team, round the corner",
        },
        never={
            **others(*USUAL, LEARNING_ENGLISH),
            "turkish-elders": "held in Turkish",
            "sight-loss-club-hackney": "for sight loss",
            "esol-conversation": "for people learning English",
            "job-club-dalston": "retired",
            "job-club-whitechapel": "retired",
        },
    ),
    P(
        "widower-fixer",
        "67, widowed five years ago, lonely, likes fixing things.",
        "1959-11-30",
        "male",
        "E9 3DJ",
        (("loneliness-isolation", "Lonely"), ("low-mood", "Low")),
        interests=("learning-skills",),
        ideal={"mens-shed-hackney": "men's shed nearby", "mens-shed-bow": "men's shed"},
        accept={
            "creative-writing": "made for low mood, his secondary need",
            "drumming-circle": "made for low mood, his secondary need",
            "mindfulness-online": "made for low mood, his secondary need",
            "pottery": "made for low mood, his secondary need",
            "quiet-art": "made for low mood, his secondary need",
            "therapeutic-garden": "made for low mood, his secondary need",
            "art-studio-open": "company, for loneliness",
            "befriending-home": "company, for loneliness",
            "bingo-social": "company, for loneliness",
            "book-club-whitechapel": "company, for loneliness",
            "choir-islington": "company, for loneliness",
            "coffee-morning-archway": "company, for loneliness",
            "community-choir-hackney": "company, for loneliness",
            "community-garden-clapton": "company, for loneliness",
            "conservation-volunteers": "company, for loneliness",
            "food-volunteers": "company, for loneliness",
            "garden-islington": "company, for loneliness",
            "health-walk-clissold": "company, for loneliness",
            "heritage-tours": "company, for loneliness",
            "hybrid-book-club": "company, for loneliness",
            "knit-natter": "company, for loneliness",
            "library-volunteers": "company, for loneliness",
            "silver-singers": "company, for loneliness",
            "volunteer-centre": "company, for loneliness",
            "walk-islington": "company, for loneliness",
            "cooking-men": "men cooking together",
            "mens-walk": "men's walk",
            "lunch-club-clapton": "lunch club",
            "walking-football": "walking football",
            "befriending-phone": "weekly calls for someone over 60 who feels alone",
            "peer-support-low-mood": "low mood group",
            "talking-therapy-phone": "wellbeing calls for low mood",
            "singing-wellbeing": "singing group for loneliness and low mood",
        },
        never={
            **others(HOMELESS, SIGHT_LOSS, CONDITIONS, GAMBLING, CARERS, *JOBS_ENGLISH),
            "sight-loss-club-hackney": "for sight loss",
            "sight-loss-club-bow": "for sight loss",
            "bereavement-group-holloway": "for the bereaved of the last two years; he was "
            "widowed five years ago",
            "suicide-bereavement": "for people bereaved by suicide",
            "child-bereavement-parents": "for parents whose child died",
        },
    ),
    P(
        "housebound-no-internet",
        "85, housebound after a fall, no internet, likes a chat on the phone.",
        "1941-05-05",
        "female",
        "E5 8NR",
        (("loneliness-isolation", "Housebound after a fall"),),
        mode="phone",
        digital="none",
        ideal={"befriending-phone": "weekly calls", "befriending-home": "home visits"},
        accept={"talking-therapy-phone": "wellbeing calls"},
        never={
            **others(*USUAL, LEARNING_ENGLISH, IN_PERSON),
            "canal-walk-long": "three-hour walk, she is housebound",
            "nordic-walking": "she is housebound",
            "health-walk-springfield": "she is housebound",
        },
    ),
    P(
        "digital-learner",
        "73, new tablet, wants to video-call his grandchildren abroad, lonely.",
        "1953-03-03",
        "male",
        "N7 6AA",
        (("loneliness-isolation", "Family abroad"),),
        interests=("digital-skills",),
        digital="limited",
        ideal={
            "digital-drop-in": "one-to-one tablet help",
            "digital-phone-help": "help setting up video calls by phone",
        },
        accept={
            "art-studio-open": "company, for loneliness",
            "bingo-social": "company, for loneliness",
            "book-club-whitechapel": "company, for loneliness",
            "choir-islington": "company, for loneliness",
            "community-choir-hackney": "company, for loneliness",
            "community-garden-clapton": "company, for loneliness",
            "conservation-volunteers": "company, for loneliness",
            "cooking-men": "company, for loneliness",
            "food-volunteers": "company, for loneliness",
            "garden-islington": "company, for loneliness",
            "health-walk-clissold": "company, for loneliness",
            "heritage-tours": "company, for loneliness",
            "knit-natter": "company, for loneliness",
            "library-volunteers": "company, for loneliness",
            "lunch-club-clapton": "company, for loneliness",
            "mens-shed-bow": "company, for loneliness",
            "mens-shed-hackney": "company, for loneliness",
            "mens-walk": "company, for loneliness",
            "silver-singers": "company, for loneliness",
            "singing-wellbeing": "company, for loneliness",
            "volunteer-centre": "company, for loneliness",
            "walk-islington": "company, for loneliness",
            "walking-football": "company, for loneliness",
            "coffee-morning-archway": "coffee morning",
            "adult-learning": "computing taster course nearby",
            "hybrid-book-club": "company at the library nearby",
            "befriending-phone": "weekly calls for someone over 60 who feels alone",
        },
        never={
            **others(*USUAL, LEARNING_ENGLISH),
            "digital-bengali": "taught in Bengali",
            "sight-loss-tech": "for sight loss",
            "digital-job-skills": "for job seekers; he is retired",
        },
    ),
    P(
        "retired-volunteer",
        "66, recently retired, wants a purpose and company.",
        "1960-02-02",
        "female",
        "E1 4AB",
        (("loneliness-isolation", "Recently retired"),),
        interests=("volunteering",),
        ideal={
            "volunteer-centre": "volunteering drop-in nearby",
            "library-volunteers": "library volunteering nearby",
        },
        accept={
            "art-studio-open": "company, for loneliness",
            "befriending-phone": "company, for loneliness",
            "bingo-social": "company, for loneliness",
            "choir-islington": "company, for loneliness",
            "coffee-morning-archway": "company, for loneliness",
            "community-choir-hackney": "company, for loneliness",
            "community-garden-clapton": "company, for loneliness",
            "health-walk-clissold": "company, for loneliness",
            "heritage-tours": "company, for loneliness",
            "hybrid-book-club": "company, for loneliness",
            "knit-natter": "company, for loneliness",
            "lunch-club-clapton": "company, for loneliness",
            "silver-singers": "company, for loneliness",
            "singing-wellbeing": "company, for loneliness",
            "walk-islington": "company, for loneliness",
            "walking-football": "company, for loneliness",
            "garden-islington": "volunteer gardening",
            "conservation-volunteers": "conservation volunteering",
            "food-volunteers": "food bank volunteering",
            "book-club-whitechapel": "company, near",
        },
        never={
            **others(*USUAL, LEARNING_ENGLISH),
            "job-club-whitechapel": "retired",
            "esol-work": "for job seekers learning English",
        },
    ),
    # --- carers --------------------------------------------------------------------------------
    P(
        "carer-dementia",
        "72, cares for her husband with dementia; free on Fridays when he is at day care.",
        "1954-09-09",
        "female",
        "N19 3GH",
        (("carer-support", "Caring for husband with dementia"),),
        days=("fri",),
        ideal={
            "dementia-carers": "dementia carers group, Fridays",
            "carers-advice-line": "carers' advice by phone",
        },
        accept={"hybrid-singing": "singing for the brain, with her husband"},
        never={
            **others(
                HOMELESS,
                SIGHT_LOSS,
                CONDITIONS,
                GAMBLING,
                BEREAVEMENT,
                *JOBS_ENGLISH,
                but=("hybrid-singing",),
            ),
            "hearing-voices": "for people who hear voices",
        },
    ),
    P(
        "young-adult-carer",
        "24, cares for her mum who has MS, works, anxious; evenings online.",
        "2002-07-07",
        "female",
        "E2 6EF",
        (("carer-support", "Cares for mum with MS"), ("anxiety-stress", "Anxious")),
        mode="online",
        ideal={
            "carers-online": "carers' evening group online",
            "carers-advice-line": "carers' advice",
        },
        accept={
            "mindfulness-online": "mindfulness online",
            "carers-cafe": "carers' café",
            "carers-pamper": "a Saturday break for carers",
            "hybrid-anxiety-course": "stress control for her anxiety, can join online",
            "talking-therapy-phone": "wellbeing calls for her anxiety",
        },
        never={
            **others(HOMELESS, SIGHT_LOSS, CONDITIONS, GAMBLING, BEREAVEMENT, *JOBS_ENGLISH),
            "dementia-carers": "her mum has MS, not dementia",
        },
    ),
)
