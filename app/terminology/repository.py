"""Every SQL query of the terminology domain."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.terminology.models import SnomedNeedMapping


async def list_mappings(session: AsyncSession) -> list[SnomedNeedMapping]:
    rows = await session.scalars(select(SnomedNeedMapping).order_by(SnomedNeedMapping.concept_id))
    return list(rows)


async def get_mapping(session: AsyncSession, concept_id: str) -> SnomedNeedMapping | None:
    return await session.get(SnomedNeedMapping, concept_id)


async def add_mapping(session: AsyncSession, mapping: SnomedNeedMapping) -> None:
    session.add(mapping)
    await session.flush()


async def delete_mapping(session: AsyncSession, mapping: SnomedNeedMapping) -> None:
    await session.delete(mapping)
    await session.flush()
