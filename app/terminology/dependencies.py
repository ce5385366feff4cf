"""The process's cache of the need mappings (set on ``app.state`` by ``create_app``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from app.deps import provider
from app.terminology.service import NeedMappingCache


def need_mappings_of(request: Request) -> NeedMappingCache:
    found: NeedMappingCache = request.app.state.need_mappings
    return found


NeedMappingsDep = Annotated[NeedMappingCache, Depends(provider(need_mappings_of))]
