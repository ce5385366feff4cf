from tests.directory.conftest import admin, areas, create_activity, provider

__all__ = ["admin", "areas", "create_activity", "provider"]
