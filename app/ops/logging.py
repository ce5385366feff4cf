"""JSON logs, one object per line.

Nothing here ever logs a request body, a query string or a raw path: those can carry NHS numbers
and names. The access log names the route template (``/fhir/ServiceRequest/{id}``) instead.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
from typing import Any

_RESERVED = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {
    "message",
    "asctime",
    "color_message",
}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update({k: v for k, v in record.__dict__.items() if k not in _RESERVED})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    logging.getLogger("alembic").setLevel(logging.WARNING)
    # httpx logs each request's URL at INFO: the worker logs its own lines, with ids only.
    # SQLAlchemy and the drivers log statements (and, at DEBUG, rows) under a root at INFO or
    # DEBUG: never, whatever the level (tests/ops/test_logging.py).
    for name in ("httpx", "httpcore", "sqlalchemy", "aiosqlite", "asyncpg"):
        logging.getLogger(name).setLevel(logging.WARNING)
    # uvicorn's access log prints the query string; ours (assetlink.access) does not.
    logging.getLogger("uvicorn.access").disabled = True
