"""The independent validator really runs: it accepts a valid resource and rejects a broken one."""

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
