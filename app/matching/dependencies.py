"""The application's matching snapshots (set on ``app.state`` by ``create_app``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from app.deps import provider
from app.matching.snapshot import Snapshots


def snapshots_of(request: Request) -> Snapshots:
    found: Snapshots = request.app.state.match_snapshots
    return found


SnapshotsDep = Annotated[Snapshots, Depends(provider(snapshots_of))]
