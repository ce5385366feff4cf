import json

from app.cli import OPENAPI_PATH
from app.main import create_app
from tests.conftest import make_settings


def test_openapi_file_matches_the_app() -> None:
    document = create_app(make_settings("sqlite://")).openapi()
    expected = json.dumps(document, indent=2, sort_keys=True) + "\n"
    assert OPENAPI_PATH.read_text() == expected, "openapi/openapi.json is stale: run `make openapi`"


def test_operation_ids_are_tag_and_name() -> None:
    document = json.loads(OPENAPI_PATH.read_text())
    ids = [op["operationId"] for path in document["paths"].values() for op in path.values()]
    assert len(ids) == len(set(ids))
    assert all("-" in operation_id for operation_id in ids)
