"""Every SQL query of the area data."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Row, Table, bindparam, delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.areas.models import LsoaDeprivation, Postcode, PostcodeDistrict


async def get_postcode(session: AsyncSession, postcode: str) -> Postcode | None:
    return await session.get(Postcode, postcode)


# every match runs it: built once, so no statement nor cache key is made per request, of the
# tables' own columns (Core), so no ORM object is made for it
_POSTCODE, _DEPRIVATION = (cast(Table, model.__table__) for model in (Postcode, LsoaDeprivation))
_POSTCODE_AND_DECILE = (
    select(_POSTCODE, _DEPRIVATION.c.imd_decile)
    .outerjoin(_DEPRIVATION, _DEPRIVATION.c.lsoa_code == _POSTCODE.c.lsoa_code)
    .where(_POSTCODE.c.postcode == bindparam("postcode"))
)


async def get_postcode_and_decile(
    session: AsyncSession, postcode: str
) -> tuple[Row[Any], int | None] | None:
    """The postcode's row (a ``Postcode``'s columns by name) and the IMD decile of its LSOA
    (None: no LSOA, or not in the deprivation table), in one query."""
    found = (await session.execute(_POSTCODE_AND_DECILE, {"postcode": postcode})).first()
    return None if found is None else (found, found.imd_decile)


async def get_district(session: AsyncSession, district: str) -> PostcodeDistrict | None:
    return await session.get(PostcodeDistrict, district)


async def count_postcodes(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(Postcode)) or 0)


async def clear_postcodes(session: AsyncSession) -> None:
    await session.execute(delete(PostcodeDistrict))
    await session.execute(delete(Postcode))


async def insert_postcodes(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        await session.execute(insert(Postcode), list(rows))


async def rebuild_districts(session: AsyncSession) -> int:
    """District centroids: the mean position of the district's postcodes that have one."""
    await session.execute(delete(PostcodeDistrict))
    located = Postcode.latitude.is_not(None) & Postcode.longitude.is_not(None)
    await session.execute(
        insert(PostcodeDistrict).from_select(
            ["district", "latitude", "longitude", "postcodes"],
            select(
                Postcode.district,
                func.avg(Postcode.latitude),
                func.avg(Postcode.longitude),
                func.count(),
            )
            .where(located)
            .group_by(Postcode.district),
        )
    )
    return int(await session.scalar(select(func.count()).select_from(PostcodeDistrict)) or 0)


async def clear_deprivation(session: AsyncSession) -> None:
    await session.execute(delete(LsoaDeprivation))


async def insert_deprivation(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        await session.execute(insert(LsoaDeprivation), list(rows))
