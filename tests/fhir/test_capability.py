import httpx


async def test_capability_statement(client: httpx.AsyncClient) -> None:
    response = await client.get("/fhir/metadata")  # no token needed
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/fhir+json"
    statement = response.json()
    assert statement["resourceType"] == "CapabilityStatement"
    assert statement["fhirVersion"] == "4.0.1"
    assert statement["kind"] == "instance"
    resources = {r["type"]: r for r in statement["rest"][0]["resource"]}
    assert resources["AuditEvent"]["interaction"] == [{"code": "read"}, {"code": "search-type"}]
    subscription = resources["Subscription"]
    assert [i["code"] for i in subscription["interaction"]] == [
        "create", "read", "search-type", "delete"
    ]  # fmt: skip
    assert [p["name"] for p in subscription["searchParam"]] == ["_id", "status"]
    # (the fhir_capture fixture runs the statement through the independent validator)
