"""The GOV.UK Notify boundary: the real client against the strict fake on loopback. What
Notify takes, what it refuses for good (400, 403, 404) and what is worth another try (429,
5xx, no answer), each with Notify's own words."""

from __future__ import annotations

import socket
import time
import uuid
from collections.abc import Iterator

import pytest
from notifications_python_client import authentication

from app.messages.contact import Contact
from app.messages.notify import Accepted, Later, Notify, Receipt, Refused
from tests.messages.conftest import EMAIL_REMINDER, SMS_REMINDER, TEMPLATES
from tests.messages.notify_fake import NotifyFake, running

FIELDS = {"activity": "Choir", "date": "Tuesday 8 December", "time": "10am", "venue": "Hall"}
MOBILE = Contact("sms", "07700 900461")


@pytest.fixture
def fake() -> Iterator[NotifyFake]:
    with running(NotifyFake(dict(TEMPLATES))) as found:
        yield found


@pytest.fixture
def notify(fake: NotifyFake) -> Notify:
    return Notify(fake.api_key, fake.url, timeout_s=5.0)


def test_a_text_and_an_email_are_taken(notify: Notify, fake: NotifyFake) -> None:
    reference = uuid.uuid4()
    text = notify.send(MOBILE, SMS_REMINDER, FIELDS, reference)
    email = notify.send(Contact("email", "rose@example.org"), EMAIL_REMINDER, FIELDS, uuid.uuid4())

    assert isinstance(text, Accepted)
    assert isinstance(email, Accepted)
    sms, mail = fake.sent
    assert (sms.id, sms.type, sms.to, sms.reference) == (
        str(text.notify_id),
        "sms",
        "07700 900461",
        str(reference),
    )
    assert sms.body.startswith("Reminder: Choir is on Tuesday 8 December, 10am, at Hall.")
    assert (mail.type, mail.to) == ("email", "rose@example.org")
    assert notify.find(reference) == text
    assert notify.find(uuid.uuid4()) is None


@pytest.mark.parametrize(
    ("to", "template", "fields", "error"),
    [
        (MOBILE, SMS_REMINDER, {"activity": "Choir"}, "Missing personalisation: date, time, venue"),
        (MOBILE, EMAIL_REMINDER, FIELDS, "sms template is not suitable for email notification"),
        (
            MOBILE,
            "0b7a3f7e-2c1d-4e59-9d3b-55c0f2a1e6d4",
            FIELDS,
            "BadRequestError: Template not found",
        ),
        (MOBILE, "not-a-uuid", FIELDS, "ValidationError: template_id is not a valid UUID"),
        (
            Contact("sms", "020 7946 0000"),
            SMS_REMINDER,
            FIELDS,
            "ValidationError: phone_number Not a UK mobile number",
        ),
        (
            Contact("email", "rose.example.org"),
            EMAIL_REMINDER,
            FIELDS,
            "ValidationError: email_address Not a valid email address",
        ),
    ],
)
def test_what_notify_refuses_is_refused_for_good(
    notify: Notify, fake: NotifyFake, to: Contact, template: str, fields: dict[str, str], error: str
) -> None:
    answer = notify.send(to, template, fields, uuid.uuid4())
    assert isinstance(answer, Refused)
    assert answer.status == 400
    assert error in answer.error
    assert fake.sent == []


def test_a_wrong_key_or_a_stale_token_is_an_auth_error(
    fake: NotifyFake, monkeypatch: pytest.MonkeyPatch
) -> None:
    stranger = Notify(f"x-{uuid.uuid4()}-{fake.secret}", fake.url, 5.0)
    assert stranger.send(MOBILE, SMS_REMINDER, FIELDS, uuid.uuid4()) == Refused(
        403, "AuthError: Invalid token: service not found"
    )
    forged = Notify(f"x-{fake.service_id}-{uuid.uuid4()}", fake.url, 5.0)
    assert forged.send(MOBILE, SMS_REMINDER, FIELDS, uuid.uuid4()) == Refused(
        403, "AuthError: Invalid token: API key not found"
    )
    monkeypatch.setattr(authentication, "epoch_seconds", lambda: int(time.time()) - 60)
    late = Notify(fake.api_key, fake.url, 5.0)
    assert late.send(MOBILE, SMS_REMINDER, FIELDS, uuid.uuid4()) == Refused(
        403, "AuthError: Error: Your system clock must be accurate to within 30 seconds"
    )
    assert fake.sent == []


def test_rate_limits_server_errors_and_silence_are_worth_another_try(
    notify: Notify, fake: NotifyFake
) -> None:
    fake.fail_next = [429, 500, 503]
    assert notify.send(MOBILE, SMS_REMINDER, FIELDS, uuid.uuid4()) == Later(
        429,
        "RateLimitError: Exceeded rate limit for key type LIVE of 3000 requests per 60 seconds",
    )
    assert notify.send(MOBILE, SMS_REMINDER, FIELDS, uuid.uuid4()) == Later(
        500, "Exception: Internal server error"
    )
    assert isinstance(notify.find(uuid.uuid4()), Later)
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    nobody = Notify(fake.api_key, f"http://127.0.0.1:{port}", 1.0)
    answer = nobody.send(MOBILE, SMS_REMINDER, FIELDS, uuid.uuid4())
    assert isinstance(answer, Later)
    assert answer.status == 503
    assert fake.sent == []


def test_receipts(notify: Notify, fake: NotifyFake) -> None:
    sent = notify.send(MOBILE, SMS_REMINDER, FIELDS, uuid.uuid4())
    assert isinstance(sent, Accepted)
    first = notify.receipt(sent.notify_id)
    assert first == Receipt("created", None)
    assert not first.final

    fake.set_status(str(sent.notify_id), "permanent-failure")
    last = notify.receipt(sent.notify_id)
    assert isinstance(last, Receipt)
    assert (last.status, last.final, last.at is not None) == ("permanent-failure", True, True)
    assert notify.receipt(uuid.uuid4()) == Refused(404, "NoResultFound: No result found")
