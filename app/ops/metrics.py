"""Prometheus metrics: the API's (``GET /metrics``) and the worker's (``--metrics-port``).

The outbox gauges are read from the database at scrape time (``outbox_gauges``), into a registry
of their own: every API process reports the same shared queue, and a scrape while the database is
down simply leaves them out.
"""

from __future__ import annotations

import datetime as dt

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

HTTP_REQUESTS = Counter(
    "assetlink_http_requests_total", "HTTP requests answered", ["method", "route", "status"]
)
HTTP_LATENCY = Histogram(
    "assetlink_http_request_duration_seconds",
    "Time to answer an HTTP request",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
REFERRALS_CREATED = Counter("assetlink_referrals_created_total", "Referrals accepted")
MATCHES_SERVED = Counter("assetlink_matches_served_total", "Match lists served")
NOTIFICATION_DELIVERIES = Counter(
    "assetlink_notification_deliveries_total",
    "Delivery attempts of Task change notifications by result (assetlink worker)",
    ["result"],
)


def outbox_gauges(
    undispatched: int,
    pending: int,
    oldest_at: dt.datetime | None,
    by_status: dict[str, int],
    now: dt.datetime,
) -> bytes:
    """The outbox's gauges in the text exposition format."""
    registry = CollectorRegistry()
    Gauge(
        "assetlink_outbox_depth",
        "Task change events not yet fanned out plus deliveries pending",
        registry=registry,
    ).set(undispatched + pending)
    Gauge(
        "assetlink_outbox_oldest_age_seconds",
        "Age of the oldest event not fanned out or with a delivery pending (0: none)",
        registry=registry,
    ).set(0.0 if oldest_at is None else max((now - oldest_at).total_seconds(), 0.0))
    deliveries = Gauge(
        "assetlink_notification_deliveries",
        "Deliveries by status",
        ["status"],
        registry=registry,
    )
    for status in ("pending", "delivered", "failed"):
        deliveries.labels(status=status).set(by_status.get(status, 0))
    return generate_latest(registry)
