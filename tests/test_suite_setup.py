"""The suite's own set-up: `bash scripts/test.sh` (what CI runs) spreads the tests over every
core, with each module's tests on one worker (its emulator and shared runs made once)."""

from __future__ import annotations

import re

from tests.tap_runner import REPO


def pytest_command() -> str:
    lines = (REPO / "scripts" / "test.sh").read_text().splitlines()
    (command,) = [line for line in lines if re.match(r"uv run --frozen pytest\b", line)]
    return command


def test_the_suite_runs_on_every_core_one_module_per_worker() -> None:
    command = pytest_command()
    assert re.search(r"\s-n (auto|[2-9])\b", command), command
    assert "--dist loadscope --no-loadscope-reorder" in command, command  # conftest's order
    assert command.endswith('"$@"')  # a developer's arguments still come last


def test_pytest_xdist_is_a_locked_dev_dependency() -> None:
    assert re.search(r'"pytest-xdist>=[\d.]+"', (REPO / "pyproject.toml").read_text())
    assert 'name = "pytest-xdist"' in (REPO / "uv.lock").read_text()

