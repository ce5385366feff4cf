"""The process's count of unknown questionnaire links per address (set on ``app.state`` by
``create_app``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from app.deps import provider
from app.questionnaires.tokens import Guesses


def guesses_of(request: Request) -> Guesses:
    found: Guesses = request.app.state.questionnaire_guesses
    return found


GuessesDep = Annotated[Guesses, Depends(provider(guesses_of))]
