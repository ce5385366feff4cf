from tests.directory.conftest import admin, areas, create_activity

__all__ = ["admin", "areas", "create_activity"]
