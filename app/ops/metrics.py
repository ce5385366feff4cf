"""Prometheus metrics (``GET /metrics``)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

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
