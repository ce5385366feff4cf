"""The independent validator really runs: it accepts a valid resource and rejects a broken one."""

from tests.conftest import validate_fhir


def test_validator_rejects_an_invalid_resource() -> None:
    broken = {
        "resourceType": "ServiceRequest",
        "status": "bogus",
        "subject": {"reference": "Patient/1"},
    }
    result = validate_fhir([broken])
    assert result.returncode == 1
    assert "INVALID" in result.stdout


def test_validator_accepts_a_valid_resource() -> None:
    valid = {
        "resourceType": "ServiceRequest",
        "status": "active",
        "intent": "order",
        "subject": {"reference": "Patient/1"},
    }
    assert validate_fhir([valid]).returncode == 0
