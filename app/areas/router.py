"""``/api/v1/areas``: where a postcode is, and how deprived its area."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path

from app.areas import service
from app.areas.schemas import PlaceRead
from app.auth.dependencies import Caller, allowed
from app.auth.policy import Action
from app.db import SessionDep

router = APIRouter(prefix="/api/v1/areas", tags=["areas"])


@router.get("/postcodes/{postcode}", response_model=PlaceRead, operation_id="areas-locate")
async def locate_postcode(
    postcode: Annotated[str, Path(max_length=16)],
    session: SessionDep,
    _caller: Annotated[Caller, Depends(allowed(Action.DIRECTORY_READ))],
) -> PlaceRead:
    """A postcode's position, LSOA and IMD decile; the district's centre when the postcode is
    not in the lookup; ``precision: unknown`` when neither is known."""
    place = await service.locate(session, postcode)
    return PlaceRead(
        query=place.query,
        postcode=place.postcode,
        district=place.district,
        precision=place.precision.value,
        latitude=place.latitude,
        longitude=place.longitude,
        lsoa_code=place.lsoa_code,
        imd_decile=place.imd_decile,
        local_authority_code=place.local_authority_code,
        warning=place.warning,
    )
