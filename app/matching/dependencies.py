"""The application's matching snapshots and outcome priors (set on ``app.state`` by
``create_app``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from app.deps import provider
from app.matching.learning import OutcomePriors
from app.matching.snapshot import Snapshots


def snapshots_of(request: Request) -> Snapshots:
    found: Snapshots = request.app.state.match_snapshots
    return found


SnapshotsDep = Annotated[Snapshots, Depends(provider(snapshots_of))]


def outcome_priors_of(request: Request) -> OutcomePriors:
    found: OutcomePriors = request.app.state.outcome_priors
    return found


OutcomePriorsDep = Annotated[OutcomePriors, Depends(provider(outcome_priors_of))]
