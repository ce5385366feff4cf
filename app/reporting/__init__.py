"""Commissioner reports: aggregation, statistics and disclosure control."""
