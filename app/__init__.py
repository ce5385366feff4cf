"""assetlink: a social-prescribing referral service for the NHS in England."""

__version__ = "0.1.0"
__released__ = "2026-11-27"
