"""Bearer token verification (DESIGN.md section 4) and development tokens.

HS256 tokens are checked with ``ASSETLINK_JWT_SECRET``; RS256/ES256 tokens against a JWKS read
from ``ASSETLINK_JWKS_FILE`` or fetched from ``ASSETLINK_JWKS_URL`` (cached, refetched when a
token names an unknown ``kid``, at most once a minute). The algorithm must match the kind of key
configured, so an HS256 token can never be checked with a public key (algorithm confusion).

A token that passed is remembered (by its exact string, at most ``VERIFIED_TOKENS_MAX`` of
them) with the window its time claims allow, so a client sending the same token again is not
checked again: only ``exp``, ``nbf`` and ``iat`` depend on when it is used, and they are
compared with the clock on every use exactly as PyJWT compares them; outside that window, or
when the JWKS no longer holds the same key, the token is verified afresh (which gives the same
401 as before). A token that failed is never remembered.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import jwt

from app.auth.principal import ODS_CODE, Principal, Role
from app.config import Settings
from app.errors import Unauthorized

ASYMMETRIC = ("RS256", "ES256")
JWKS_TTL_S = 300.0
JWKS_MIN_REFETCH_S = 60.0
VERIFIED_TOKENS_MAX = 1024


def _invalid(description: str) -> Unauthorized:
    header = f'Bearer realm="assetlink", error="invalid_token", error_description="{description}"'
    return Unauthorized(
        f"Invalid bearer token: {description}", headers={"WWW-Authenticate": header}
    )


MALFORMED = "malformed token: a JWT is three base64url parts, header.payload.signature"


def no_bearer_token(header: str | None = None) -> Unauthorized:
    """The 401 when the ``Authorization`` header gave no bearer token: none at all (or another
    scheme's credentials), or a bare token without the ``Bearer`` scheme (malformed)."""
    scheme, _, credentials = (header or "").strip().partition(" ")
    if scheme and not credentials and scheme.lower() != "bearer":
        return _invalid(f"{MALFORMED}, sent as 'Authorization: Bearer <JWT>'")
    return Unauthorized(
        "A bearer token is required (Authorization: Bearer <JWT>)",
        headers={"WWW-Authenticate": 'Bearer realm="assetlink"'},
    )


class JwksCache:
    """Public keys by ``kid``, from a JWKS file or URL."""

    def __init__(self, settings: Settings) -> None:
        self._url = settings.jwks_url
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at = 0.0
        self._lock = asyncio.Lock()
        if settings.jwks_file is not None:
            self._keys = self._parse(settings.jwks_file.read_text())

    @staticmethod
    def _parse(text: str) -> dict[str, jwt.PyJWK]:
        keys: dict[str, jwt.PyJWK] = {}
        for jwk in json.loads(text).get("keys", []):
            if jwk.get("use", "sig") != "sig" or "kid" not in jwk:
                continue
            try:
                keys[jwk["kid"]] = jwt.PyJWK.from_dict(jwk)
            except jwt.PyJWTError:
                continue  # a key type this service does not use
        return keys

    async def key(self, kid: str | None) -> jwt.PyJWK | None:
        if self._url is not None:
            stale = time.monotonic() - self._fetched_at
            if stale > JWKS_TTL_S or (kid not in self._keys and stale > JWKS_MIN_REFETCH_S):
                await self._refresh()
        if kid is None:
            return next(iter(self._keys.values())) if len(self._keys) == 1 else None
        return self._keys.get(kid)

    async def _refresh(self) -> None:
        async with self._lock:
            assert self._url is not None
            try:
                async with httpx.AsyncClient(timeout=5.0) as client:
                    response = await client.get(self._url)
                    response.raise_for_status()
                self._keys = self._parse(response.text)
            except (httpx.HTTPError, ValueError):
                pass  # keep the keys we had; an unknown kid is then answered with 401
            self._fetched_at = time.monotonic()


@dataclass(frozen=True)
class _Verified:
    """A token that passed: its caller, when PyJWT would accept its time claims, and the key."""

    principal: Principal
    starts: tuple[int, ...]  # iat and nbf (when given): refused while ``start > now + leeway``
    expires: int  # exp: refused once ``exp <= now - leeway``
    kid: str | None
    key: Any  # the JWKS key it was checked with; None for HS256 (the secret never changes)


class TokenVerifier:
    def __init__(self, settings: Settings) -> None:
        self._secret = settings.hs256_secret
        self._audience = settings.jwt_audience
        self._issuer = settings.jwt_issuer
        self._leeway = settings.jwt_leeway_s
        has_jwks = settings.jwks_url is not None or settings.jwks_file is not None
        self._jwks = JwksCache(settings) if has_jwks else None
        self._verified: dict[str, _Verified] = {}

    async def verify(self, token: str) -> Principal:
        known = self._verified.get(token)
        if known is not None:
            if await self._still_valid(known):
                return known.principal
            self._verified.pop(token, None)  # a concurrent request may have dropped it already
        principal, verified = await self._verify(token)
        if len(self._verified) >= VERIFIED_TOKENS_MAX:
            del self._verified[next(iter(self._verified))]  # the oldest
        self._verified[token] = verified
        return principal

    async def _still_valid(self, known: _Verified) -> bool:
        now = time.time()  # PyJWT's clock: datetime.now(tz=UTC).timestamp()
        if known.expires <= now - self._leeway or any(
            start > now + self._leeway for start in known.starts
        ):
            return False
        if known.key is None:
            return True
        assert self._jwks is not None
        jwk = await self._jwks.key(known.kid)  # refetches the JWKS when it would have
        return jwk is not None and jwk.key is known.key

    async def _verify(self, token: str) -> tuple[Principal, _Verified]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise _invalid(MALFORMED) from None
        algorithm = header.get("alg")
        key: Any
        jwks_key: Any = None
        if algorithm == "HS256" and self._secret is not None:
            key = self._secret
        elif algorithm in ASYMMETRIC and self._jwks is not None:
            jwk = await self._jwks.key(header.get("kid"))
            if jwk is None:
                raise _invalid("unknown signing key")
            key = jwks_key = jwk.key
        else:
            raise _invalid(f"algorithm {algorithm!r} is not accepted")
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                audience=self._audience,
                issuer=self._issuer,
                leeway=self._leeway,
                options={"require": ["exp", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError:
            raise _invalid("token expired") from None
        except jwt.InvalidAudienceError:
            raise _invalid("wrong audience") from None
        except jwt.InvalidIssuerError:
            raise _invalid("wrong issuer") from None
        except jwt.InvalidSignatureError:
            raise _invalid("bad signature") from None
        except jwt.PyJWTError as exc:
            raise _invalid(str(exc).replace('"', "'")) from None
        principal = principal_from_claims(claims)
        # int() of each, as PyJWT compares them (it has checked that int() takes them)
        return principal, _Verified(
            principal,
            starts=tuple(int(claims[name]) for name in ("iat", "nbf") if name in claims),
            expires=int(claims["exp"]),
            kid=header.get("kid"),
            key=jwks_key,
        )


def principal_from_claims(claims: dict[str, Any]) -> Principal:
    try:
        role = Role(str(claims.get("role")))
    except ValueError:
        raise _invalid("missing or unknown 'role' claim") from None
    org = claims.get("org")
    if not isinstance(org, str) or not ODS_CODE.match(org.upper()):
        raise _invalid("missing or malformed 'org' claim")
    scope = claims.get("scope")
    if scope is not None and not isinstance(scope, str):
        raise _invalid("'scope' claim must be a space-separated string")
    return Principal(
        sub=str(claims["sub"]),
        role=role,
        org=org.upper(),
        scopes=frozenset(scope.split()) if scope is not None else None,
    )


def mint_hs256(
    settings: Settings,
    *,
    role: Role,
    org: str,
    sub: str | None = None,
    ttl_s: int = 8 * 3600,
    scope: str | None = None,
    extra: dict[str, Any] | None = None,
) -> str:
    """A development token signed with the HS256 secret in force."""
    secret = settings.hs256_secret
    if secret is None:
        raise RuntimeError("no HS256 secret is configured (set ASSETLINK_JWT_SECRET)")
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": sub or f"dev-{role.value}-{uuid.uuid4().hex[:8]}",
        "role": role.value,
        "org": org,
        "aud": settings.jwt_audience,
        "iat": now,
        "exp": now + ttl_s,
        "jti": uuid.uuid4().hex,
    }
    if settings.jwt_issuer:
        claims["iss"] = settings.jwt_issuer
    if scope is not None:
        claims["scope"] = scope
    claims.update(extra or {})
    return jwt.encode(claims, secret, algorithm="HS256")
