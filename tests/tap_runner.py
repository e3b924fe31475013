"""Run tap-twilio as a user does (a subprocess reading config/state/catalog files) and
collect its Singer messages."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from tap_twilio.streams import STREAM_TYPES
from tests.emulator.table import LEGACY_STREAMS
from tests.tap_lists import LIST_OF

REPO = Path(__file__).resolve().parent.parent
PRIMARY_KEYS = {cls.name: tuple(cls.primary_keys) for cls in STREAM_TYPES}
# Usage records are read per day (the default granularity), each account's own usage only.
TRUTH_NAME = {"usage_records": "usage_records_daily"}
TRUTH_FILTERS = {"usage_records": {"IncludeSubaccounts": "false"}}


def record_key(stream: str, record: dict) -> tuple:
    """A record's primary key, as the tap declares it for the stream."""
    return tuple(record[key] for key in PRIMARY_KEYS[stream])


def truth(emulator: Any, stream: str, **filters: str) -> list[dict]:
    """What Twilio (the emulator) lists in total for a stream with the tap's defaults: the
    2010 API's hand-written lists by resource, the others by the list the stream's row names."""
    if stream not in LEGACY_STREAMS:
        return emulator.platform_truth(LIST_OF[stream], **filters)
    return emulator.truth(TRUTH_NAME.get(stream, stream),
                          **{**TRUTH_FILTERS.get(stream, {}), **filters})


@dataclass
class TapRun:
    returncode: int
    stdout: str
    stderr: str
    records: dict[str, list[dict]] = field(default_factory=lambda: defaultdict(list))
    schemas: dict[str, dict] = field(default_factory=dict)
    states: list[dict] = field(default_factory=list)

    @property
    def last_state(self) -> dict | None:
        return self.states[-1] if self.states else None

    def keys(self, stream: str, key: str = "sid") -> list[Any]:
        return [record[key] for record in self.records[stream]]


def parse_messages(stdout: str, run: TapRun) -> None:
    for line in stdout.splitlines():
        if not line.strip():
            continue
        message = json.loads(line, parse_float=Decimal)
        kind = message["type"]
        if kind == "RECORD":
            run.records[message["stream"]].append(message["record"])
        elif kind == "SCHEMA":
            run.schemas[message["stream"]] = message
        elif kind == "STATE":
            run.states.append(message["value"])


def run_tap(
    config: dict,
    *,
    state: dict | None = None,
    catalog: dict | None = None,
    args: tuple[str, ...] = (),
    env: dict[str, str] | None = None,
    timeout: float = 600,
) -> TapRun:
    """`tap-twilio --config c.json [--state s.json] [--catalog k.json] ARGS`."""
    with tempfile.TemporaryDirectory() as tmp:
        command = [sys.executable, "-m", "tap_twilio"]
        for name, content in (("config", config), ("state", state), ("catalog", catalog)):
            if content is None:
                continue
            path = Path(tmp, f"{name}.json")
            path.write_text(content if isinstance(content, str) else json.dumps(content))
            command += [f"--{name}", str(path)]
        command += list(args)
        completed = subprocess.run(
            command,
            capture_output=True,
            text=True,
            cwd=REPO,
            env={**os.environ, **(env or {})},
            timeout=timeout,
            check=False,
        )
    run = TapRun(completed.returncode, completed.stdout, completed.stderr)
    if completed.returncode == 0 and "--discover" not in args and "--about" not in args:
        parse_messages(completed.stdout, run)
    return run


# Where and as whom the tap connects: discovery reads no account, so configs differing only
# in these discover the same catalog.
CONNECTION = ("account_sid", "auth_token", "api_key_sid", "api_key_secret", "base_url")
_discovered: dict[str, str] = {}


def discovered_catalog(config: dict) -> dict:
    """`tap-twilio --config c.json --discover`, run once per session for the same settings."""
    settings = json.dumps({k: v for k, v in config.items() if k not in CONNECTION},
                          sort_keys=True, default=str)
    if settings not in _discovered:
        discovered = run_tap(config, args=("--discover",))
        assert discovered.returncode == 0, discovered.stderr
        _discovered[settings] = discovered.stdout
    return json.loads(_discovered[settings])


def catalog_selecting(config: dict, streams: set[str]) -> dict:
    """The tap's discovered catalog with only `streams` selected."""
    catalog = discovered_catalog(config)
    for entry in catalog["streams"]:
        selected = entry["tap_stream_id"] in streams
        for metadata in entry["metadata"]:
            if metadata["breadcrumb"] == []:
                metadata["metadata"]["selected"] = selected
    return catalog


def most_in_flight(requests: list[Any]) -> int:
    """The most of these requests (the emulator's log) it was serving at one moment."""
    events = sorted([(r.started, 1) for r in requests]
                    + [(r.started + r.duration, -1) for r in requests])
    busy = peak = 0
    for _, change in events:
        busy += change
        peak = max(peak, busy)
    return peak


def run_acting_after(config: dict, catalog: dict | None, after_records: int,
                     act: Callable[[subprocess.Popen[str]], bool]) -> TapRun:
    """Start the tap, read its messages as they come, and once `after_records` RECORDs are
    out call `act` with the process (signal it, make the emulator fail, ...). When `act`
    returns True the reading stops there (what follows in the pipe counts as never written:
    a SIGKILL), otherwise it goes on to the run's end."""
    with tempfile.TemporaryDirectory() as tmp, Path(tmp, "stderr").open("w+") as errors:
        command = [sys.executable, "-m", "tap_twilio"]
        for name, content in (("config", config), ("catalog", catalog)):
            if content is not None:
                Path(tmp, f"{name}.json").write_text(json.dumps(content))
                command += [f"--{name}", f"{tmp}/{name}.json"]
        process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=errors,
                                   text=True)
        lines, seen = [], 0
        try:
            assert process.stdout is not None
            for line in process.stdout:
                lines.append(line)
                if '"type":"RECORD"' in line.replace(" ", ""):
                    seen += 1
                    if seen == after_records and act(process):
                        break
            else:
                process.wait(timeout=120)
        finally:
            if process.poll() is None:
                process.kill()
            process.wait(timeout=30)
        errors.seek(0)
        run = TapRun(process.returncode, "", errors.read())
    complete = [line for line in lines if line.endswith("\n")]  # not a cut-off last line
    run.stdout = "".join(complete)
    parse_messages(run.stdout, run)
    return run
