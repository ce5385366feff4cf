import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from app.areas import service
from app.areas.service import Precision
from app.auth.principal import Role
from tests.areas.test_importer import load_fixture
from tests.conftest import TokenFactory


async def test_a_known_postcode_has_its_own_position_lsoa_and_decile(
    session: AsyncSession,
) -> None:
    await load_fixture(session)
    place = await service.locate(session, "e5 1au")
    assert place.precision is Precision.POSTCODE
    assert place.postcode == "E5 1AU"
    assert (place.latitude, place.longitude) == (51.554725, -0.047379)
    assert place.lsoa_code == "E01001727"
    assert place.imd_decile is not None
    assert place.local_authority_code == "E09000012"
    assert place.warning is None


async def test_an_unknown_postcode_falls_back_to_its_district(session: AsyncSession) -> None:
    await load_fixture(session)
    place = await service.locate(session, "E8 0AA")  # the fixture has no sector 0
    assert place.precision is Precision.DISTRICT
    assert place.district == "E8"
    assert place.latitude is not None
    assert place.imd_decile is None
    assert place.warning is not None
    assert "district E8" in place.warning


async def test_a_postcode_without_grid_reference_uses_the_district_but_keeps_its_lsoa(
    session: AsyncSession,
) -> None:
    await load_fixture(session)
    place = await service.locate(session, "E8 9ZZ")
    assert place.precision is Precision.DISTRICT
    assert place.lsoa_code == "E01001700"
    assert place.imd_decile is not None


async def test_an_unknown_district_is_location_unknown(session: AsyncSession) -> None:
    await load_fixture(session)
    for raw in ("M1 1AA", "not a postcode"):
        place = await service.locate(session, raw)
        assert place.precision is Precision.UNKNOWN
        assert not place.known
        assert place.latitude is None
        assert place.warning is not None


async def test_the_postcode_endpoint(
    client: httpx.AsyncClient, session: AsyncSession, auth: TokenFactory
) -> None:
    await load_fixture(session)
    headers = auth(Role.COMMISSIONER, "15N")
    found = await client.get("/api/v1/areas/postcodes/E5%201AU", headers=headers)
    assert found.status_code == 200
    assert found.json()["precision"] == "postcode"
    unknown = await client.get("/api/v1/areas/postcodes/M11AA", headers=headers)
    assert unknown.status_code == 200
    assert unknown.json()["precision"] == "unknown"
    assert (await client.get("/api/v1/areas/postcodes/E51AU")).status_code == 401
