"""The directory's enums are the service's CodeSystems, code for code (one vocabulary)."""

from app.directory.vocabulary import ActivityCategory, Need
from app.terminology.codesystems import activity_category_codes, need_codes


def test_categories_are_the_activity_category_codesystem() -> None:
    assert {c.value for c in ActivityCategory} == activity_category_codes()


def test_needs_are_the_need_codesystem() -> None:
    assert {n.value for n in Need} == need_codes()
