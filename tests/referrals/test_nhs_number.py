from hypothesis import given
from hypothesis import strategies as st

from app.referrals.nhs_number import is_valid


def test_known_numbers() -> None:
    for valid in ("9434765919", "9912003888", "9000000009", "943 476 5919"):
        assert is_valid(valid)
    for invalid in (
        "4857773456",
        "9434765918",
        "123",
        "94347659190",
        "94347659a9",
        "",
        "١٢٣٤٥٦٧٨٩٠",
    ):
        assert not is_valid(invalid)


@given(st.text(alphabet="0123456789", min_size=9, max_size=9))
def test_exactly_one_check_digit_or_none(stem: str) -> None:
    valid = [d for d in "0123456789" if is_valid(stem + d)]
    assert len(valid) <= 1
