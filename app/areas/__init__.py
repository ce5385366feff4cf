"""Area data: postcode -> location and LSOA, LSOA -> IMD decile (DESIGN.md 6)."""
