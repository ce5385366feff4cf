"""FHIR search values as SQL conditions."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ColumnElement
from sqlalchemy.orm import InstrumentedAttribute

from app.fhir.search import DateRange


def date_clause(
    column: InstrumentedAttribute[dt.datetime], value: DateRange
) -> ColumnElement[bool]:
    """R4 date comparison of an instant column against the interval a search value denotes."""
    match value.prefix:
        case "gt":
            return column >= value.end
        case "ge":
            return column >= value.start
        case "lt":
            return column < value.start
        case "le":
            return column < value.end
        case _:  # eq: the instant lies inside the interval
            return (column >= value.start) & (column < value.end)
