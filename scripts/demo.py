"""The demo: a Twilio emulator on loopback, tap-twilio extracting from it, target-jsonl writing.

Run it with `bash scripts/demo.sh` (which sets up the environment first). target-jsonl is
installed in an environment of its own under .demo/, as Meltano would install a loader.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.emulator import Emulator  # noqa: E402

DEMO = REPO / ".demo"
TARGET_VENV = DEMO / "target-jsonl"
TARGET = TARGET_VENV / "bin" / "target-jsonl"


def install_target() -> None:
    if TARGET.exists():
        return
    print("Installing target-jsonl into .demo/target-jsonl ...", flush=True)
    uv = shutil.which("uv") or "uv"
    subprocess.run([uv, "venv", "--quiet", str(TARGET_VENV)], check=True)
    python = str(TARGET_VENV / "bin" / "python")
    subprocess.run([uv, "pip", "install", "--quiet", "--python", python, "target-jsonl==0.1.4"],
                   check=True)


def run_pipeline(tap_config: Path, output: Path) -> float:
    """tap-twilio --config tap.json | target-jsonl --config target.json"""
    target_config = DEMO / "target.json"
    target_config.write_text(json.dumps({"destination_path": str(output),
                                         "do_timestamp_file": False}))
    started = time.monotonic()
    with open(DEMO / "tap.log", "w") as tap_log, open(DEMO / "state.json", "w") as state:
        tap = subprocess.Popen([sys.executable, "-m", "tap_twilio", "--config", str(tap_config)],
                               stdout=subprocess.PIPE, stderr=tap_log, cwd=REPO)
        target = subprocess.run([str(TARGET), "--config", str(target_config)], stdin=tap.stdout,
                                stdout=state, check=False)
        tap.stdout.close()
        tap_code = tap.wait()
    if tap_code or target.returncode:
        log_tail = (DEMO / "tap.log").read_text().strip().splitlines()[-1:]
        sys.exit(f"demo failed (tap exit {tap_code}, target exit {target.returncode}): "
                 f"{' '.join(log_tail)}")
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=5000, help="messages in the main account")
    parser.add_argument("--subaccounts", type=int, default=2)
    args = parser.parse_args()

    DEMO.mkdir(exist_ok=True)
    install_target()
    output = DEMO / "output"
    shutil.rmtree(output, ignore_errors=True)
    output.mkdir()
    sizes = {"messages": args.messages, "calls": args.messages // 2}
    with Emulator(seed=7, subaccounts=args.subaccounts, sizes=sizes) as emu:
        tap_config = DEMO / "tap.json"
        tap_config.write_text(json.dumps(emu.config(), indent=2))
        print(f"Twilio emulator at {emu.url}: main account {emu.account_sid} and "
              f"{args.subaccounts} subaccounts")
        print("Running: tap-twilio --config .demo/tap.json | target-jsonl --config "
              ".demo/target.json", flush=True)
        seconds = run_pipeline(tap_config, output)

    counts = {path.stem: sum(1 for _ in path.open()) for path in sorted(output.glob("*.jsonl"))}
    width = max(len(name) for name in counts)
    print(f"\nRecords per stream ({sum(counts.values())} in {seconds:.1f}s):")
    for name, count in counts.items():
        print(f"  {name:<{width}}  {count:>7}")
    print(f"\nOutput: {output}/<stream>.jsonl   tap log: {DEMO / 'tap.log'}   "
          f"final state: {DEMO / 'state.json'}")


if __name__ == "__main__":
    main()
