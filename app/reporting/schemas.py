from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field


class FigureRead(BaseModel):
    value: float | int | None = Field(description="null when suppressed or not applicable")
    suppressed: bool = Field(description="true when withheld by disclosure control")


class RowRead(BaseModel):
    group: dict[str, str] = Field(
        description="the row's value of each group_by dimension; `all` in the margins"
    )
    instrument: str | None = Field(None, description="outcomes: the instrument")
    measure: str | None = Field(None, description="outcomes: the instrument's score")
    figures: dict[str, FigureRead]


class DisclosureRead(BaseModel):
    suppress_below: int = Field(description="counts from 1 to this minus 1 are suppressed")
    round_to: int = Field(description="other counts are rounded to a multiple of this")
    min_n: int = Field(description="people needed behind a mean, median, change or share")


class ReportRead(BaseModel):
    report: str
    from_: dt.date = Field(alias="from")
    to: dt.date
    group_by: list[str]
    disclosure: DisclosureRead
    rows: list[RowRead]

    model_config = {"populate_by_name": True}
