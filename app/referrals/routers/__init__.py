"""FHIR R4 REST for referrals, one module per resource: ServiceRequest, Patient, Task, Consent
and the transaction Bundle (``POST /fhir``). ``$match`` is matching's, routing rules routing's."""

from __future__ import annotations

from fastapi import APIRouter

from app.referrals.routers import consent, patient, service_request, task, transaction

router = APIRouter()
for _module in (service_request, patient, task, consent, transaction):
    router.include_router(_module.router)

CAPABILITIES = (service_request.CAPABILITY, task.CAPABILITY, patient.CAPABILITY, consent.CAPABILITY)
SYSTEM_INTERACTIONS = transaction.SYSTEM_INTERACTIONS
