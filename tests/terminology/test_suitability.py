from __future__ import annotations

from app.terminology.codesystems import activity_category_codes, need_codes
from app.terminology.suitability import need_category_suitability


def test_full_table_in_range() -> None:
    table = need_category_suitability()
    assert set(table) == need_codes()
    for need, row in table.items():
        assert set(row) == activity_category_codes(), need
        assert all(0.0 <= v <= 1.0 for v in row.values()), need


def test_every_need_has_a_good_fit() -> None:
    table = need_category_suitability()
    for need, row in table.items():
        if need != "other":
            assert max(row.values()) >= 0.8, need


def test_the_obvious_pairs() -> None:
    table = need_category_suitability()
    assert table["bereavement"]["bereavement-support"] == 1.0
    assert table["carer-support"]["carers-support"] == 1.0
    assert table["debt-finance"]["advice-welfare"] == 1.0
    assert table["housing"]["advice-welfare"] == 1.0
    assert table["physical-inactivity"]["walking"] == 1.0
    assert table["loneliness-isolation"]["befriending"] == 1.0
    assert table["housing"]["dance"] == 0.0


def test_callers_get_a_copy() -> None:
    table = need_category_suitability()
    table["housing"]["dance"] = 1.0
    assert need_category_suitability()["housing"]["dance"] == 0.0
