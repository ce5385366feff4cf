"""The community directory: activities shaped like Open Referral UK services (DESIGN.md 6)."""
