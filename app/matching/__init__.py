"""Matching a referred person to community activities: hard rules, explainable scores, ordering."""
