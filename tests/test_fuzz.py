"""Schemathesis against the exported contract (openapi/openapi.json): no input is ever a 5xx.

Every operation is called with generated parameters and bodies, as an administrator (who may
reach every route) and without a token, through the real app on a migrated SQLite database.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from app import migrations
from app.auth.principal import Role
from app.auth.tokens import mint_hs256
from app.cli import OPENAPI_PATH
from app.db import create_engine, create_sessionmaker
from app.main import create_app
from tests.conftest import default_settings, in_thread, make_settings

schema = schemathesis.openapi.from_path(OPENAPI_PATH)


@pytest.fixture(scope="module")
def fuzz_app(tmp_path_factory: pytest.TempPathFactory) -> Any:
    url = f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'fuzz.db'}"
    in_thread(lambda: migrations.upgrade(url))
    settings_ = make_settings(url)
    app = create_app(settings_)
    # The schemathesis client runs the app on its own event loop per call: no pooled connections.
    app.state.engine = create_engine(settings_, pooled=False)
    app.state.sessionmaker = create_sessionmaker(app.state.engine)
    return app


def _admin() -> dict[str, str]:
    token = mint_hs256(default_settings("sqlite://"), role=Role.ADMIN, org="X26")
    return {"Authorization": f"Bearer {token}"}


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_input_gives_a_server_error(case: Any, fuzz_app: Any) -> None:
    for headers in (_admin(), {}):
        response = case.call(app=fuzz_app, headers=headers)
        assert response.status_code < 500, f"{case.method} {case.formatted_path}: {response.text}"
