"""The pure parts of a delivery: who hears an event, the Bundle, the signature, the backoff."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import random

from hypothesis import given
from hypothesis import strategies as st

from app.notifications import delivery
from tests.conftest import validate_fhir

AT = dt.datetime(2026, 11, 2, 9, 30, tzinfo=dt.UTC)
TASK = {
    "resourceType": "Task",
    "id": "5f0c6a43-1c39-4c55-9a53-0d7e5e6b9b11",
    "meta": {"versionId": "3", "lastUpdated": "2026-11-02T09:30:00.000Z"},
    "status": "accepted",
    "intent": "order",
    "focus": {"reference": "ServiceRequest/2c8d3a9e-9a0c-4d6b-8c53-5c1b6b0e4f21"},
}


def test_criteria_narrow_by_status_and_end() -> None:
    assert delivery.hears(None, None, "accepted", AT)
    assert delivery.hears(["accepted", "completed"], None, "accepted", AT)
    assert not delivery.hears(["completed"], None, "accepted", AT)
    assert delivery.hears(None, "2026-11-02T09:30:01Z", "accepted", AT)
    assert not delivery.hears(None, "2026-11-02T09:30:00+00:00", "accepted", AT)
    assert not delivery.hears(None, "2026-11-01", "accepted", AT)


def test_the_bundle_is_a_history_of_the_one_task_version() -> None:
    bundle = delivery.history_bundle(
        TASK,
        event_id="7d1c2f0e-8f3e-4a53-9a53-7a1f6c0e2b55",
        occurred_at=AT,
        recorded_at=AT,
        base_url="https://assetlink.example.nhs.uk/",
    )
    [entry] = bundle["entry"]
    assert bundle["id"] == "7d1c2f0e-8f3e-4a53-9a53-7a1f6c0e2b55"
    assert bundle["timestamp"] == "2026-11-02T09:30:00.000Z"
    assert entry["fullUrl"] == f"https://assetlink.example.nhs.uk/fhir/Task/{TASK['id']}"
    assert entry["request"] == {"method": "PUT", "url": f"Task/{TASK['id']}"}
    assert entry["response"]["status"] == "200 OK"
    assert entry["response"]["etag"] == 'W/"3"'
    result = validate_fhir([bundle])
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_signature_is_the_hmac_of_the_exact_body() -> None:
    body = delivery.encode({"resourceType": "Bundle", "id": "é"})
    headers = delivery.headers(
        body,
        secret="s3cret",
        event_id="e",
        subscription_id="s",
        channel_headers=["Authorization: Bearer abc", "X-Signature-Forged: no"],
    )
    expected = hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    assert headers["X-Assetlink-Signature"] == f"sha256={expected}"
    assert headers["Authorization"] == "Bearer abc"
    assert headers["Content-Type"] == "application/fhir+json"
    assert (headers["X-Assetlink-Event-Id"], headers["X-Assetlink-Subscription"]) == ("e", "s")


def test_the_services_own_headers_win_over_a_subscriptions() -> None:
    headers = delivery.headers(
        b"{}",
        secret="k",
        event_id="e",
        subscription_id="s",
        channel_headers=["X-Assetlink-Event-Id: forged"],
    )
    assert headers["X-Assetlink-Event-Id"] == "e"


@given(
    attempts=st.integers(min_value=1, max_value=500),
    first=st.floats(min_value=0.01, max_value=60),
    cap=st.floats(min_value=0.01, max_value=86_400),
    seed=st.integers(),
)
def test_backoff_doubles_with_equal_jitter_up_to_the_cap(
    attempts: int, first: float, cap: float, seed: int
) -> None:
    ceiling = min(cap, first * 2 ** (attempts - 1))
    wait = delivery.backoff(attempts, first_s=first, max_s=cap, rng=random.Random(seed))
    assert ceiling / 2 <= wait <= ceiling


def test_backoff_figures_with_the_default_settings() -> None:
    rng = random.Random(1)
    ceilings = [delivery.backoff(n, first_s=2, max_s=3600, rng=rng) for n in range(1, 9)]
    assert 1 <= ceilings[0] <= 2
    assert 64 <= ceilings[6] <= 128


def test_errors_are_kept_short_on_one_line() -> None:
    assert delivery.short_error("a\nb   c") == "a b c"
    assert len(delivery.short_error("x" * 1000)) == delivery.ERROR_LENGTH
