"""Routing rules: the link-worker service that gets a practice's referrals with no performer."""
