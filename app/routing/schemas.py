from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field

from app.ops.input_guard import Text


class RoutingRuleWrite(BaseModel):
    performer_ods: Text = Field(
        min_length=3, max_length=12, description="link-worker service ODS code"
    )


class RoutingRuleRead(BaseModel):
    practice_ods: str
    performer_ods: str
    updated_at: dt.datetime
    updated_by: str


class PostcodeRouteRead(BaseModel):
    prefix: str = Field(description="postcode area (LS), district (LS6) or sector (LS6 3)")
    performer_ods: str
    updated_at: dt.datetime
    updated_by: str
