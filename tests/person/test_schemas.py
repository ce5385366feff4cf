"""The self-referral's codes are the intake's vocabulary (DESIGN.md 5.3), asked in plain
English, and every message id the pages and rules use (the self-referral's and the
questionnaire page's) is in the catalogue."""

from __future__ import annotations

import re
from pathlib import Path
from typing import get_args

from app.outcomes import instruments
from app.person import pages, questionnaire, schemas
from app.person.text import EN, text
from app.referrals import intake
from app.terminology.codesystems import activity_category_codes

PERSON = Path(pages.__file__).parent


def test_the_codes_are_the_intakes() -> None:
    assert set(get_args(schemas.AttendanceMode)) == set(intake.ATTENDANCE_MODES)
    assert set(get_args(schemas.DigitalAccess)) == set(intake.DIGITAL_ACCESS)
    assert set(get_args(schemas.Day)) == set(intake.DAYS)
    assert set(get_args(schemas.Accessibility)) == set(intake.ACCESSIBILITY)
    assert set(get_args(schemas.GroupPreference)) == set(intake.GROUP_PREFERENCES)
    assert set(pages.ATTENDANCE) == set(intake.ATTENDANCE_MODES)
    assert set(pages.DIGITAL) == set(intake.DIGITAL_ACCESS)
    assert set(pages.DAYS) == set(intake.DAYS)
    assert set(pages.ACCESS) == set(intake.ACCESSIBILITY)
    assert set(pages.GROUPS) == set(intake.GROUP_PREFERENCES)


def test_every_choice_has_its_words() -> None:
    keys = [
        *(f"interest.{c}" for c in activity_category_codes()),
        *(f"attendance_mode.{c}" for c in pages.ATTENDANCE),
        *(f"digital_access.{c}" for c in pages.DIGITAL),
        *(f"day.{c}" for c in pages.DAYS),
        *(f"access.{c}" for c in pages.ACCESS),
        *(f"group.{c}" for c in pages.GROUPS),
        *(f"lang.{c}" for c in schemas.LANGUAGES),
        *(f"max_travel_km.{km}" for km in schemas.TRAVEL_KM),
    ]
    assert [k for k in keys if k not in EN] == []


def test_every_message_id_in_the_code_is_in_the_catalogue() -> None:
    used = {
        key
        for path in PERSON.glob("*.py")
        for key in re.findall(
            r'"((?:errors?|done|limit|csrf|refer|q)\.[A-Za-z_.0-9]+)"', path.read_text()
        )
    }
    assert {"errors.title", "refer.title", "q.title", "q.used.title"} <= used
    assert sorted(used - set(EN)) == []


def test_the_questionnaire_page_has_the_words_of_each_worded_instrument() -> None:
    worded = [instruments.instrument(code) for code in questionnaire.WORDED]
    keys = [f"q.{spec.code}.{item.id}" for spec in worded for item in spec.items]
    assert [k for k in keys + list(questionnaire.STEMS.values()) if k not in EN] == []


def test_text_falls_back_to_english() -> None:
    assert text("refer.title", "cy") == EN["refer.title"]
