import pytest

from app.areas.postcodes import district_of, normalise


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("e8 1ab", "E8 1AB"),
        ("E81AB", "E8 1AB"),
        (" n16  7ug ", "N16 7UG"),
        ("EC1A 1BB", "EC1A 1BB"),
        ("SW1A1AA", "SW1A 1AA"),
        ("E8", None),
        ("ABC 1234", None),
        ("", None),
        ("1AB E8", None),
    ],
)
def test_normalise(raw: str, expected: str | None) -> None:
    assert normalise(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("E8 1AB", "E8"), ("n16", "N16"), ("EC1A1BB", "EC1A"), ("nonsense", None), ("E", None)],
)
def test_district_of(raw: str, expected: str | None) -> None:
    assert district_of(raw) == expected
