"""``assetlink import-areas``: the ONS postcode lookup and the English Indices of Deprivation.

Files and columns read (header names, case-insensitive; see docs/areas.md for the sources):

- Postcodes: the ONS **National Statistics Postcode Lookup** (NSPL) or the **ONS Postcode
  Directory** (ONSPD), the single UK CSV (``Data/NSPL_<MON>_<YEAR>_UK.csv``). Columns ``pcds``
  (postcode, one space), ``lat`` and ``long`` (WGS84; ``99.999999``/``0.000000`` where the
  postcode has no grid reference), ``lsoa21`` (else ``lsoa11``; the 2025 ONSPD spells them
  ``lsoa21cd``/``lsoa11cd``) and ``laua`` (local authority; ``oslaua`` or ``lad25cd``... in other
  editions).
- Deprivation: **English Indices of Deprivation** File 7 (all ranks, scores, deciles, CSV):
  ``LSOA code (2021)`` (IoD2025; ``LSOA code (2011)`` in IoD2019) and ``Index of Multiple
  Deprivation (IMD) Decile (where 1 is most deprived 10% of LSOAs)`` (``... (IMD) Decile`` in
  File 1 saved as CSV); ``Index of Multiple Deprivation (IMD) Rank (where 1 is most deprived)``
  when present.

Each import replaces the table it loads, in one transaction: all or nothing. Rows that cannot be
used (a malformed postcode, a decile outside 1-10) are skipped and counted in the report; a file
without the needed columns is refused before anything changes.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.areas import postcodes, repository

BATCH = 5000
EXAMPLES = 10

POSTCODE_COLUMNS = ("pcds",)
LATITUDE_COLUMNS = ("lat",)
LONGITUDE_COLUMNS = ("long",)
LSOA_COLUMNS = ("lsoa21", "lsoa21cd", "lsoa11", "lsoa11cd")
LOCAL_AUTHORITY_COLUMNS = ("laua", "oslaua", "lad25cd", "lad24cd", "lad23cd")

IMD_LSOA_COLUMNS = ("LSOA code (2021)", "LSOA code (2011)")
IMD_DECILE_COLUMNS = (
    "Index of Multiple Deprivation (IMD) Decile (where 1 is most deprived 10% of LSOAs)",
    "Index of Multiple Deprivation (IMD) Decile",
)
IMD_RANK_COLUMNS = (
    "Index of Multiple Deprivation (IMD) Rank (where 1 is most deprived)",
    "Index of Multiple Deprivation (IMD) Rank",
)


class AreaFileError(ValueError):
    """The file cannot be imported at all (missing, unreadable, or without a needed column)."""


@dataclass
class FileReport:
    file: str
    loaded: int = 0
    skipped: int = 0
    examples: list[str] = field(default_factory=list)  # why rows were skipped (the first few)

    def skip(self, line: int, reason: str) -> None:
        self.skipped += 1
        if len(self.examples) < EXAMPLES:
            self.examples.append(f"line {line}: {reason}")


@dataclass
class AreaImportReport:
    postcodes: FileReport | None = None
    districts: int = 0
    deprivation: FileReport | None = None


def _key(name: str) -> str:
    return " ".join(name.split()).lower()  # IoD headers sometimes hold line breaks


def _find(header: Sequence[str], candidates: Sequence[str], path: Path, *, required: bool) -> int:
    keys = [_key(h) for h in header]
    for candidate in candidates:
        if _key(candidate) in keys:
            return keys.index(_key(candidate))
    if required:
        raise AreaFileError(f"{path.name}: no column {' or '.join(map(repr, candidates))}")
    return -1


def _rows(path: Path) -> Iterator[tuple[int, list[str]]]:
    try:
        handle = path.open(newline="", encoding="utf-8-sig")
    except OSError as exc:
        raise AreaFileError(f"{path}: {exc.strerror or exc}") from None
    with handle:
        reader = csv.reader(handle)
        try:
            yield from enumerate(reader, start=1)
        except (csv.Error, UnicodeDecodeError) as exc:
            raise AreaFileError(f"{path.name}: not a readable CSV file ({exc})") from None


def _coordinate(raw: str, low: float, high: float) -> float | None:
    try:
        value = float(raw)
    except ValueError:
        return None
    return value if low <= value <= high else None


def _postcode_batches(path: Path, report: FileReport) -> Iterator[list[dict[str, Any]]]:
    rows = _rows(path)
    first = next(rows, None)
    if first is None:
        raise AreaFileError(f"{path.name}: the file is empty")
    header = first[1]
    pc = _find(header, POSTCODE_COLUMNS, path, required=True)
    lat = _find(header, LATITUDE_COLUMNS, path, required=True)
    lon = _find(header, LONGITUDE_COLUMNS, path, required=True)
    lsoa = _find(header, LSOA_COLUMNS, path, required=True)
    la = _find(header, LOCAL_AUTHORITY_COLUMNS, path, required=False)
    width = max(pc, lat, lon, lsoa, la) + 1
    seen: set[str] = set()
    batch: list[dict[str, Any]] = []
    for line, row in rows:
        if len(row) < width:
            report.skip(line, f"{len(row)} columns, expected at least {width}")
            continue
        postcode = postcodes.normalise(row[pc])
        if postcode is None:
            report.skip(line, f"{row[pc]!r} is not a postcode")
            continue
        if postcode in seen:
            report.skip(line, f"{postcode} appears twice")
            continue
        seen.add(postcode)
        latitude = _coordinate(row[lat], -90.0, 90.0)
        longitude = _coordinate(row[lon], -180.0, 180.0)
        if latitude is None or longitude is None:  # "no grid reference" rows keep their LSOA
            latitude = longitude = None
        lsoa_code = row[lsoa].strip().upper()
        la_code = row[la].strip().upper() if la >= 0 else ""
        batch.append(
            {
                "postcode": postcode,
                "district": postcode.split(" ")[0],
                "latitude": latitude,
                "longitude": longitude,
                "lsoa_code": lsoa_code if postcodes.LSOA.match(lsoa_code) else None,
                "local_authority_code": (
                    la_code if postcodes.LOCAL_AUTHORITY.match(la_code) else None
                ),
            }
        )
        report.loaded += 1
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _deprivation_batches(path: Path, report: FileReport) -> Iterator[list[dict[str, Any]]]:
    rows = _rows(path)
    first = next(rows, None)
    if first is None:
        raise AreaFileError(f"{path.name}: the file is empty")
    header = first[1]
    code = _find(header, IMD_LSOA_COLUMNS, path, required=True)
    decile = _find(header, IMD_DECILE_COLUMNS, path, required=True)
    rank = _find(header, IMD_RANK_COLUMNS, path, required=False)
    width = max(code, decile, rank) + 1
    seen: set[str] = set()
    batch: list[dict[str, Any]] = []
    for line, row in rows:
        if len(row) < width:
            report.skip(line, f"{len(row)} columns, expected at least {width}")
            continue
        lsoa = row[code].strip().upper()
        if not postcodes.LSOA.match(lsoa):
            report.skip(line, f"{row[code]!r} is not an LSOA code")
            continue
        if lsoa in seen:
            report.skip(line, f"{lsoa} appears twice")
            continue
        value = row[decile].strip()
        if not value.isdigit() or not 1 <= int(value) <= 10:
            report.skip(line, f"IMD decile {value!r} is not 1-10")
            continue
        seen.add(lsoa)
        raw_rank = row[rank].strip().replace(",", "") if rank >= 0 else ""
        batch.append(
            {
                "lsoa_code": lsoa,
                "imd_decile": int(value),
                "imd_rank": int(raw_rank) if raw_rank.isdigit() else None,
            }
        )
        report.loaded += 1
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


async def import_areas(
    session: AsyncSession, *, postcodes_file: Path | None, imd_file: Path | None
) -> AreaImportReport:
    """Load the given files into the session's transaction (the caller commits)."""
    report = AreaImportReport()
    if postcodes_file is not None:
        report.postcodes = FileReport(postcodes_file.name)
        await repository.clear_postcodes(session)
        for batch in _postcode_batches(postcodes_file, report.postcodes):
            await repository.insert_postcodes(session, batch)
        report.districts = await repository.rebuild_districts(session)
    if imd_file is not None:
        report.deprivation = FileReport(imd_file.name)
        await repository.clear_deprivation(session)
        for batch in _deprivation_batches(imd_file, report.deprivation):
            await repository.insert_deprivation(session, batch)
    return report


FIXTURE_DIR = Path(__file__).resolve().parent / "data"
FIXTURE_POSTCODES = FIXTURE_DIR / "fixture_nspl_hackney.csv"
FIXTURE_IMD = FIXTURE_DIR / "fixture_iod2025_file7_hackney.csv"
