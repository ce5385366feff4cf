"""GOV.UK Notify, through its maintained client (``notifications-python-client``): the only
module that imports it.

The client speaks Notify's REST API: ``POST /v2/notifications/sms`` and ``/email`` (201 with the
notification's ``id``), ``GET /v2/notifications/{id}`` (its ``status``), ``GET
/v2/notifications?reference=...`` (ours: the message id), each with a fresh HS256 JWT (``iss``
the service id, ``iat`` now; both from the API key, ``<name>-<service id>-<secret>``). Errors
come as ``{"status_code": 400, "errors": [{"error": "BadRequestError", "message": "..."}]}``:
400 (ValidationError, BadRequestError) and 403 (AuthError) will not change on a retry; 429
(RateLimitError, TooManyRequestsError), 5xx and no answer may.

The client is synchronous and not thread-safe: each call makes its own, for a worker thread.
Its own log lines name the method, the URL (no query) and Notify's error, never a number, an
address or personalisation.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from notifications_python_client.errors import APIError
from notifications_python_client.notifications import NotificationsAPIClient

from app.messages.contact import SMS, Contact

STATUS_LENGTH = 24  # message.receipt_status: an unforeseen status is kept, cut to fit
FINAL = frozenset({"delivered", "permanent-failure", "temporary-failure", "technical-failure"})
ERROR_LENGTH = 500


@dataclass(frozen=True)
class Accepted:
    """Notify has the message (it answered 201, or lists one with our reference)."""

    notify_id: uuid.UUID


@dataclass(frozen=True)
class Refused:
    """Notify said no for good (400, 403, 404): retrying sends nothing more."""

    status: int
    error: str


@dataclass(frozen=True)
class Later:
    """No decision (429, 5xx, no answer): try again after a while."""

    status: int
    error: str


@dataclass(frozen=True)
class Receipt:
    status: str  # Notify's: created, sending, pending, sent, delivered, ...-failure
    at: dt.datetime | None  # when Notify completed it (None: not yet)

    @property
    def final(self) -> bool:
        return self.status in FINAL


class Notify:
    def __init__(self, api_key: str, base_url: str, timeout_s: float) -> None:
        self._api_key = api_key
        self._base_url = base_url
        self._timeout_s = timeout_s

    def _client(self) -> NotificationsAPIClient:
        return NotificationsAPIClient(
            self._api_key, base_url=self._base_url, timeout=self._timeout_s
        )  # type: ignore[no-untyped-call]

    def send(
        self,
        contact: Contact,
        template_id: str,
        personalisation: Mapping[str, str],
        reference: uuid.UUID,
    ) -> Accepted | Refused | Later:
        client = self._client()
        try:
            if contact.channel == SMS:
                answer = client.send_sms_notification(  # type: ignore[no-untyped-call]
                    phone_number=contact.address,
                    template_id=template_id,
                    personalisation=dict(personalisation),
                    reference=str(reference),
                )
            else:
                answer = client.send_email_notification(  # type: ignore[no-untyped-call]
                    email_address=contact.address,
                    template_id=template_id,
                    personalisation=dict(personalisation),
                    reference=str(reference),
                )
        except APIError as error:
            return _failure(error)
        return _accepted(answer)

    def find(self, reference: uuid.UUID) -> Accepted | Later | None:
        """The notification Notify holds with our ``reference``, if any (Notify lists the last
        7 days): how a retry learns that an earlier attempt got through."""
        try:
            answer = self._client().get_all_notifications(reference=str(reference))  # type: ignore[no-untyped-call]
        except APIError as error:
            failure = _failure(error)
            return Later(failure.status, failure.error)
        found = [
            n
            for n in (answer or {}).get("notifications") or []
            if n.get("reference") == str(reference)
        ]
        return _accepted(found[0]) if found else None

    def receipt(self, notify_id: uuid.UUID) -> Receipt | Refused | Later:
        try:
            answer = self._client().get_notification_by_id(str(notify_id))  # type: ignore[no-untyped-call]
        except APIError as error:
            return _failure(error)
        status = str((answer or {}).get("status") or "unknown")[:STATUS_LENGTH]
        return Receipt(status, _instant((answer or {}).get("completed_at")))


def _accepted(answer: Any) -> Accepted | Later:
    try:
        return Accepted(uuid.UUID(str(answer["id"])))
    except (KeyError, TypeError, ValueError):
        return Later(502, "Notify's answer had no notification id")


def _failure(error: APIError) -> Refused | Later:
    status = error.status_code
    text = _message(error.message)
    if status == 429 or status >= 500:
        return Later(status, text)
    return Refused(status, text)


def _message(message: Any) -> str:
    """Notify's error as one line: ``BadRequestError: Template not found``."""
    if isinstance(message, list):
        parts = [
            f"{e.get('error', 'Error')}: {e.get('message', '')}" if isinstance(e, dict) else str(e)
            for e in message
        ]
        text = "; ".join(parts)
    else:
        text = str(message)
    line = " ".join(text.split())
    return line if len(line) <= ERROR_LENGTH else line[: ERROR_LENGTH - 3] + "..."


def _instant(value: Any) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
