"""Referrals: FHIR ServiceRequest + Patient intake, the closed-loop Task, routing."""
