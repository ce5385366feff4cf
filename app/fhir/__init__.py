"""The FHIR R4 wire format: media types, codecs, OperationOutcome, CapabilityStatement, search."""

FHIR_JSON = "application/fhir+json"
FHIR_VERSION = "4.0.1"
CANONICAL_BASE = "https://w3id.org/assetlink/fhir"
