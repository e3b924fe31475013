"""README.md: its tables are the tap's own, and its shell blocks run as written.

Every ```bash block runs, in README order, in a copy of the repository (the files a fresh clone
has), each in its own `bash -e -o pipefail`, all in that one folder and as one shell session
(what a block exports, e.g. PATH, holds for the next ones). A comment line in a block decides
how:

- `# needs a Twilio account`: not run (it holds placeholders for real credentials);
- `# not run by tests/test_readme.py`: not run (the set-up and the test suite themselves);
- `# runs until Ctrl-C`: started, left running once it has printed its first line (the
  emulator), and stopped with Ctrl-C's SIGINT after the last block.

Blocks that install from the package registry (`uv tool install`, `pip install`, anything with
`meltano`) run with the end-to-end tests, not with TAP_TWILIO_SKIP_E2E=1; their tools go to
a temporary UV_TOOL_DIR. Without them, `tap-twilio` comes from this checkout's environment.
"""

from __future__ import annotations

import json
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.tap_runner import REPO

README = REPO / "README.md"
BLOCK = re.compile(r"^```(?:bash|sh)\n(.*?)^```", re.MULTILINE | re.DOTALL)
NOT_RUN = ("# needs a Twilio account", "# not run by tests/test_readme.py")
BACKGROUND = "# runs until Ctrl-C"
INSTALLS = re.compile(r"\buv tool install\b|\bpip install\b|\bmeltano\b")
SKIP_INSTALLS = os.environ.get("TAP_TWILIO_SKIP_E2E") == "1"
PROJECT_BIN = Path(sys.executable).parent  # this checkout's .venv/bin


def test_readme_tables_are_current() -> None:
    result = subprocess.run([sys.executable, "scripts/readme_tables.py", "--check"],
                            cwd=REPO, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr


def test_readme_starts_with_the_two_commands_that_ci_runs() -> None:
    readme = README.read_text()
    assert readme.index("bash scripts/demo.sh") < readme.index("## Quick start")
    assert "bash scripts/test.sh" in (REPO / ".ci" / "run").read_text()
    for script in ("scripts/demo.sh", "scripts/test.sh"):
        assert (REPO / script).exists()


def shell_blocks() -> list[str]:
    return BLOCK.findall(README.read_text())


def marked(block: str, marker: str) -> bool:
    return any(line.strip().startswith(marker) for line in block.splitlines())


def test_only_blocks_that_need_an_account_or_are_the_set_up_are_not_run() -> None:
    blocks = shell_blocks()
    not_run = [block for block in blocks if any(marked(block, m) for m in NOT_RUN)]
    # the two commands, the account's config, the fan-out, the shards (into PostgreSQL)
    assert len(not_run) == 4, not_run
    assert "bash scripts/demo.sh" in not_run[0] and "bash scripts/test.sh" in not_run[0]
    assert all("config.json" in block or "AC..." in block or "ACCOUNT_SHARD" in block
               for block in not_run[1:])
    assert any("--state state.json" in block for block in blocks if block not in not_run)


def copy_of_the_repository(folder: Path) -> Path:
    """The files of a fresh clone (tracked, and new ones not ignored), as they are now."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            cwd=REPO, capture_output=True, check=True).stdout
    for name in filter(None, listed.decode().split("\0")):
        source = REPO / name
        if source.is_file():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, folder / name)
    return folder


def block_environment(tmp_path: Path) -> dict[str, str]:
    """A user's shell: uv on the PATH, no tap settings, tools installed into tmp_path."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("TAP_TWILIO_", "TARGET_", "MELTANO_"))
           and key not in ("VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT", "PYTHONPATH")}
    uv = shutil.which("uv") or str(Path.home() / ".local" / "bin" / "uv")
    tools = tmp_path / "tools"
    path = [str(Path(uv).parent)]
    if SKIP_INSTALLS:
        path.append(str(PROJECT_BIN))  # `uv tool install .` not run: this checkout's tap
    path += [entry for entry in env.get("PATH", "").split(os.pathsep)
             if entry and Path(entry) != PROJECT_BIN]
    env.update(PATH=os.pathsep.join(path), UV_TOOL_DIR=str(tools / "envs"),
               UV_TOOL_BIN_DIR=str(tools / "bin"), MELTANO_SEND_ANONYMOUS_USAGE_STATS="false",
               MELTANO_DISABLE_TRACKING="true", MELTANO_CLI_DISABLE_VERSION_CHECK="true",
               NO_COLOR="1")
    return env


def in_session(block: str, session: Path) -> list[str]:
    """`bash` running the block in the shell session so far, and keeping what it exports."""
    return ["bash", "-e", "-o", "pipefail", "-c",
            f"source {session}\n{block}\nexport -p > {session}"]


class Background:
    """A block that runs until Ctrl-C, started in a process group of its own."""

    def __init__(self, command: list[str], cwd: Path, env: dict[str, str], log: Path) -> None:
        self.log, self.command = log, command
        with log.open("w") as errors:
            self.process = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE,
                                            stderr=errors, start_new_session=True)

    def first_line(self, timeout: float) -> str:
        assert self.process.stdout is not None
        ready, _, _ = select.select([self.process.stdout], [], [], timeout)
        line = self.process.stdout.readline().decode() if ready else ""
        assert line, f"nothing printed in {timeout}s: {self.log.read_text()[-2000:]}"
        return line

    def interrupt(self) -> int | None:
        """Ctrl-C: SIGINT to the block's processes; its exit code, or None if it hung."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)
        try:
            return self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
            return None


@pytest.fixture
def started() -> Iterator[list[Background]]:
    running: list[Background] = []
    yield running
    for block in running:  # also after a failure: nothing is left running
        block.interrupt()


def test_readme_shell_blocks_run_as_written(tmp_path: Path, started: list[Background]) -> None:
    clone = copy_of_the_repository(tmp_path / "tap-twilio")
    env = block_environment(tmp_path)
    session = tmp_path / "session.sh"
    session.write_text("")
    ran, skipped = [], []
    for number, block in enumerate(shell_blocks(), 1):
        first = block.strip().splitlines()[0]
        if any(marked(block, marker) for marker in NOT_RUN):
            continue
        if INSTALLS.search(block) and SKIP_INSTALLS:
            skipped.append(first)
            continue
        log = tmp_path / f"block-{number}.log"
        if marked(block, BACKGROUND):
            started.append(Background(in_session(block, session), clone, env, log))
            json.loads(started[-1].first_line(timeout=180))  # the emulator's URL, as JSON
        else:
            started_at = time.monotonic()
            done = subprocess.run(in_session(block, session), cwd=clone, env=env,
                                  capture_output=True, text=True, timeout=900, check=False)
            log.write_text(done.stdout + done.stderr)
            assert done.returncode == 0, (
                f"README block {number} failed (exit {done.returncode}):\n{block}\n"
                f"{(done.stdout + done.stderr)[-3000:]}")
            print(f"block {number} ({first}): {time.monotonic() - started_at:.1f}s")
        ran.append(first)
    print(f"ran {len(ran)} blocks; installs skipped (TAP_TWILIO_SKIP_E2E=1): {skipped}")
    for block in started:
        assert block.interrupt() is not None, (
            f"a block did not stop on Ctrl-C: {block.command[-1][:300]}\n"
            f"{block.log.read_text()[-2000:]}")

    # What the blocks left behind is what README says they make.
    catalog = json.loads((clone / "catalog.json").read_text())
    assert {entry["tap_stream_id"] for entry in catalog["streams"]} >= {"calls", "messages"}
    records = [line for line in (clone / "tap.out").read_text().splitlines()
               if line.startswith('{"type":"RECORD"')]
    assert len(records) > 100
    if not SKIP_INSTALLS:
        assert list((clone / "output").glob("messages-*.jsonl"))  # target-jsonl's own runs
        assert (clone / "output" / "messages.jsonl").stat().st_size > 0  # Meltano's run
        state = (clone / "state.json").read_text()
        assert state.strip(), ("state.json is empty: target-jsonl got no STATE after the "
                               "resumed run's last records")
        assert json.loads(state)["bookmarks"]["messages"]["partitions"], state
