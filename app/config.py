"""Settings: every knob of the service, read from the environment with the prefix ``ASSETLINK_``.

The README has a table of them; `tests/test_config.py` checks that the table and this class agree.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Self

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEV_JWT_SECRET = "assetlink-development-secret-not-for-production"  # noqa: S105 (a placeholder)


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="ASSETLINK_", env_ignore_empty=True, extra="ignore", frozen=True
    )

    environment: Environment = Field(
        Environment.DEVELOPMENT,
        description="development | test | production; production refuses placeholder secrets",
    )
    database_url: str = Field(
        "sqlite+aiosqlite:///./var/assetlink.db",
        description="SQLAlchemy URL; sqlite:// and postgresql:// are given their async drivers",
    )
    database_pool_size: int = Field(10, ge=1, description="connections kept open (PostgreSQL)")
    database_timeout_s: float = Field(
        5.0, gt=0, description="seconds to wait for a connection before answering 503"
    )

    jwt_secret: str | None = Field(
        None, description="HS256 key for development and tests (at least 32 bytes)"
    )
    jwt_audience: str = Field("assetlink", description="required `aud` claim")
    jwt_issuer: str | None = Field(None, description="required `iss` claim, when set")
    jwks_url: str | None = Field(None, description="JWKS URL for RS256/ES256 tokens")
    jwks_file: Path | None = Field(None, description="JWKS file for RS256/ES256 tokens")
    jwt_leeway_s: int = Field(
        60, ge=0, description="clock skew allowed on `exp`/`nbf`/`iat` and on `authoredOn`"
    )

    max_body_bytes: int = Field(1_048_576, ge=1, description="largest request body accepted")
    default_performer_ods: str | None = Field(
        None, description="link-worker service that gets referrals no routing rule covers"
    )
    max_travel_km: float = Field(10.0, gt=0, description="travel limit when a person gives none")
    match_warmup: bool = Field(
        True,
        description="build the matching snapshot in a background thread at start",
    )
    match_weight_need_fit: float = Field(0.25, ge=0, description="matching weight: need fit")
    match_weight_interest_fit: float = Field(
        0.17, ge=0, description="matching weight: interest fit"
    )
    match_weight_proximity: float = Field(0.17, ge=0, description="matching weight: proximity")
    match_weight_language_fit: float = Field(
        0.09, ge=0, description="matching weight: language fit"
    )
    match_weight_day_fit: float = Field(0.07, ge=0, description="matching weight: day fit")
    match_weight_spare_capacity: float = Field(
        0.03, ge=0, description="matching weight: spare capacity"
    )
    match_weight_equity: float = Field(
        0.06, ge=0, description="matching weight: equity (IMD deciles 1-3)"
    )
    match_weight_group_fit: float = Field(
        0.08, ge=0, description="matching weight: group fit (women-only, small, quiet wishes)"
    )
    match_weight_situation_fit: float = Field(
        0.12, ge=0, description="matching weight: situation fit (made for the person's situation)"
    )
    match_weight_outcome: float = Field(
        0.05, ge=0, description="matching weight: the outcome prior (docs/matching.md)"
    )
    follow_up_weeks: int = Field(
        6, ge=1, le=52, description="caseload: weeks from the last wellbeing measure to the next"
    )
    disclosure_suppress_below: int = Field(
        8, ge=1, description="reports: counts of 1 to this minus 1 people are suppressed"
    )
    disclosure_round_to: int = Field(5, ge=1, description="reports: counts rounded to a multiple")
    disclosure_min_n: int = Field(
        8, ge=1, description="reports: people needed behind a mean, median, change or share"
    )
    public_base_url: str | None = Field(
        None,
        description="absolute base for Location headers and fullUrls; default: the request's own",
    )
    log_level: str = Field("INFO", description="Python log level of the JSON logs")
    rate_limit_per_s: float = Field(
        20.0,
        ge=0,
        description="requests a second each client (token sub+org, else address) may make on "
        "average, per API process; 0: no limit",
    )
    rate_limit_burst: int = Field(
        200, ge=1, description="requests a client may make at once before the average applies"
    )
    self_referral_per_hour: int = Field(
        10,
        ge=0,
        description="self-referrals (/refer and its API) each client address may send an hour, "
        "per API process; 0: no limit",
    )
    self_referral_max_bytes: int = Field(
        32_768, ge=1024, description="largest self-referral body accepted (413 above)"
    )
    self_referral_link_days: int = Field(
        30, ge=0, description="a repeat self-referral within this many days is linked to the first"
    )
    request_timeout_s: float = Field(
        30.0, gt=0, description="a request still running after this many seconds is answered 503"
    )
    retention_years: int = Field(
        8,
        ge=1,
        le=100,
        description="`assetlink purge`: years a closed referral's personal data is kept",
    )
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="comma-separated origins allowed by CORS (none: off)"
    )

    subscription_http_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["127.0.0.1", "localhost"],
        description="comma-separated hosts a Subscription endpoint may reach over plain http",
    )
    notify_timeout_s: float = Field(
        10.0, gt=0, le=120, description="worker: how long one delivery may take, in seconds"
    )
    notify_lease_s: float = Field(
        60.0,
        gt=0,
        description="worker: how long a claimed delivery is held before another worker may "
        "take it (more than the delivery timeout)",
    )
    notify_max_attempts: int = Field(
        8, ge=1, le=100, description="worker: attempts before a delivery fails (retry budget)"
    )
    notify_backoff_s: float = Field(
        2.0, gt=0, description="worker: the first retry's delay; each next one doubles"
    )
    notify_backoff_max_s: float = Field(
        3600.0, gt=0, description="worker: the longest delay between two attempts"
    )
    worker_poll_s: float = Field(
        1.0, gt=0, le=60, description="worker: the pause between passes that found nothing"
    )

    # Messages to the person through GOV.UK Notify (docs/messages.md).
    notify_api_key: SecretStr | None = Field(
        None,
        description="GOV.UK Notify API key (name-serviceid-secret); unset: no message is sent",
    )
    notify_base_url: str = Field(
        "https://api.notifications.service.gov.uk", description="GOV.UK Notify's API"
    )
    notify_template_booking_reminder_sms: str | None = Field(
        None, description="Notify template id: the reminder the day before a session, by text"
    )
    notify_template_booking_reminder_email: str | None = Field(
        None, description="Notify template id: the reminder the day before a session, by email"
    )
    notify_template_questionnaire_link_sms: str | None = Field(
        None, description="Notify template id: a questionnaire link, by text"
    )
    notify_template_questionnaire_link_email: str | None = Field(
        None, description="Notify template id: a questionnaire link, by email"
    )
    notify_template_questionnaire_reminder_sms: str | None = Field(
        None,
        description="Notify template id: the reminder of an unused questionnaire link, by text",
    )
    notify_template_questionnaire_reminder_email: str | None = Field(
        None,
        description="Notify template id: the reminder of an unused questionnaire link, by email",
    )
    questionnaire_link_days: int = Field(
        14, ge=1, le=90, description="days a questionnaire link sent to the person stays usable"
    )
    questionnaire_reminder_days: int = Field(
        7, ge=1, description="days after an unused questionnaire link its one reminder is sent"
    )
    questionnaire_follow_up_weeks: Annotated[list[int], NoDecode] = Field(
        default_factory=lambda: [6, 12],
        description="comma-separated weeks after first contact the follow-up questionnaire "
        "links go (none: no schedule)",
    )
    questionnaire_link_guesses: int = Field(
        10,
        ge=0,
        description="unknown questionnaire links each client address may open an hour, per API "
        "process, before every link answers 429; 0: no limit",
    )
    message_max_attempts: int = Field(
        10, ge=1, le=100, description="worker: attempts to hand a message to Notify before it fails"
    )
    message_receipt_poll_s: float = Field(
        300.0, gt=0, description="worker: how often Notify is asked for a sent message's receipt"
    )

    # Live Open Referral UK feeds synced into the directory (docs/oruk.md).
    directory_feeds: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="worker: comma-separated Open Referral UK feed URLs synced into the directory "
        "(docs/oruk.md); none: no scheduled sync",
    )
    directory_sync_interval_s: float = Field(
        3600.0, ge=10, description="worker: seconds between two syncs of a feed"
    )
    directory_full_sync_interval_s: float = Field(
        86400.0,
        ge=10,
        description="worker: a feed's sync is full (no `modified_after`, vanished services "
        "marked inactive) when its last full one is older than this",
    )
    directory_sync_timeout_s: float = Field(
        30.0, gt=0, le=600, description="sync: how long one request to a feed may take, in seconds"
    )
    directory_sync_max_bytes: int = Field(
        20_000_000, ge=1024, description="sync: the largest answer accepted from a feed"
    )
    directory_sync_attempts: int = Field(
        4, ge=1, le=20, description="sync: tries of one request (network error, 5xx, 429)"
    )
    directory_sync_per_page: int = Field(
        100, ge=1, le=1000, description="sync: `per_page` asked of a feed"
    )

    @model_validator(mode="before")
    @classmethod
    def _split_lists(cls, data: object) -> object:
        if not isinstance(data, dict):
            return data
        for name in (
            "cors_origins",
            "subscription_http_hosts",
            "directory_feeds",
            "questionnaire_follow_up_weeks",
        ):
            if isinstance(data.get(name), str):
                data = {**data, name: [o.strip() for o in data[name].split(",") if o.strip()]}
        return data

    @model_validator(mode="after")
    def _check_lease(self) -> Self:
        if self.notify_lease_s <= self.notify_timeout_s:
            raise ValueError(
                "ASSETLINK_NOTIFY_LEASE_S must be longer than ASSETLINK_NOTIFY_TIMEOUT_S, so no "
                "two workers ever deliver one event at once"
            )
        return self

    @model_validator(mode="after")
    def _check_secrets(self) -> Self:
        has_jwks = self.jwks_url is not None or self.jwks_file is not None
        if self.environment is Environment.PRODUCTION:
            if self.jwt_secret == DEV_JWT_SECRET:
                raise ValueError("the development JWT secret is refused in production")
            if self.jwt_secret is None and not has_jwks:
                raise ValueError(
                    "production needs ASSETLINK_JWKS_URL/ASSETLINK_JWKS_FILE or a real "
                    "ASSETLINK_JWT_SECRET"
                )
        if self.jwt_secret is not None and len(self.jwt_secret.encode()) < 32:
            raise ValueError("ASSETLINK_JWT_SECRET must be at least 32 bytes (RFC 7518 3.2)")
        return self

    @model_validator(mode="after")
    def _check_weights(self) -> Self:
        if (
            sum(
                getattr(self, name)
                for name in type(self).model_fields
                if name.startswith("match_weight_")
            )
            <= 0
        ):
            raise ValueError("at least one ASSETLINK_MATCH_WEIGHT_* must be above zero")
        return self

    @property
    def hs256_secret(self) -> str | None:
        """The HS256 key in force: the configured one, or the placeholder in development."""
        if self.jwt_secret is not None:
            return self.jwt_secret
        has_jwks = self.jwks_url is not None or self.jwks_file is not None
        if self.environment is not Environment.PRODUCTION and not has_jwks:
            return DEV_JWT_SECRET
        return None

    @property
    def clock_skew(self) -> dt.timedelta:
        """How far a client's clock may run ahead of this server's: token times, authoredOn."""
        return dt.timedelta(seconds=self.jwt_leeway_s)

    @property
    def async_database_url(self) -> str:
        return to_async_url(self.database_url)


def to_async_url(url: str) -> str:
    """Give plain database URLs the async driver this service uses."""
    for plain, async_ in (
        ("postgres://", "postgresql+asyncpg://"),
        ("postgresql://", "postgresql+asyncpg://"),
        ("postgresql+psycopg://", "postgresql+asyncpg://"),
        ("sqlite://", "sqlite+aiosqlite://"),
    ):
        if url.startswith(plain):
            return async_ + url[len(plain) :]
    return url


@lru_cache
def get_settings() -> Settings:
    return Settings()
