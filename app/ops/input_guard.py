"""One rule for every route: no U+0000 (NUL) in the path or a query parameter.

PostgreSQL text cannot hold NUL, so a NUL reaching a query fails there (a 500); no path or
search parameter has a use for it (FHIR strings may not contain it either: R4 datatypes allow
no character below U+0020 but tab, CR and LF). Refusing it once, before any route runs, covers
every parameter, including ones added later. Bodies are checked where they are validated, so
that the answer names the field: every FHIR body where its structure is checked
(app/fhir/codec.py) and the JSON APIs' schemas (`app.ops.input_guard.Text`).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Request
from pydantic import AfterValidator

from app.errors import BadRequest, Issue


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


Text = Annotated[str, AfterValidator(_no_nul)]
"""A string field of a JSON API body: refused (422, the field named) when it holds a NUL."""


async def refuse_nul(request: Request) -> None:
    """400 when the path or a query parameter holds a NUL character."""
    if "\x00" in request.url.path:
        raise BadRequest("The path contains a NUL character", [Issue("NUL character", "path")])
    for name, value in request.query_params.multi_items():
        if "\x00" in name or "\x00" in value:
            raise BadRequest(
                f"Parameter {name.replace(chr(0), '')!r} contains a NUL character",
                [Issue("NUL character", name.replace("\x00", ""))],
            )
