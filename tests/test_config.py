import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from app.config import DEV_JWT_SECRET, Environment, Settings, to_async_url

README = Path(__file__).resolve().parent.parent / "README.md"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://u@h/db", "postgresql+asyncpg://u@h/db"),
        ("postgresql://u@h:5432/db", "postgresql+asyncpg://u@h:5432/db"),
        ("postgresql+asyncpg://u@h/db", "postgresql+asyncpg://u@h/db"),
        ("sqlite:///./var/a.db", "sqlite+aiosqlite:///./var/a.db"),
        ("sqlite+aiosqlite:///x.db", "sqlite+aiosqlite:///x.db"),
    ],
)
def test_database_urls_get_async_drivers(given: str, expected: str) -> None:
    assert to_async_url(given) == expected


def test_development_falls_back_to_the_placeholder_secret() -> None:
    assert Settings(environment=Environment.DEVELOPMENT).hs256_secret == DEV_JWT_SECRET


def test_production_refuses_the_placeholder_secret() -> None:
    with pytest.raises(ValidationError, match="production"):
        Settings(environment=Environment.PRODUCTION)
    with pytest.raises(ValidationError, match="refused in production"):
        Settings(environment=Environment.PRODUCTION, jwt_secret=DEV_JWT_SECRET)


def test_production_with_jwks_has_no_hs256_key(tmp_path: Path) -> None:
    jwks = tmp_path / "jwks.json"
    jwks.write_text('{"keys": []}')
    settings = Settings(environment=Environment.PRODUCTION, jwks_file=jwks)
    assert settings.hs256_secret is None


def test_short_secrets_are_refused() -> None:
    with pytest.raises(ValidationError, match="32 bytes"):
        Settings(jwt_secret="short")


def test_cors_origins_are_comma_separated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSETLINK_CORS_ORIGINS", "https://a.example, https://b.example")
    assert Settings().cors_origins == ["https://a.example", "https://b.example"]


def test_readme_documents_every_setting() -> None:
    documented = set(re.findall(r"^\| `ASSETLINK_([A-Z_]+)`", README.read_text(), re.MULTILINE))
    assert documented == {name.upper() for name in Settings.model_fields}


def test_subscription_http_hosts_are_comma_separated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSETLINK_SUBSCRIPTION_HTTP_HOSTS", "gp.test , 10.0.0.5")
    assert Settings().subscription_http_hosts == ["gp.test", "10.0.0.5"]


def test_a_lease_no_longer_than_the_delivery_timeout_is_refused() -> None:
    with pytest.raises(ValidationError, match="LEASE_S must be longer"):
        Settings(notify_timeout_s=10, notify_lease_s=10)
