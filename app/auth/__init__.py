"""Authentication (JWT bearer tokens) and authorisation (the role x action matrix)."""
