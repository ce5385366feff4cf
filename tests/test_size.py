"""A reader can hold each part of ``app/`` in mind (issue 14): no function over 100 lines, no
module over 700."""

from __future__ import annotations

import ast
from pathlib import Path

import app

APP = Path(app.__file__).parent
MAX_FUNCTION_LINES = 100
MAX_MODULE_LINES = 700


def test_no_function_over_100_lines() -> None:
    long = [
        f"{path.relative_to(APP)}:{node.lineno} {node.name} ({lines} lines)"
        for path in sorted(APP.rglob("*.py"))
        for node in ast.walk(ast.parse(path.read_text(), str(path)))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and (lines := (node.end_lineno or node.lineno) - node.lineno + 1) > MAX_FUNCTION_LINES
    ]
    assert long == []


def test_no_module_over_700_lines() -> None:
    large = {
        str(path.relative_to(APP)): lines
        for path in sorted(APP.rglob("*.py"))
        if (lines := len(path.read_text().splitlines())) > MAX_MODULE_LINES
    }
    assert large == {}
