"""The plain-English names matching's reasons use for codes (DESIGN 5.3, 5.4)."""

from __future__ import annotations

from collections.abc import Mapping

NEED_LABELS: Mapping[str, str] = {
    "loneliness-isolation": "loneliness",
    "low-mood": "low mood",
    "anxiety-stress": "anxiety and stress",
    "long-term-condition": "living with a long-term condition",
    "physical-inactivity": "physical inactivity",
    "bereavement": "bereavement",
    "carer-support": "carers",
    "debt-finance": "debt and money worries",
    "housing": "housing problems",
    "employment-learning": "work and learning",
    "other": "other needs",
}
CATEGORY_LABELS: Mapping[str, str] = {
    "arts-creative": "arts and crafts",
    "music-singing": "music and singing",
    "heritage-museums": "heritage and museums",
    "libraries-reading": "libraries and reading",
    "nature-green": "nature and green spaces",
    "gardening": "gardening",
    "physical-activity": "physical activity",
    "walking": "walking",
    "dance": "dance",
    "social-groups": "social groups",
    "befriending": "befriending",
    "learning-skills": "learning new skills",
    "volunteering": "volunteering",
    "advice-welfare": "advice and welfare",
    "carers-support": "support for carers",
    "bereavement-support": "bereavement support",
    "peer-support": "peer support",
    "digital-skills": "digital skills",
    "food-cooking": "food and cooking",
}
ACCESSIBILITY_LABELS: Mapping[str, str] = {
    "wheelchair": "Wheelchair accessible",
    "step-free": "Step-free access",
    "hearing-loop": "Hearing loop",
    "large-print": "Large print",
    "bsl": "British Sign Language",
    "quiet-space": "Quiet space",
}
DAY_PLURALS: Mapping[str, str] = {
    "mon": "Mondays",
    "tue": "Tuesdays",
    "wed": "Wednesdays",
    "thu": "Thursdays",
    "fri": "Fridays",
    "sat": "Saturdays",
    "sun": "Sundays",
}
# ISO 639 names of languages commonly spoken in England; other codes are shown as given.
LANGUAGE_NAMES: Mapping[str, str] = {
    "ar": "Arabic",
    "bn": "Bengali",
    "cy": "Welsh",
    "de": "German",
    "es": "Spanish",
    "fa": "Persian",
    "fr": "French",
    "gu": "Gujarati",
    "hi": "Hindi",
    "it": "Italian",
    "ku": "Kurdish",
    "lt": "Lithuanian",
    "pa": "Punjabi",
    "pl": "Polish",
    "pt": "Portuguese",
    "ro": "Romanian",
    "ru": "Russian",
    "so": "Somali",
    "ta": "Tamil",
    "ti": "Tigrinya",
    "tr": "Turkish",
    "uk": "Ukrainian",
    "ur": "Urdu",
    "yue": "Cantonese",
    "zh": "Chinese",
}
# Why a link worker marks a match not suitable (app/matching/unsuitable.py): code -> meaning.
UNSUITABLE_REASONS: Mapping[str, str] = {
    "not-accessible": "the venue or the activity is not accessible for the person",
    "too-far": "too far, or too hard to get to",
    "wrong-time": "its days or times do not suit the person",
    "not-for-this-need": "not what the person needs",
    "cost": "it costs more than the person can pay",
    "language": "not in a language the person speaks",
    "person-declined": "the person did not want it",
    "activity-full-or-closed": "full, closed or not taking people, whatever the directory says",
    "other": "another reason (say which in the note)",
}
