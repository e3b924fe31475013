"""The mutation check (scripts/mutation_check.py, run before a release, not in CI) stays
runnable: each wrong change it makes still finds the text it replaces, once, so a change to
the tap cannot leave it checking nothing."""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType

from tests.tap_runner import REPO


def mutation_check() -> ModuleType:
    spec = importlib.util.spec_from_file_location("mutation_check",
                                                  REPO / "scripts" / "mutation_check.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("mutation_check", module)
    spec.loader.exec_module(module)
    return module


def test_each_wrong_change_finds_its_text_once() -> None:
    mutations = mutation_check().MUTATIONS
    missing = [m.name for m in mutations if (REPO / m.path).read_text().count(m.old) != 1]
    assert mutations and missing == []


def test_each_wrong_change_is_in_readme_s_table() -> None:
    readme = (REPO / "README.md").read_text()
    assert [m.name for m in mutation_check().MUTATIONS if f"| {m.name} |" not in readme] == []
