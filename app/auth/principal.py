"""Who is calling: the verified claims of a bearer token."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

ODS_CODE = re.compile(r"^[A-Z0-9]{3,12}$")
PERSON_ORG = "self"
"""The organisation of a person referring themselves (app/person): the ``requester_ods`` of
their referral; never a token's (a token's ``org`` is an ODS code, upper case)."""


class Role(StrEnum):
    REFERRER = "referrer"
    LINK_WORKER = "link_worker"
    PROVIDER = "provider"
    COMMISSIONER = "commissioner"
    ADMIN = "admin"


@dataclass(frozen=True)
class Principal:
    sub: str
    role: Role
    org: str  # ODS code (or charity number for providers) of the caller's organisation
    scopes: frozenset[str] | None = None  # None: the token carried no `scope` claim
