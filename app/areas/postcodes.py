"""UK postcode syntax: normalising and splitting (pure).

The shape follows the ONS Postcode Directory user guide: an outward code (area letters, district
digit(s), optional letter) and an inward code (sector digit and two unit letters). ``pcds`` in
the ONS files is this normalised form, with one space.
"""

from __future__ import annotations

import re

POSTCODE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?) ?([0-9][A-Z]{2})$")
DISTRICT = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]?$")
LOCAL_AUTHORITY = re.compile(r"^[EWSN][0-9]{8}$")  # GSS code, e.g. E09000012
LSOA = re.compile(r"^[EW]01[0-9]{6}$")


def normalise(raw: str) -> str | None:
    """``"e8 1ab"`` -> ``"E8 1AB"``; ``None`` when it is not a UK postcode."""
    compact = "".join(raw.split()).upper()
    match = POSTCODE.match(compact)
    if match is None:
        return None
    return f"{match.group(1)} {match.group(2)}"


def district_of(raw: str) -> str | None:
    """The outward code (postcode district) of a full postcode, or of a bare district."""
    compact = "".join(raw.split()).upper()
    match = POSTCODE.match(compact)
    if match is not None:
        return match.group(1)
    return compact if DISTRICT.match(compact) else None
