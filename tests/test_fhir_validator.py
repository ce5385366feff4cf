"""The independent validator really runs: it accepts a valid resource and rejects a broken one,
as a one-off run and as the validator the suite keeps running (`fhir-validate --serve`)."""

import json
import subprocess

from tests.conftest import DEFAULT_VALIDATOR, ROOT, validate_fhir


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


def test_the_default_validator_is_the_projects_own_and_runs() -> None:
    """A fresh clone has everything the suite needs: no sibling folder, only Node.js and npm."""
    assert DEFAULT_VALIDATOR.is_relative_to(ROOT)
    assert (DEFAULT_VALIDATOR.parent / "package-lock.json").is_file()
    result = subprocess.run(
        [str(DEFAULT_VALIDATOR), "-"],
        input=json.dumps({"resourceType": "Patient", "gender": "bogus"}),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 1, result.stderr
    assert "INVALID" in result.stdout


def test_the_running_validator_judges_each_batch_on_its_own() -> None:
    """The suite keeps one validator running: a rejected batch does not colour the next."""
    broken = {"resourceType": "Patient", "gender": "bogus"}
    valid = {"resourceType": "Patient", "gender": "female"}
    assert validate_fhir([valid, broken]).returncode == 1
    result = validate_fhir([valid])
    assert result.returncode == 0
    assert "1 valid, 0 invalid" in result.stdout
