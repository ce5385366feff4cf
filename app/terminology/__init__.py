"""Code systems shared by referrals and the directory: needs, activity categories, referral stages.

The CodeSystems are served at ``/fhir/CodeSystem``; SNOMED CT concepts map to needs through a
shipped, cited table that administrators extend (``/api/v1/terminology/snomed-needs``).
"""
