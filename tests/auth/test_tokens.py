"""Bearer tokens over real HTTP requests: every failure is a 401 with WWW-Authenticate."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from app.auth.principal import Role
from app.auth.tokens import JWKS_TTL_S, VERIFIED_TOKENS_MAX, TokenVerifier
from app.config import Settings
from app.errors import Unauthorized
from app.main import create_app
from tests.conftest import TEST_SECRET, TokenFactory, make_settings

AUDIT = "/fhir/AuditEvent"


def _claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {
        "sub": "gp-system-1",
        "role": "admin",
        "org": "X26",
        "aud": "assetlink",
        "exp": now + 300,
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _hs256(**overrides: Any) -> str:
    return jwt.encode(_claims(**overrides), TEST_SECRET, algorithm="HS256")


def _assert_401(response: httpx.Response, error: str | None = "invalid_token") -> None:
    assert response.status_code == 401, response.text
    challenge = response.headers["WWW-Authenticate"]
    assert challenge.startswith("Bearer")
    if error:
        assert f'error="{error}"' in challenge
    body = response.json()
    assert body["resourceType"] == "OperationOutcome"
    assert body["issue"][0]["code"] == "login"


class TestRejectedTokens:
    async def test_missing(self, client: httpx.AsyncClient) -> None:
        _assert_401(await client.get(AUDIT), error=None)

    async def test_not_bearer(self, client: httpx.AsyncClient) -> None:
        _assert_401(await client.get(AUDIT, headers={"Authorization": "Basic dXNlcjpwdw=="}), None)

    @pytest.mark.parametrize("token", ["garbage", "a.b.c", "eyJhbGciOiJIUzI1NiJ9..", " "])
    async def test_malformed(self, client: httpx.AsyncClient, token: str) -> None:
        response = await client.get(AUDIT, headers={"Authorization": f"Bearer {token}"})
        _assert_401(response, error="invalid_token" if token.strip() else None)

    @pytest.mark.parametrize(
        "header", ["Bearer not.a.jwt", "bearer not.a.jwt", "Bearer garbage", "not.a.jwt"]
    )
    async def test_malformed_is_said_to_be_malformed(
        self, client: httpx.AsyncClient, header: str
    ) -> None:
        """Not "a bearer token is required": one was given, and it is not a JWT."""
        for path in (AUDIT, "/api/v1/whoami"):
            response = await client.get(path, headers={"Authorization": header})
            assert response.status_code == 401
            challenge = response.headers["WWW-Authenticate"]
            assert 'error="invalid_token"' in challenge
            assert "malformed" in challenge
            text = response.text
            assert "malformed" in text, text
            assert "JWT" in text, text
            assert "is required" not in text, text

    async def test_expired(self, client: httpx.AsyncClient) -> None:
        token = _hs256(exp=int(time.time()) - 61)  # beyond the 60 s leeway
        _assert_401(await client.get(AUDIT, headers=_bearer(token)))

    async def test_within_clock_skew_is_accepted(self, client: httpx.AsyncClient) -> None:
        token = _hs256(exp=int(time.time()) - 30)
        assert (await client.get(AUDIT, headers=_bearer(token))).status_code == 200

    async def test_wrong_audience(self, client: httpx.AsyncClient) -> None:
        _assert_401(await client.get(AUDIT, headers=_bearer(_hs256(aud="someone-else"))))

    async def test_missing_exp(self, client: httpx.AsyncClient) -> None:
        _assert_401(await client.get(AUDIT, headers=_bearer(_hs256(exp=None))))

    async def test_badly_signed(self, client: httpx.AsyncClient) -> None:
        token = jwt.encode(_claims(), "another-secret-of-at-least-32-bytes!!", algorithm="HS256")
        _assert_401(await client.get(AUDIT, headers=_bearer(token)))

    async def test_tampered_claims(self, client: httpx.AsyncClient) -> None:
        header, _, signature = _hs256(role="referrer").split(".")
        forged = jwt.utils.base64url_encode(json.dumps(_claims()).encode()).decode()
        _assert_401(await client.get(AUDIT, headers=_bearer(f"{header}.{forged}.{signature}")))

    async def test_alg_none(self, client: httpx.AsyncClient) -> None:
        token = jwt.encode(_claims(), None, algorithm="none")
        _assert_401(await client.get(AUDIT, headers=_bearer(token)))

    @pytest.mark.parametrize(
        "claims", [{"role": "superuser"}, {"role": None}, {"org": None}, {"org": "not an ods!"}]
    )
    async def test_bad_role_or_org_claims(
        self, client: httpx.AsyncClient, claims: dict[str, Any]
    ) -> None:
        _assert_401(await client.get(AUDIT, headers=_bearer(_hs256(**claims))))

    async def test_json_routes_answer_problem_json(self, client: httpx.AsyncClient) -> None:
        # The same rules on a non-FHIR route render as problem+json.
        response = await client.get("/api/v1/whoami")
        assert response.status_code == 401
        assert response.headers["content-type"] == "application/problem+json"
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


class TestAuthorisation:
    async def test_wrong_role_is_403(self, client: httpx.AsyncClient, auth: TokenFactory) -> None:
        response = await client.get(AUDIT, headers=auth(Role.REFERRER, "A81001"))
        assert response.status_code == 403
        assert response.json()["issue"][0]["code"] == "forbidden"

    async def test_right_role_is_200(self, client: httpx.AsyncClient, auth: TokenFactory) -> None:
        response = await client.get(AUDIT, headers=auth(Role.ADMIN, "X26"))
        assert response.status_code == 200
        assert response.json()["type"] == "searchset"

    async def test_scope_must_allow_the_action(
        self, client: httpx.AsyncClient, auth: TokenFactory
    ) -> None:
        denied = await client.get(AUDIT, headers=auth(Role.ADMIN, "X26", scope="system/Task.read"))
        assert denied.status_code == 403
        allowed = await client.get(
            AUDIT, headers=auth(Role.ADMIN, "X26", scope="system/AuditEvent.rs")
        )
        assert allowed.status_code == 200

    async def test_whoami_reports_the_verified_claims(
        self, client: httpx.AsyncClient, auth: TokenFactory
    ) -> None:
        response = await client.get(
            "/api/v1/whoami", headers=auth(Role.LINK_WORKER, "y02718", sub="lw-7")
        )
        assert response.status_code == 200
        assert response.json() == {
            "sub": "lw-7",
            "role": "link_worker",
            "org": "Y02718",
            "scopes": None,
        }


class TestVerifiedTokens:
    """A token that passed is not checked again, but its time claims are, on every use."""

    async def test_a_remembered_token_expires_on_time(self, client: httpx.AsyncClient) -> None:
        expires = int(time.time()) - 57  # usable for 2-3 more seconds within the 60 s leeway
        token = _hs256(exp=expires)
        assert (await client.get(AUDIT, headers=_bearer(token))).status_code == 200
        assert (await client.get(AUDIT, headers=_bearer(token))).status_code == 200
        await asyncio.sleep(max(0.0, expires + 60 - time.time()) + 0.01)
        response = await client.get(AUDIT, headers=_bearer(token))
        _assert_401(response)
        assert "token expired" in response.headers["WWW-Authenticate"]

    async def test_a_remembered_token_is_not_usable_before_nbf(self) -> None:
        verifier = TokenVerifier(make_settings("sqlite://", jwt_leeway_s=0))
        starts = int(time.time()) + 2  # at least a second away, even on a loaded machine
        token = _hs256(nbf=starts)
        with pytest.raises(Unauthorized, match="not yet valid"):
            await verifier.verify(token)
        await asyncio.sleep(max(0.0, starts - time.time()) + 0.01)
        assert (await verifier.verify(token)).sub == "gp-system-1"
        assert (await verifier.verify(token)).sub == "gp-system-1"

    async def test_only_the_same_string_is_remembered(self) -> None:
        verifier = TokenVerifier(make_settings("sqlite://"))
        token = _hs256(role="referrer")
        assert (await verifier.verify(token)).role is Role.REFERRER
        header, _, signature = token.split(".")
        forged = jwt.utils.base64url_encode(json.dumps(_claims()).encode()).decode()
        with pytest.raises(Unauthorized, match="bad signature"):
            await verifier.verify(f"{header}.{forged}.{signature}")
        assert (await verifier.verify(token)).role is Role.REFERRER

    async def test_at_most_a_bounded_number_are_remembered(self) -> None:
        verifier = TokenVerifier(make_settings("sqlite://"))
        tokens = [_hs256(sub=f"client-{n}") for n in range(VERIFIED_TOKENS_MAX + 5)]
        for token in tokens:
            await verifier.verify(token)
        assert len(verifier._verified) == VERIFIED_TOKENS_MAX
        assert tokens[0] not in verifier._verified
        assert tokens[-1] in verifier._verified
        assert (await verifier.verify(tokens[0])).sub == "client-0"  # verified afresh


# --- asymmetric keys through a JWKS --------------------------------------------------------


def _rsa_jwk(kid: str) -> tuple[rsa.RSAPrivateKey, dict[str, Any]]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    return key, {**jwk, "kid": kid, "use": "sig", "alg": "RS256"}


def _ec_jwk(kid: str) -> tuple[ec.EllipticCurvePrivateKey, dict[str, Any]]:
    key = ec.generate_private_key(ec.SECP256R1())
    jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(key.public_key()))
    return key, {**jwk, "kid": kid, "use": "sig", "alg": "ES256"}


@pytest.fixture(scope="module")
def keys() -> dict[str, Any]:
    rsa_key, rsa_jwk = _rsa_jwk("rsa-1")
    ec_key, ec_jwk = _ec_jwk("ec-1")
    return {"rsa": rsa_key, "ec": ec_key, "jwks": {"keys": [rsa_jwk, ec_jwk]}}


@pytest.fixture
def jwks_file(tmp_path: Path, keys: dict[str, Any]) -> Path:
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps(keys["jwks"]))
    return path


@pytest.fixture
def jwks_body(keys: dict[str, Any]) -> dict[str, bytes]:
    """What the JWKS URL serves; a test may replace it (a key rotated out)."""
    return {"jwks": json.dumps(keys["jwks"]).encode()}


@pytest.fixture
def jwks_url(jwks_body: dict[str, bytes]) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(jwks_body["jwks"])

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/.well-known/jwks.json"
    server.shutdown()
    server.server_close()


async def _get(settings: Settings, sessionmaker: Any, token: str) -> httpx.Response:
    application = create_app(settings)
    application.state.sessionmaker = sessionmaker
    transport = httpx.ASGITransport(app=application)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        response = await http.get(AUDIT, headers=_bearer(token))
    await application.state.engine.dispose()
    return response


class TestJwks:
    async def test_rs256_from_jwks_file(
        self, database_url: str, sessionmaker: Any, keys: dict[str, Any], jwks_file: Path
    ) -> None:
        settings = make_settings(database_url, jwt_secret=None, jwks_file=jwks_file)
        token = jwt.encode(_claims(), keys["rsa"], algorithm="RS256", headers={"kid": "rsa-1"})
        assert (await _get(settings, sessionmaker, token)).status_code == 200

    async def test_es256_from_jwks_url(
        self, database_url: str, sessionmaker: Any, keys: dict[str, Any], jwks_url: str
    ) -> None:
        settings = make_settings(database_url, jwt_secret=None, jwks_url=jwks_url)
        token = jwt.encode(_claims(), keys["ec"], algorithm="ES256", headers={"kid": "ec-1"})
        assert (await _get(settings, sessionmaker, token)).status_code == 200

    async def test_unknown_kid(
        self, database_url: str, sessionmaker: Any, keys: dict[str, Any], jwks_file: Path
    ) -> None:
        settings = make_settings(database_url, jwt_secret=None, jwks_file=jwks_file)
        token = jwt.encode(_claims(), keys["rsa"], algorithm="RS256", headers={"kid": "other"})
        _assert_401(await _get(settings, sessionmaker, token))

    async def test_key_not_in_the_jwks(
        self, database_url: str, sessionmaker: Any, jwks_file: Path
    ) -> None:
        stranger, _ = _rsa_jwk("rsa-1")  # same kid, different key
        settings = make_settings(database_url, jwt_secret=None, jwks_file=jwks_file)
        token = jwt.encode(_claims(), stranger, algorithm="RS256", headers={"kid": "rsa-1"})
        _assert_401(await _get(settings, sessionmaker, token))

    async def test_hs256_refused_when_only_a_jwks_is_configured(
        self, database_url: str, sessionmaker: Any, jwks_file: Path
    ) -> None:
        settings = make_settings(database_url, jwt_secret=None, jwks_file=jwks_file)
        _assert_401(await _get(settings, sessionmaker, _hs256()))

    async def test_issuer_checked_when_configured(
        self, database_url: str, sessionmaker: Any, keys: dict[str, Any], jwks_file: Path
    ) -> None:
        settings = make_settings(
            database_url, jwt_secret=None, jwks_file=jwks_file, jwt_issuer="https://idp.example"
        )
        good = jwt.encode(
            _claims(iss="https://idp.example"), keys["rsa"], "RS256", {"kid": "rsa-1"}
        )
        bad = jwt.encode(
            _claims(iss="https://evil.example"), keys["rsa"], "RS256", {"kid": "rsa-1"}
        )
        assert (await _get(settings, sessionmaker, good)).status_code == 200
        _assert_401(await _get(settings, sessionmaker, bad))

    @staticmethod
    async def _remembered_then_rotated_out(
        database_url: str, keys: dict[str, Any], jwks_url: str, jwks_body: dict[str, bytes]
    ) -> tuple[TokenVerifier, str]:
        """A verifier that has remembered an ES256 token whose key the JWKS then drops (and is
        due to be fetched again)."""
        verifier = TokenVerifier(make_settings(database_url, jwt_secret=None, jwks_url=jwks_url))
        token = jwt.encode(_claims(), keys["ec"], algorithm="ES256", headers={"kid": "ec-1"})
        assert (await verifier.verify(token)).sub == "gp-system-1"
        assert (await verifier.verify(token)).sub == "gp-system-1"
        rsa_only = [k for k in keys["jwks"]["keys"] if k["kid"] != "ec-1"]
        jwks_body["jwks"] = json.dumps({"keys": rsa_only}).encode()
        assert verifier._jwks is not None
        verifier._jwks._fetched_at -= JWKS_TTL_S + 1
        return verifier, token

    async def test_a_remembered_token_is_refused_once_its_key_leaves_the_jwks(
        self, database_url: str, keys: dict[str, Any], jwks_url: str, jwks_body: dict[str, bytes]
    ) -> None:
        verifier, token = await self._remembered_then_rotated_out(
            database_url, keys, jwks_url, jwks_body
        )
        with pytest.raises(Unauthorized, match="unknown signing key"):
            await verifier.verify(token)

    async def test_concurrent_uses_of_a_token_whose_key_left_are_each_refused(
        self, database_url: str, keys: dict[str, Any], jwks_url: str, jwks_body: dict[str, bytes]
    ) -> None:
        verifier, token = await self._remembered_then_rotated_out(
            database_url, keys, jwks_url, jwks_body
        )
        answers = await asyncio.gather(
            verifier.verify(token), verifier.verify(token), return_exceptions=True
        )
        assert [type(a) for a in answers] == [Unauthorized, Unauthorized]
