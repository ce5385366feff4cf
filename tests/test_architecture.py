"""How the domains meet (STYLE.md): through each other's services, with the request context
from ``auth`` and the application's parts (``app.state``) as typed dependencies."""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import app

APP = Path(app.__file__).parent
DOMAINS = frozenset(
    p.name for p in APP.iterdir() if (p / "__init__.py").exists() and (p / "service.py").exists()
)
PROVIDERS = {APP / "main.py", APP / "deps.py", *APP.glob("*/dependencies.py")}
WRITES = {"update", "insert", "delete"}


def _modules() -> list[tuple[Path, str | None, ast.Module]]:
    found = []
    for path in sorted(APP.rglob("*.py")):
        parts = path.relative_to(APP).parts
        domain = parts[0] if len(parts) > 1 and parts[0] in DOMAINS else None
        found.append((path, domain, ast.parse(path.read_text(), str(path))))
    return found


def _imports(tree: ast.Module) -> list[tuple[str, ast.ImportFrom]]:
    """(module, statement) of each ``from app.<...> import ...``."""
    return [
        (n.module, n)
        for n in ast.walk(tree)
        if isinstance(n, ast.ImportFrom) and n.module and n.module.startswith("app.")
    ]


def test_no_domain_imports_another_domains_repository() -> None:
    found = [
        f"{path.relative_to(APP)}:{node.lineno} {module}"
        for path, domain, tree in _modules()
        if domain is not None
        for module, node in _imports(tree)
        if module.split(".")[1] != domain
        and (module.endswith(".repository") or any(a.name == "repository" for a in node.names))
    ]
    assert found == []


def test_no_domain_writes_another_domains_tables() -> None:
    found = []
    for path, domain, tree in _modules():
        if domain is None:
            continue
        foreign = {
            a.asname or a.name
            for module, node in _imports(tree)
            if module.endswith(".models") and module.split(".")[1] != domain
            for a in node.names
        }
        found += [
            f"{path.relative_to(APP)}:{call.lineno}"
            for call in ast.walk(tree)
            if isinstance(call, ast.Call)
            and isinstance(call.func, ast.Name)
            and call.func.id in WRITES
            and call.args
            and isinstance(call.args[0], ast.Name)
            and call.args[0].id in foreign
        ]
    assert found == []


def test_the_request_context_lives_in_auth() -> None:
    context = importlib.import_module("app.auth.context")
    referrals_service = importlib.import_module("app.referrals.service")

    assert context.Context.__module__ == "app.auth.context"
    assert getattr(referrals_service, "Context", context.Context) is context.Context
    assert [
        f"{path.relative_to(APP)}:{node.lineno}"
        for path, _, tree in _modules()
        for module, node in _imports(tree)
        if module.startswith("app.referrals") and any(a.name == "Context" for a in node.names)
    ] == []


def test_app_state_is_read_only_where_it_is_set_and_by_the_providers() -> None:
    readers = [
        f"{path.relative_to(APP)}:{number}"
        for path, _, _ in _modules()
        if path not in PROVIDERS
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if re.search(r"\bapp\.state\b", line)
    ]
    assert readers == []


def test_place_read_belongs_to_areas() -> None:
    areas_router = importlib.import_module("app.areas.router")
    directory_schemas = importlib.import_module("app.directory.schemas")

    assert areas_router.PlaceRead.__module__ == "app.areas.schemas"
    assert not hasattr(directory_schemas, "PlaceRead")
