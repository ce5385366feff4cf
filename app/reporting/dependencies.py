"""The application's shared report refresh (set on ``app.state`` by ``create_app``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from app.deps import provider
from app.reporting.summary import SharedRefresh


def shared_refresh_of(request: Request) -> SharedRefresh:
    found: SharedRefresh = request.app.state.report_refresh
    return found


SharedRefreshDep = Annotated[SharedRefresh, Depends(provider(shared_refresh_of))]
