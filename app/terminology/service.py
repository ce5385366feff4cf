"""What maps a referral's reasons to needs: SNOMED CT concepts (the shipped, cited table merged
with administrators' rows) and free-text phrases (the shipped list merged with administrators'
rows), and the per-process cache of both that the intake reads.

No audit record: these hold nobody's data.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principal import Principal
from app.db import column_length, utcnow
from app.errors import Issue, NotFound, Unprocessable
from app.terminology import repository
from app.terminology.codesystems import NEED_SYSTEM, need_codes
from app.terminology.models import NeedPhrase, SnomedNeedMapping
from app.terminology.phrases import PHRASE_MAX, PhraseIndex, normalise, shipped_phrases
from app.terminology.schemas import (
    NeedPhraseRead,
    NeedPhraseWrite,
    Origin,
    SnomedNeedRead,
    SnomedNeedWrite,
)
from app.terminology.snomed import concept_id_problem, shipped_mappings

Entry = TypeVar("Entry", SnomedNeedRead, NeedPhraseRead)


SHIPPED: dict[str, Any] = {
    "origin": Origin.SHIPPED,
    "overrides_shipped": False,
    "created_at": None,
    "created_by": None,
}


def _admin(row: SnomedNeedMapping | NeedPhrase, shipped: Iterable[str], key: str) -> dict[str, Any]:
    """Where an administrator's row comes from, as the Read schemas say it."""
    return {
        "origin": Origin.ADMIN,
        "overrides_shipped": key in shipped,
        "created_at": row.created_at,
        "created_by": row.created_by,
    }


def _in_force(shipped: dict[str, Entry], admin: Iterable[tuple[str, Entry]]) -> dict[str, Entry]:
    """The entries in force by key: an administrator's row replaces a shipped one."""
    return {**shipped, **dict(admin)}


def _shipped() -> dict[str, SnomedNeedRead]:
    return {
        m.concept_id: SnomedNeedRead(
            concept_id=m.concept_id, display=m.term, need=m.need, source=m.source, **SHIPPED
        )
        for m in shipped_mappings()
    }


def _admin_read(row: SnomedNeedMapping, shipped: dict[str, SnomedNeedRead]) -> SnomedNeedRead:
    return SnomedNeedRead(
        concept_id=row.concept_id,
        display=row.display,
        need=row.need,
        source=row.source,
        **_admin(row, shipped, row.concept_id),
    )


async def merged(session: AsyncSession) -> list[SnomedNeedRead]:
    """Every mapping in force, ordered by concept id; an admin row replaces a shipped one."""
    shipped = _shipped()
    rows = await repository.list_mappings(session)
    entries = _in_force(shipped, ((r.concept_id, _admin_read(r, shipped)) for r in rows))
    return [entries[k] for k in sorted(entries, key=lambda c: (len(c), c))]


async def need_mapping(session: AsyncSession) -> dict[str, str]:
    """SNOMED CT concept id -> need code, for ``resolver.resolve_reasons``."""
    return {entry.concept_id: entry.need for entry in await merged(session)}


@dataclass(frozen=True)
class NeedMaps:
    """Everything in force that turns reasons into needs, for ``resolver.resolve_reasons``."""

    snomed: dict[str, str]  # concept id -> need
    phrases: PhraseIndex


class NeedMappingCache:
    """The maps in force, kept ``ttl_s`` seconds so the intake does not query them each time.

    A change made through this process applies at once (``invalidate``); other replicas see it
    within ``ttl_s``.
    """

    def __init__(self, ttl_s: float = 30.0) -> None:
        self.ttl_s = ttl_s
        self._mapping: NeedMaps | None = None
        self._loaded_at = 0.0

    async def get(self, session: AsyncSession) -> NeedMaps:
        mapping = self.cached()
        if mapping is None:
            mapping = self._mapping = NeedMaps(
                await need_mapping(session), PhraseIndex(await phrase_mapping(session))
            )
            self._loaded_at = time.monotonic()
        return mapping

    def cached(self) -> NeedMaps | None:
        """The maps when they are fresh, else None (``get`` them with a session)."""
        if self._mapping is None or time.monotonic() - self._loaded_at > self.ttl_s:
            return None
        return self._mapping

    def invalidate(self) -> None:
        self._mapping = None


def _check(concept_id: str, body: SnomedNeedWrite) -> None:
    issues = []
    if problem := concept_id_problem(concept_id):
        issues.append(Issue(f"concept_id {concept_id!r}: {problem}", "concept_id"))
    if body.need not in need_codes():
        issues.append(Issue(f"need {body.need!r} is not a code of {NEED_SYSTEM}", "need"))
    if issues:
        raise Unprocessable("The mapping is invalid", issues)


async def put(
    session: AsyncSession, concept_id: str, body: SnomedNeedWrite, principal: Principal
) -> tuple[SnomedNeedRead, bool]:
    """Create or replace the admin row for ``concept_id``; returns it and whether it is new."""
    _check(concept_id, body)
    row = await repository.get_mapping(session, concept_id)
    created = row is None
    if row is None:
        row = SnomedNeedMapping(concept_id=concept_id)
    # The row records who set the mapping now in force and when.
    row.display, row.need, row.source = body.display, body.need, body.source
    row.created_at = utcnow()
    row.created_by = principal.sub[: column_length(SnomedNeedMapping.created_by)]  # as audited
    await repository.save(session, row)
    return _admin_read(row, _shipped()), created


async def delete(session: AsyncSession, concept_id: str) -> None:
    """Remove an admin row (a shipped mapping then applies again, if there is one)."""
    row = await repository.get_mapping(session, concept_id)
    if row is None:
        shipped = concept_id in _shipped()
        hint = (
            "; shipped mappings cannot be deleted, override one with need 'other' instead"
            if shipped
            else ""
        )
        raise NotFound(f"No administrator mapping for SNOMED CT {concept_id}{hint}")
    await repository.delete(session, row)


# --- free-text phrases ---------------------------------------------------------------------------


def _shipped_phrases() -> dict[str, NeedPhraseRead]:
    return {
        p.phrase: NeedPhraseRead(phrase=p.phrase, need=p.need, note=p.note, **SHIPPED)
        for p in shipped_phrases()
    }


def _admin_phrase(row: NeedPhrase, shipped: dict[str, NeedPhraseRead]) -> NeedPhraseRead:
    return NeedPhraseRead(
        phrase=row.phrase, need=row.need, note=row.note, **_admin(row, shipped, row.phrase)
    )


async def merged_phrases(session: AsyncSession) -> list[NeedPhraseRead]:
    """Every phrase in force, ordered by phrase; an admin row replaces a shipped one."""
    shipped = _shipped_phrases()
    rows = await repository.list_phrases(session)
    entries = _in_force(shipped, ((r.phrase, _admin_phrase(r, shipped)) for r in rows))
    return [entries[k] for k in sorted(entries)]


async def phrase_mapping(session: AsyncSession) -> dict[str, str]:
    """Normalised phrase -> need code, for ``phrases.PhraseIndex``."""
    return {entry.phrase: entry.need for entry in await merged_phrases(session)}


def _phrase_key(phrase: str, need: str | None = None) -> str:
    """``phrase`` normalised, or 422 naming what is wrong with the phrase (and ``need``)."""
    key = normalise(phrase)
    issues = []
    if not key or len(key) > PHRASE_MAX:
        issues.append(
            Issue(f"a phrase needs 1 to {PHRASE_MAX} letters or digits once normalised", "phrase")
        )
    if need is not None and need not in need_codes():
        issues.append(Issue(f"need {need!r} is not a code of {NEED_SYSTEM}", "need"))
    if issues:
        raise Unprocessable("The phrase is invalid", issues)
    return key


async def put_phrase(
    session: AsyncSession, phrase: str, body: NeedPhraseWrite, principal: Principal
) -> tuple[NeedPhraseRead, bool]:
    """Create or replace the admin row for ``phrase`` (normalised); returns it and whether it is
    new."""
    key = _phrase_key(phrase, body.need)
    row = await repository.get_phrase(session, key)
    created = row is None
    if row is None:
        row = NeedPhrase(phrase=key)
    row.need, row.note = body.need, body.note
    row.created_at = utcnow()
    row.created_by = principal.sub[: column_length(NeedPhrase.created_by)]  # as audited
    await repository.save(session, row)
    return _admin_phrase(row, _shipped_phrases()), created


async def delete_phrase(session: AsyncSession, phrase: str) -> None:
    """Remove an admin row (a shipped phrase then applies again, if there is one)."""
    key = _phrase_key(phrase)
    row = await repository.get_phrase(session, key)
    if row is None:
        hint = (
            "; shipped phrases cannot be deleted, override one with need 'other' instead"
            if key in _shipped_phrases()
            else ""
        )
        raise NotFound(f"No administrator phrase {key!r}{hint}")
    await repository.delete(session, row)
