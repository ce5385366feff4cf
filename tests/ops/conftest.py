"""The notification fixtures (a committed database, the worker, a receiver on loopback), for the
journey of ``test_logging.py``."""

from tests.notifications.conftest import committed, http, make_worker, receiver, worker_settings

__all__ = ["committed", "http", "make_worker", "receiver", "worker_settings"]
