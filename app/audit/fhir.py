"""The audit trail as R4 ``AuditEvent`` resources."""

from __future__ import annotations

from typing import Any

from app.audit.models import AuditEvent
from app.audit.service import SELF
from app.fhir import CANONICAL_BASE

ODS_SYSTEM = "https://fhir.nhs.uk/Id/ods-organization-code"
CLIENT_SYSTEM = f"{CANONICAL_BASE}/sid/client"
SUBTYPES = {  # operation -> http://hl7.org/fhir/restful-interaction
    "read": "read",
    "vread": "vread",
    "history": "history-instance",
    "search": "search-type",
    "create": "create",
    "update": "update",
    "patch": "patch",
    "delete": "delete",
    "transaction": "transaction",
}
OUTCOME_TEXT = {"0": "Success", "4": "Minor failure", "8": "Serious failure", "12": "Major failure"}


def to_fhir(event: AuditEvent) -> dict[str, Any]:
    subtype = SUBTYPES.get(event.operation)
    entity: dict[str, Any] = {"what": {"reference": f"{event.entity_type}/{event.entity_id}"}}
    if event.entity_id is None:
        entity = {"what": {"display": event.entity_type}}
    if event.request_id:
        entity["detail"] = [{"type": "X-Request-Id", "valueString": event.request_id}]
    entities = [entity]
    if event.patient_id is not None and event.entity_type != "Patient":
        entities.append(
            {
                "what": {"reference": f"Patient/{event.patient_id}"},
                "role": {
                    "system": "http://terminology.hl7.org/CodeSystem/object-role",
                    "code": "1",
                    "display": "Patient",
                },
            }
        )
    resource: dict[str, Any] = {
        "resourceType": "AuditEvent",
        "id": str(event.id),
        "type": {
            "system": "http://terminology.hl7.org/CodeSystem/audit-event-type",
            "code": "rest",
            "display": "RESTful Operation",
        },
        "action": event.action,
        "recorded": event.recorded_at.isoformat(),
        "outcome": event.outcome,
        "outcomeDesc": event.outcome_text or OUTCOME_TEXT.get(event.outcome, event.outcome),
        "agent": [
            {
                "who": {"identifier": {"system": CLIENT_SYSTEM, "value": event.actor_sub}},
                "role": [{"text": event.actor_role}],
                "requestor": True,
            },
            *(
                []  # a person on a public page (audit.SELF) acts for no organisation
                if event.actor_org == SELF
                else [
                    {
                        "who": {"identifier": {"system": ODS_SYSTEM, "value": event.actor_org}},
                        "requestor": False,
                    }
                ]
            ),
        ],
        "source": {
            "site": "assetlink",
            "observer": {"display": "assetlink"},
            "type": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/security-source-type",
                    "code": "4",
                    "display": "Application Server",
                }
            ],
        },
        "entity": entities,
    }
    if subtype:
        resource["subtype"] = [
            {
                "system": "http://hl7.org/fhir/restful-interaction",
                "code": subtype,
                "display": subtype,
            }
        ]
    return resource
