"""The completed OpenAPI document: errors in the bodies the handlers give, links that resolve."""

from __future__ import annotations

import json
from typing import Any

from app.cli import OPENAPI_PATH
from app.ops.contract import LINKS

DOCUMENT: dict[str, Any] = json.loads(OPENAPI_PATH.read_text())
OPERATIONS = [
    (method, path, operation)
    for path, item in DOCUMENT["paths"].items()
    for method, operation in item.items()
]


def test_every_error_is_documented_in_the_body_the_handlers_give() -> None:
    for _, path, operation in OPERATIONS:
        expected = (
            {"application/fhir+json": "OperationOutcome"}
            if path.startswith("/fhir")
            else {"application/problem+json": "Problem"}
        )
        for status, response in operation["responses"].items():
            if status[0] in "45":
                media = {
                    k: v["schema"]["$ref"].rsplit("/", 1)[1] for k, v in response["content"].items()
                }
                assert media == expected, (path, status)


def test_a_secured_operation_documents_401_403_and_503_and_a_path_id_404() -> None:
    for _, path, operation in OPERATIONS:
        statuses = set(operation["responses"])
        assert "400" in statuses
        if operation.get("security"):
            assert {"401", "403", "503"} <= statuses, path
        if "{" in path:
            assert "404" in statuses, path


def test_no_fhir_success_is_documented_as_a_string() -> None:
    for _, path, operation in OPERATIONS:
        for status, response in operation["responses"].items():
            for media in response.get("content", {}).values():
                if status.startswith("2") and path.startswith("/fhir"):
                    assert media.get("schema") != {"type": "string"}, path


def test_every_link_names_an_operation_and_its_parameters() -> None:
    by_id = {operation["operationId"]: (path, operation) for _, path, operation in OPERATIONS}
    for (method, path, status), links in LINKS.items():
        assert DOCUMENT["paths"][path][method]["responses"][status]["links"] == links
        for name, link in links.items():
            target_path, target = by_id[link["operationId"]]
            names = {p["name"] for p in target.get("parameters", [])}
            for parameter in link["parameters"]:
                location, _, bare = parameter.rpartition(".")
                assert location == "query" or bare in names, (name, parameter, target_path)
