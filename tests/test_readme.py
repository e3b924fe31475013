"""README.md's settings and streams tables are the tap's own, and its commands exist."""

from __future__ import annotations

import subprocess
import sys

from tests.tap_runner import REPO


def test_readme_tables_are_current() -> None:
    result = subprocess.run([sys.executable, "scripts/readme_tables.py", "--check"],
                            cwd=REPO, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr


def test_readme_starts_with_the_two_commands_that_ci_runs() -> None:
    readme = (REPO / "README.md").read_text()
    assert readme.index("bash scripts/demo.sh") < readme.index("## Quick start")
    assert "bash scripts/test.sh" in (REPO / ".ci" / "run").read_text()
    for script in ("scripts/demo.sh", "scripts/test.sh"):
        assert (REPO / script).exists()
