from __future__ import annotations

import datetime as dt
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from app.ops.input_guard import Text


class Origin(StrEnum):
    SHIPPED = "shipped"  # data/snomed_needs.json (cited) or data/need_phrases.csv
    ADMIN = "admin"  # added by an administrator (overrides a shipped entry)


class SnomedNeedWrite(BaseModel):
    """An administrator's mapping of one SNOMED CT concept to a need code."""

    model_config = ConfigDict(extra="forbid")

    display: Text = Field(
        min_length=1, max_length=255, description="the concept's term, as published"
    )
    need: Text = Field(min_length=1, max_length=64, description="a code of CodeSystem need")
    source: Text = Field(
        min_length=1,
        max_length=1000,
        description="where the concept id was checked (URL) or why it is mapped so",
    )


class SnomedNeedRead(BaseModel):
    concept_id: str
    display: str
    need: str
    source: str
    origin: Origin
    overrides_shipped: bool = Field(
        description="an admin row that replaces a shipped mapping of the same concept"
    )
    created_at: dt.datetime | None
    created_by: str | None


class SnomedNeedList(BaseModel):
    items: list[SnomedNeedRead]


class NeedPhraseWrite(BaseModel):
    """An administrator's free-text phrase for a need (the phrase is in the URL)."""

    model_config = ConfigDict(extra="forbid")

    need: Text = Field(
        min_length=1,
        max_length=64,
        description="a code of CodeSystem need; 'other' switches a shipped phrase off",
    )
    note: Text = Field(
        min_length=1, max_length=1000, description="why the phrase means the need, for review"
    )


class NeedPhraseRead(BaseModel):
    phrase: str = Field(description="normalised: case-folded, punctuation as single spaces")
    need: str
    note: str
    origin: Origin
    overrides_shipped: bool = Field(
        description="an admin row that replaces a shipped phrase (the same normalised phrase)"
    )
    created_at: dt.datetime | None
    created_by: str | None


class NeedPhraseList(BaseModel):
    items: list[NeedPhraseRead]
