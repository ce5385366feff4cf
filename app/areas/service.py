"""Where a postcode is: exact postcode, else its district's centroid, else "location unknown".

Used by the directory's proximity search and by matching (DESIGN.md 6: an unknown postcode falls
back to the postcode district centroid, else distance is unknown).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncSession

from app.areas import postcodes, repository
from app.areas.models import Postcode


class Precision(StrEnum):
    POSTCODE = "postcode"  # the postcode's own centroid
    DISTRICT = "district"  # the centroid of its postcode district (postcode not in the lookup)
    UNKNOWN = "unknown"  # location unknown: no distance can be computed


@dataclass(frozen=True)
class Place:
    query: str
    postcode: str | None  # normalised, when the query was a full postcode
    district: str | None
    precision: Precision
    latitude: float | None = None
    longitude: float | None = None
    lsoa_code: str | None = None
    imd_decile: int | None = None
    local_authority_code: str | None = None

    @property
    def known(self) -> bool:
        return self.precision is not Precision.UNKNOWN

    @property
    def warning(self) -> str | None:
        if self.precision is Precision.DISTRICT:
            return (
                f"Postcode {self.query!r} is not in the postcode lookup; "
                f"using the centre of district {self.district}"
            )
        if self.precision is Precision.UNKNOWN:
            return f"Location of {self.query!r} is unknown; distances cannot be computed"
        return None


async def locate(session: AsyncSession, raw: str, *, deprivation: bool = True) -> Place:
    """The best known position of a postcode (or a bare postcode district such as ``E8``);
    ``deprivation=False`` skips the IMD decile."""
    postcode = postcodes.normalise(raw)
    district = postcodes.district_of(raw)
    lsoa_code = local_authority = None
    imd: int | None = None
    row: Postcode | Row[Any] | None  # a Postcode's columns either way
    if postcode is not None:
        if deprivation:  # the postcode and its LSOA's decile in one query
            found = await repository.get_postcode_and_decile(session, postcode)
            row, imd = found if found is not None else (None, None)
        else:
            row = await repository.get_postcode(session, postcode)
        if row is not None:
            lsoa_code, local_authority = row.lsoa_code, row.local_authority_code
            imd = imd if lsoa_code else None
            if row.latitude is not None and row.longitude is not None:
                return Place(
                    raw,
                    postcode,
                    row.district,
                    Precision.POSTCODE,
                    row.latitude,
                    row.longitude,
                    lsoa_code,
                    imd,
                    local_authority,
                )
    if district is not None:
        centroid = await repository.get_district(session, district)
        if centroid is not None:
            return Place(
                raw,
                postcode,
                district,
                Precision.DISTRICT,
                centroid.latitude,
                centroid.longitude,
                lsoa_code,
                imd,
                local_authority,
            )
    return Place(raw, postcode, district, Precision.UNKNOWN, local_authority_code=local_authority)
