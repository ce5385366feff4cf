"""FHIR search parameter parsing shared by every resource type (R4 search.html).

A ``SearchRequest`` is built from the query (GET) or the form body (``POST _search``). Each
resource declares the parameters it understands; unknown parameters are ignored unless the
client sent ``Prefer: handling=strict``, and a modifier or a value the server does not support is
a 400, as the specification requires.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar
from urllib.parse import urlencode

from starlette.datastructures import MultiDict

from app.errors import TIME_ZONE_REQUIRED, BadRequest, Issue
from app.fhir.capability import SearchParam

T = TypeVar("T")

MAX_OFFSET = 10_000_000  # deeper than any real result set; keeps SQL offsets in range
DEFAULT_COUNT = 20
MAX_COUNT = 100
DATE_PREFIXES = ("eq", "ne", "gt", "lt", "ge", "le", "sa", "eb", "ap")
SUPPORTED_DATE_PREFIXES = ("eq", "gt", "lt", "ge", "le")
RESULT_PARAMETERS = {"_count", "_sort", "_include", "_revinclude", "_cursor", "_format", "_total"}

_DATE = re.compile(
    r"^(?P<y>\d{4})(-(?P<m>\d{2})(-(?P<d>\d{2})"
    r"(T(?P<H>\d{2}):(?P<M>\d{2})(:(?P<S>\d{2})(\.\d+)?)?(?P<tz>Z|[+-]\d{2}:\d{2})?)?)?)?$"
)


@dataclass(frozen=True)
class DateRange:
    """A date search value as the half-open interval [start, end) it denotes."""

    prefix: str
    start: dt.datetime
    end: dt.datetime


@dataclass(frozen=True)
class Page:
    """The slice of the matches a search asks for (``_count`` from ``offset``, the position its
    ``_cursor`` carries) and the query its Bundle's links repeat."""

    offset: int
    count: int
    pairs: tuple[tuple[str, str], ...]

    def of(self, matches: Sequence[T]) -> Sequence[T]:
        """This page of matches found in memory."""
        return matches[self.offset : self.offset + self.count]

    def links(self, self_url: str, total: int) -> list[dict[str, str]]:
        """``self``, ``next`` and ``previous`` links; the position is an opaque ``_cursor``."""
        kept = [(k, v) for k, v in self.pairs if k != "_cursor"]

        def url(at: int) -> str:
            query = kept + ([("_cursor", encode_cursor(at))] if at else [])
            return f"{self_url}?{urlencode(query)}" if query else self_url

        links = [{"relation": "self", "url": url(self.offset)}]
        if self.count and self.offset + self.count < total:
            links.append({"relation": "next", "url": url(self.offset + self.count)})
        if self.offset > 0:
            links.append({"relation": "previous", "url": url(max(self.offset - self.count, 0))})
        return links


@dataclass
class SearchRequest:
    params: MultiDict
    strict: bool = False
    used: set[str] = field(default_factory=set)

    @classmethod
    def from_pairs(cls, pairs: Iterable[tuple[str, str]], prefer: str | None) -> SearchRequest:
        return cls(MultiDict(list(pairs)), strict=is_strict(prefer))

    def values(self, name: str) -> list[str]:
        """All values given for ``name`` (no modifier), comma-separated values split (OR)."""
        self.used.add(name)
        result: list[str] = []
        for raw in self.params.getlist(name):
            result.extend(v for v in split_or(raw) if v != "")
        return result

    def first(self, name: str) -> str | None:
        self.used.add(name)
        values = [v for v in self.params.getlist(name) if v != ""]
        if len(values) > 1:
            raise BadRequest(
                f"Search parameter {name} may be given once", [Issue("repeated", name)]
            )
        return values[0] if values else None

    def modifiers(self, name: str) -> dict[str, list[str]]:
        """Values given as ``name:modifier`` (only the modifiers the caller asks about)."""
        found: dict[str, list[str]] = {}
        for key in self.params:
            base, _, modifier = key.partition(":")
            if base == name and modifier:
                self.used.add(key)
                found.setdefault(modifier, []).extend(self.params.getlist(key))
        return found

    def check_unused(self, known: Sequence[str]) -> None:
        """Reject unsupported modifiers always; unknown parameters when handling is strict."""
        problems: list[Issue] = []
        for key in self.params:
            base, _, modifier = key.partition(":")
            if key in self.used or key in RESULT_PARAMETERS:
                continue
            if base in known and modifier:
                raise BadRequest(
                    f"Modifier :{modifier} is not supported on {base}",
                    [Issue(f"unsupported modifier :{modifier}", key, code="not-supported")],
                )
            if self.strict and base not in known:
                problems.append(Issue(f"unknown search parameter {key}", key, code="not-supported"))
        if problems:
            raise BadRequest("Unknown search parameters (Prefer: handling=strict)", problems)

    def page(self, params: Iterable[SearchParam]) -> Page:
        """The page asked for, once the resource has read its own ``params`` (then any other
        parameter is unknown: refused under ``Prefer: handling=strict``, else ignored)."""
        count, offset = self.count(), self.offset()
        self.check_unused([p.name for p in params])
        return Page(offset, count, tuple(self.params.multi_items()))

    def count(self) -> int:
        return parse_count(self.first("_count"))

    def offset(self) -> int:
        raw = self.first("_cursor")
        return 0 if raw is None else decode_cursor(raw)

    def dates(self, name: str) -> list[DateRange]:
        return [parse_date(name, value) for value in self.values(name)]


def parse_count(raw: str | None, default: int = DEFAULT_COUNT, maximum: int = MAX_COUNT) -> int:
    """``_count``: ``default`` when absent, at most ``maximum`` (a larger value is served as
    ``maximum``, as R4 search.html allows the server to do); not a whole number -> 400."""
    if raw is None or raw == "":
        return default
    if not (raw.isascii() and raw.isdigit()):
        raise BadRequest("_count must be a whole number", [Issue("not a number", "_count")])
    return maximum if len(raw) > 9 else min(int(raw), maximum)


def is_strict(prefer: str | None) -> bool:
    if not prefer:
        return False
    return any(p.strip().lower() == "handling=strict" for p in prefer.split(";"))


def split_or(raw: str) -> list[str]:
    """Split on commas not escaped with a backslash (R4 search.html 'escaping')."""
    parts, current, escaped = [], [], False
    for char in raw:
        if escaped:
            current.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == ",":
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def parse_date(name: str, value: str) -> DateRange:
    prefix = value[:2] if value[:2] in DATE_PREFIXES else "eq"
    text = value[2:] if value[:2] in DATE_PREFIXES else value
    if prefix not in SUPPORTED_DATE_PREFIXES:
        raise BadRequest(
            f"Date prefix {prefix} is not supported on {name}",
            [Issue(f"unsupported prefix {prefix}", name, code="not-supported")],
        )
    match = _DATE.match(text)
    if match is not None and match["H"] is not None and match["tz"] is None:
        raise BadRequest(
            f"{name}: {text!r} has a time: {TIME_ZONE_REQUIRED}", [Issue(TIME_ZONE_REQUIRED, name)]
        )
    try:
        if match is None:
            raise ValueError(text)
        start, end = _interval(match)
    except ValueError:
        raise BadRequest(
            f"{name}: {text!r} is not a FHIR date or dateTime",
            [Issue("malformed date", name)],
        ) from None
    return DateRange(prefix, start, end)


def _interval(match: re.Match[str]) -> tuple[dt.datetime, dt.datetime]:
    g = match.groupdict()
    tz = dt.UTC
    if g["tz"] and g["tz"] != "Z":
        sign = 1 if g["tz"][0] == "+" else -1
        hours, minutes = int(g["tz"][1:3]), int(g["tz"][4:6])
        tz = dt.timezone(sign * dt.timedelta(hours=hours, minutes=minutes))
    year = int(g["y"])
    if g["m"] is None:
        start = dt.datetime(year, 1, 1, tzinfo=tz)
        return start, start.replace(year=year + 1)
    month = int(g["m"])
    if g["d"] is None:
        start = dt.datetime(year, month, 1, tzinfo=tz)
        end = (
            start.replace(year=year + 1, month=1) if month == 12 else start.replace(month=month + 1)
        )
        return start, end
    day = dt.datetime(year, month, int(g["d"]), tzinfo=tz)
    if g["H"] is None:
        return day, day + dt.timedelta(days=1)
    start = day.replace(hour=int(g["H"]), minute=int(g["M"]), second=int(g["S"] or 0))
    step = dt.timedelta(seconds=1) if g["S"] is not None else dt.timedelta(minutes=1)
    return start, start + step


def encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"o": offset}).encode()).decode().rstrip("=")


def decode_cursor(raw: str) -> int:
    try:
        data = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
        offset = data["o"]
        if not isinstance(offset, int) or not 0 <= offset <= MAX_OFFSET:
            raise ValueError
    except (ValueError, KeyError, TypeError, binascii.Error, UnicodeDecodeError):
        raise BadRequest(
            "_cursor is not a cursor this server issued", [Issue("bad cursor", "_cursor")]
        ) from None
    return offset


def token(value: str) -> tuple[str | None, str]:
    """``system|code`` -> (system, code); ``code`` -> (None, code); ``|code`` -> ("", code)."""
    if "|" not in value:
        return None, value
    system, _, code = value.partition("|")
    return system, code


def reference_ids(values: Iterable[str], resource_type: str) -> list[uuid.UUID]:
    """``Type/id`` or ``id`` values as UUIDs; an id this server never issued matches nothing."""
    ids = []
    for value in values:
        raw = (
            value.rsplit("/", 1)[-1]
            if value.startswith(f"{resource_type}/") or "/" not in value
            else ""
        )
        try:
            ids.append(uuid.UUID(raw))
        except ValueError:
            ids.append(NO_MATCH)
    return ids


NO_MATCH = uuid.UUID(int=0)
