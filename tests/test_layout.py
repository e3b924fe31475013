"""The engine stays readable: no module of tap_twilio/ over 400 lines, no class over 300
(docs/architecture.md: a layer that grows past them is doing two jobs)."""

from __future__ import annotations

import ast
from pathlib import Path

import tap_twilio

PACKAGE = Path(tap_twilio.__file__).parent
MAX_MODULE_LINES, MAX_CLASS_LINES = 400, 300


def modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_no_module_is_over_400_lines() -> None:
    long = {path.name: n for path in modules()
            if (n := len(path.read_text().splitlines())) > MAX_MODULE_LINES}
    assert long == {}


def test_no_class_is_over_300_lines() -> None:
    long = {}
    for path in modules():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef) and node.end_lineno is not None:
                lines = node.end_lineno - node.lineno + 1
                if lines > MAX_CLASS_LINES:
                    long[f"{path.name}:{node.name}"] = lines
    assert long == {}
