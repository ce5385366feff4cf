"""Rules for every route: no U+0000 (NUL) in the path or a query parameter; JSON bodies nested
at most ``MAX_JSON_DEPTH`` deep.

PostgreSQL text cannot hold NUL, so a NUL reaching a query fails there (a 500); no path or
search parameter has a use for it (FHIR strings may not contain it either: R4 datatypes allow
no character below U+0020 but tab, CR and LF). Refusing it once, before any route runs, covers
every parameter, including ones added later. Bodies are checked where they are validated, so
that the answer names the field: every FHIR body where its structure is checked
(app/fhir/codec.py) and the JSON APIs' schemas (`app.ops.input_guard.Text`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
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


def nul_in_path(path: str) -> BadRequest | None:
    """The 400 for a path holding a NUL character, else None. The request middleware asks it
    before routing: a path no route takes (or one the router would redirect) is refused too."""
    if "\x00" in path:
        return BadRequest("The path contains a NUL character", [Issue("NUL character", "path")])
    return None


async def refuse_nul(request: Request) -> None:
    """400 when the path or a query parameter holds a NUL character."""
    # the path as the request's URL has it (request.url parses the whole URL to give it)
    if (error := nul_in_path(request.scope["path"])) is not None:
        raise error
    refuse_nul_parameters(request.query_params.multi_items())


def refuse_nul_parameters(pairs: Iterable[tuple[str, str]]) -> None:
    """400 when a parameter's name or value holds a NUL character (the query, a form body)."""
    for name, value in pairs:
        if "\x00" in name or "\x00" in value:
            raise BadRequest(
                f"Parameter {name.replace(chr(0), '')!r} contains a NUL character",
                [Issue("NUL character", name.replace("\x00", ""))],
            )


MAX_JSON_DEPTH = 64
"""Arrays and objects inside one another in a JSON body (FHIR or not): deeper is a 400, decided
on the bytes before a decoder recurses (Python's own limit would answer in its own words). A
referral Bundle nests about 12 deep."""

_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_OPENING = frozenset(b"[{")


def too_deep(body: bytes) -> BadRequest | None:
    """The 400 for a JSON ``body`` nested more than ``MAX_JSON_DEPTH`` deep, else None."""
    if body.count(b"[") + body.count(b"{") <= MAX_JSON_DEPTH:
        return None  # nearly every body: too few brackets to nest that deep
    depth = 0
    for byte in _STRING.sub(b"", body).translate(None, _NOT_BRACKETS):
        depth += 1 if byte in _OPENING else -1
        if depth > MAX_JSON_DEPTH:
            return BadRequest(
                f"The body is nested more than {MAX_JSON_DEPTH} levels deep (arrays and objects "
                f"inside one another); {MAX_JSON_DEPTH} is the limit"
            )
    return None
