"""NHS number check digit (Modulus 11).

Source: NHS Data Model and Dictionary, "NHS Number" attribute (archived August 2021 release):
multiply digits 1-9 by weights 10..2, sum, take 11 - (sum mod 11); 11 means check digit 0,
10 means the number is invalid; the result must equal digit 10.
"""

from __future__ import annotations

SYSTEM = "https://fhir.nhs.uk/Id/nhs-number"


def is_valid(value: str) -> bool:
    digits = value.replace(" ", "")
    if len(digits) != 10 or not digits.isascii() or not digits.isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(digits[:9], range(10, 1, -1), strict=True))
    check = 11 - total % 11
    if check == 11:
        check = 0
    return check != 10 and check == int(digits[9])


def normalise(value: str) -> str:
    return value.replace(" ", "")
