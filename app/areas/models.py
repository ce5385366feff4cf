from __future__ import annotations

from sqlalchemy import Float, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base


class Postcode(Base):
    """One row of the ONS postcode lookup (NSPL/ONSPD): where a postcode is, and its LSOA."""

    __tablename__ = "postcode"

    postcode: Mapped[str] = mapped_column(String(8), primary_key=True)  # normalised, "E8 1AB"
    district: Mapped[str] = mapped_column(String(4), index=True)  # outward code, "E8"
    latitude: Mapped[float | None] = mapped_column(Float)  # WGS84; None: no grid reference
    longitude: Mapped[float | None] = mapped_column(Float)
    lsoa_code: Mapped[str | None] = mapped_column(String(9))
    local_authority_code: Mapped[str | None] = mapped_column(String(9))


class PostcodeDistrict(Base):
    """The centroid of a postcode district, computed at import (mean of its postcodes)."""

    __tablename__ = "postcode_district"

    district: Mapped[str] = mapped_column(String(4), primary_key=True)
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)
    postcodes: Mapped[int] = mapped_column(Integer)


class LsoaDeprivation(Base):
    """English Indices of Deprivation: the IMD decile of one LSOA (1 = most deprived 10%)."""

    __tablename__ = "lsoa_deprivation"

    lsoa_code: Mapped[str] = mapped_column(String(9), primary_key=True)
    imd_decile: Mapped[int] = mapped_column(Integer)
    imd_rank: Mapped[int | None] = mapped_column(Integer)
