from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.areas import importer
from app.areas.models import LsoaDeprivation, Postcode, PostcodeDistrict


async def load_fixture(session: AsyncSession) -> importer.AreaImportReport:
    report = await importer.import_areas(
        session, postcodes_file=importer.FIXTURE_POSTCODES, imd_file=importer.FIXTURE_IMD
    )
    await session.commit()
    return report


async def test_the_fixture_loads(session: AsyncSession) -> None:
    report = await load_fixture(session)
    assert report.postcodes is not None
    assert report.deprivation is not None
    assert report.postcodes.loaded == 401
    assert report.postcodes.skipped == 0
    assert report.deprivation.loaded == 50
    assert report.districts == 5
    assert await session.scalar(select(func.count()).select_from(Postcode)) == 401
    no_grid = await session.get(Postcode, "E8 9ZZ")
    assert no_grid is not None
    assert no_grid.latitude is None
    assert no_grid.lsoa_code == "E01001700"
    assert no_grid.local_authority_code == "E09000012"
    e8 = await session.get(PostcodeDistrict, "E8")
    assert e8 is not None
    assert 51.53 < e8.latitude < 51.56
    assert e8.postcodes == 80  # the no-grid-reference postcode is not averaged in
    decile = await session.get(LsoaDeprivation, "E01001700")
    assert decile is not None
    assert 1 <= decile.imd_decile <= 10


async def test_importing_again_replaces_the_tables(session: AsyncSession, tmp_path: Path) -> None:
    await load_fixture(session)
    small = tmp_path / "nspl.csv"
    small.write_text(
        "pcds,lat,long,lsoa11,oslaua\n"
        '"E8 1AA",51.54,-0.06,E01001710,E09000012\n'
        "not a postcode,51.5,-0.1,E01001711,E09000012\n"
        '"E8 1AA",51.54,-0.06,E01001710,E09000012\n'
        "E5 0AA,99.999999,0.000000,E01001712,E09000012\n"
    )
    report = await importer.import_areas(session, postcodes_file=small, imd_file=None)
    assert report.postcodes is not None
    assert report.postcodes.loaded == 2
    assert report.postcodes.skipped == 2
    assert report.postcodes.examples == [
        "line 3: 'not a postcode' is not a postcode",
        "line 4: E8 1AA appears twice",
    ]
    assert await session.scalar(select(func.count()).select_from(Postcode)) == 2
    assert await session.scalar(select(func.count()).select_from(PostcodeDistrict)) == 1
    # the deprivation table was not in this import and is unchanged
    assert await session.scalar(select(func.count()).select_from(LsoaDeprivation)) == 50


async def test_iod2019_file_1_columns_are_understood(session: AsyncSession, tmp_path: Path) -> None:
    imd = tmp_path / "iod2019.csv"
    imd.write_text(
        "LSOA code (2011),LSOA name (2011),Index of Multiple Deprivation (IMD) Rank,"
        "Index of Multiple Deprivation (IMD) Decile\n"
        'E01001708,Hackney 001A,"2,145",1\n'
        "E01001709,Hackney 001B,15000,11\n"
    )
    report = await importer.import_areas(session, postcodes_file=None, imd_file=imd)
    assert report.deprivation is not None
    assert report.deprivation.loaded == 1
    assert report.deprivation.examples == ["line 3: IMD decile '11' is not 1-10"]
    row = await session.get(LsoaDeprivation, "E01001708")
    assert row is not None
    assert (row.imd_decile, row.imd_rank) == (1, 2145)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("pcd,lat,long,lsoa21\n", "no column 'pcds'"),
        ("pcds,lat,long\n", "no column 'lsoa21' or"),
        ("", "the file is empty"),
    ],
)
async def test_files_without_the_needed_columns_change_nothing(
    session: AsyncSession, tmp_path: Path, content: str, message: str
) -> None:
    await load_fixture(session)
    bad = tmp_path / "bad.csv"
    bad.write_text(content)
    with pytest.raises(importer.AreaFileError, match=message):
        async with session.begin_nested():
            await importer.import_areas(session, postcodes_file=bad, imd_file=None)
    assert await session.scalar(select(func.count()).select_from(Postcode)) == 401


async def test_a_missing_file_is_reported(session: AsyncSession, tmp_path: Path) -> None:
    with pytest.raises(importer.AreaFileError, match="No such file"):
        await importer.import_areas(session, postcodes_file=tmp_path / "nope.csv", imd_file=None)
