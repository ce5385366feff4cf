"""The process's intake writer (set on ``app.state`` by ``create_app``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from app.deps import provider
from app.referrals.writer import IntakeWriter


def intake_writer_of(request: Request) -> IntakeWriter:
    found: IntakeWriter = request.app.state.intake_writer
    return found


IntakeWriterDep = Annotated[IntakeWriter, Depends(provider(intake_writer_of))]
