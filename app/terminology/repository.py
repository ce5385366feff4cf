"""Every SQL query of the terminology domain."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.terminology.models import NeedPhrase, SnomedNeedMapping


async def list_mappings(session: AsyncSession) -> list[SnomedNeedMapping]:
    rows = await session.scalars(select(SnomedNeedMapping).order_by(SnomedNeedMapping.concept_id))
    return list(rows)


async def get_mapping(session: AsyncSession, concept_id: str) -> SnomedNeedMapping | None:
    return await session.get(SnomedNeedMapping, concept_id)


async def save(session: AsyncSession, row: SnomedNeedMapping | NeedPhrase) -> None:
    session.add(row)
    await session.flush()


async def delete(session: AsyncSession, row: SnomedNeedMapping | NeedPhrase) -> None:
    await session.delete(row)
    await session.flush()


async def list_phrases(session: AsyncSession) -> list[NeedPhrase]:
    return list(await session.scalars(select(NeedPhrase).order_by(NeedPhrase.phrase)))


async def get_phrase(session: AsyncSession, phrase: str) -> NeedPhrase | None:
    return await session.get(NeedPhrase, phrase)
