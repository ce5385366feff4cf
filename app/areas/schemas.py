"""What ``/api/v1/areas`` answers."""

from __future__ import annotations

from pydantic import BaseModel, Field


class PlaceRead(BaseModel):
    query: str
    postcode: str | None
    district: str | None
    precision: str = Field(description="postcode | district | unknown")
    latitude: float | None
    longitude: float | None
    lsoa_code: str | None
    imd_decile: int | None
    local_authority_code: str | None
    warning: str | None
