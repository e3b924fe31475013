"""README's pipe recipe (`tap-twilio | target-jsonl | tail -1 > state.json.new && ...`) never
loses a state it had: a run interrupted with Ctrl-C (SIGINT to the whole process group, as a
terminal sends it) leaves the previous `state.json` in place, and the next run resumes from it.

target-jsonl is installed as README does (`uv tool install`), so this runs with the
end-to-end tests, not with TAP_TWILIO_SKIP_E2E=1.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.emulator import Emulator
from tests.test_readme import PROJECT_BIN, shell_blocks

pytestmark = pytest.mark.skipif(
    os.environ.get("TAP_TWILIO_SKIP_E2E") == "1",
    reason="installs target-jsonl from the package registry (TAP_TWILIO_SKIP_E2E=1)",
)
TARGET_JSONL = "target-jsonl==0.1.4"


def recipe() -> tuple[str, str]:
    """README's pipe recipe: its shell options and the command of each next run (continued
    lines joined)."""
    [block] = [block for block in shell_blocks() if "state.json.new" in block]
    commands = re.sub(r"\\\n\s*", "", block).splitlines()
    options = [line for line in commands if line.startswith("set -o")]
    [next_run] = [line for line in commands if "--state state.json" in line]
    assert "tail -1 > state.json.new" in next_run, next_run
    return "\n".join(options), next_run


@pytest.fixture(scope="module")
def shell(tmp_path_factory) -> Iterator[tuple[Path, dict[str, str]]]:
    """A folder with config.json and target.json, and an environment with target-jsonl (in
    its own tool environment) and this checkout's tap-twilio on the PATH."""
    folder = tmp_path_factory.mktemp("recipe")
    uv = shutil.which("uv") or str(Path.home() / ".local" / "bin" / "uv")
    tools = folder / "tools"
    env = {**os.environ, "UV_TOOL_DIR": str(tools / "envs"), "UV_TOOL_BIN_DIR": str(tools / "bin")}
    subprocess.run([uv, "tool", "install", "--quiet", TARGET_JSONL], env=env, check=True,
                   timeout=600)
    env["PATH"] = os.pathsep.join([str(tools / "bin"), str(PROJECT_BIN), env.get("PATH", "")])
    (folder / "output").mkdir()
    (folder / "target.json").write_text(json.dumps({"destination_path": "output"}))
    yield folder, env


def start(command: str, folder: Path, env: dict[str, str]) -> subprocess.Popen:
    """`bash -c command` in a process group of its own (a terminal's foreground job)."""
    return subprocess.Popen(["bash", "-c", command], cwd=folder, env=env,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)


def tap_processes(group: int) -> list[int]:
    """The tap's process in a process group (read from /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            command = (stat.parent / "cmdline").read_bytes()
        except OSError:
            continue  # ended meanwhile
        program = command.split(b"\0")[:2]  # the interpreter and the script it runs
        if int(fields[2]) == group and any(arg.endswith(b"/tap-twilio") for arg in program):
            found.append(int(stat.parent.name))
    return found


@pytest.fixture(scope="module")
def emulator_and_state(shell) -> Iterator[Emulator]:
    """The emulator, and README's recipe's first run into state.json."""
    folder, env = shell
    options, next_run = recipe()
    with Emulator(seed=29, subaccounts=3, sizes={"messages": 400, "calls": 200}) as emu:
        (folder / "config.json").write_text(json.dumps(emu.config()))
        first_run = next_run.replace(" --state state.json", "")
        done = subprocess.run(["bash", "-c", f"{options}\n{first_run}"], cwd=folder, env=env,
                              capture_output=True, text=True, timeout=600, check=False)
        assert done.returncode == 0, done.stderr[-2000:]
        assert json.loads((folder / "state.json").read_text())["bookmarks"]["messages"]
        yield emu


@pytest.mark.parametrize("stop", ["ctrl-c", "tap-killed"])
def test_an_interrupted_pipeline_leaves_the_previous_state_and_the_next_run_resumes(
    shell, emulator_and_state, stop,
) -> None:
    """Ctrl-C: SIGINT to the whole group; tap-killed: SIGKILL to the tap alone (the OOM
    killer), the target and `tail` then ending as if the run were complete."""
    folder, env = shell
    emu = emulator_and_state
    options, next_run = recipe()
    previous = (folder / "state.json").read_bytes()
    assert json.loads(previous)["bookmarks"]["messages"]["partitions"]

    # The next run, slowed down, interrupted once it has read some lists.
    emu.latency = 0.3
    emu.clear_requests()
    try:
        pipeline = start(f"{options}\n{next_run}", folder, env)
        deadline = time.monotonic() + 60
        while len(emu.requests) < 20 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert pipeline.poll() is None, "the run ended before it was interrupted"
        if stop == "ctrl-c":
            os.killpg(pipeline.pid, signal.SIGINT)
        else:
            [tap] = tap_processes(pipeline.pid)
            os.kill(tap, signal.SIGKILL)
        _, errors = pipeline.communicate(timeout=60)
    finally:
        emu.latency = 0.0
    assert pipeline.returncode != 0, errors[-2000:]
    if stop == "ctrl-c":
        assert "interrupted by SIGINT" in errors, errors[-2000:]
    assert (folder / "state.json").read_bytes() == previous

    for written in (folder / "output").iterdir():
        written.unlink()
    resumed = subprocess.run(["bash", "-c", f"{options}\n{next_run}"], cwd=folder, env=env,
                             capture_output=True, text=True, timeout=600, check=False)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    state = json.loads((folder / "state.json").read_text())
    assert state["bookmarks"]["messages"]["partitions"]
    # Resumed from the bookmarks: only the last days' messages read again.
    files = list((folder / "output").glob("messages*.jsonl"))
    assert files
    read_again = sum(len(path.read_text().splitlines()) for path in files)
    assert read_again < len(emu.truth("messages")) / 2
