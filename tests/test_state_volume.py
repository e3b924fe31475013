"""301 accounts with small lists: the STATE lines stay a small share of the output (no
partition that carries nothing, a STATE only as often as it is worth), and a run killed
midway (SIGKILL: no last STATE) resumed from the last STATE it wrote loses no record."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.emulator import Emulator
from tests.tap_runner import (
    REPO,
    TapRun,
    catalog_selecting,
    parse_messages,
    record_key,
    run_tap,
    truth,
)

ACCOUNTS = 301
# Two incremental lists (a bookmark per account), two lists without a bookmark (a partition
# that carries nothing, per account) and the accounts.
STREAMS = {"accounts", "messages", "calls", "keys", "queues"}
INCREMENTAL = ("messages", "calls")
LATENCY = 0.04


@pytest.fixture(scope="module")
def accounts() -> Iterator[tuple[Emulator, dict, dict, TapRun]]:
    """The emulator, the config, the catalog and one full run over them. At 40 ms a request
    the run lasts several seconds: a STATE a second holding every partition would pass a
    tenth of the records."""
    with Emulator(seed=29, subaccounts=ACCOUNTS - 1, sizes={"messages": 30, "calls": 30},
                  latency=LATENCY) as emu:
        config = {**emu.config(), "start_date": "2000-01-01"}
        catalog = catalog_selecting(config, STREAMS)
        yield emu, config, catalog, run_tap(config, catalog=catalog)


def run_until_signalled(config: dict, catalog: dict, sig: int, after_records: int,
                        after_bookmarks: int = 0) -> TapRun:
    """The tap, sent `sig` once it has written `after_records` RECORDs, counted from its
    first STATE holding at least `after_bookmarks` bookmarks of the incremental streams;
    its complete lines (after SIGKILL: those written before the kill)."""
    with tempfile.TemporaryDirectory() as tmp, Path(tmp, "stderr").open("w+") as errors:
        Path(tmp, "config.json").write_text(json.dumps(config))
        Path(tmp, "catalog.json").write_text(json.dumps(catalog))
        process = subprocess.Popen(
            [sys.executable, "-m", "tap_twilio", "--config", f"{tmp}/config.json",
             "--catalog", f"{tmp}/catalog.json"],
            cwd=REPO, stdout=subprocess.PIPE, stderr=errors, text=True)
        lines, seen, counting = [], 0, not after_bookmarks
        try:
            assert process.stdout is not None
            for line in process.stdout:
                lines.append(line)
                counting = counting or (line.startswith('{"type":"STATE"') and bookmarks_in(
                    json.loads(line)["value"]) >= after_bookmarks)
                seen += counting and line.startswith('{"type":"RECORD"')
                if seen == after_records:
                    process.send_signal(sig)
                    seen += 1
                    if sig == signal.SIGKILL:
                        break
        finally:
            process.kill()
            process.wait(timeout=30)
        errors.seek(0)
        stdout = "".join(line for line in lines if line.endswith("\n"))
        run = TapRun(process.returncode, stdout, errors.read())
    parse_messages(stdout, run)
    return run


def bookmarks_in(state: dict) -> int:
    """The bookmarks of the incremental streams' partitions in a state."""
    return sum(bool(partition.get("replication_key_value"))
               for stream in INCREMENTAL
               for partition in state["bookmarks"].get(stream, {}).get("partitions", []))


def line_bytes(stdout: str, kind: str) -> int:
    prefix = f'{{"type":"{kind}"'
    return sum(len(line.encode()) + 1 for line in stdout.splitlines() if line.startswith(prefix))


def test_state_lines_are_at_most_a_tenth_of_the_record_lines(accounts) -> None:
    _, _, _, run = accounts
    assert run.returncode == 0, run.stderr[-2000:]
    assert len(run.records["accounts"]) == ACCOUNTS
    record_bytes, state_bytes = line_bytes(run.stdout, "RECORD"), line_bytes(run.stdout, "STATE")
    assert record_bytes > 1_000_000  # a run long enough to write several STATEs
    assert len(run.states) >= 2
    assert state_bytes <= record_bytes / 10, (state_bytes, record_bytes, len(run.states))
    assert run.stdout.splitlines()[-1].startswith('{"type":"STATE"')
    # The last one holds a bookmark for each account with a dated record in an incremental
    # list, and nothing for the lists without a bookmark.
    bookmarks = run.last_state["bookmarks"]
    for stream in INCREMENTAL:
        [key] = run.schemas[stream]["bookmark_properties"]
        booked = [p["context"]["account_sid"] for p in bookmarks[stream]["partitions"]]
        assert all(p.get("replication_key_value") for p in bookmarks[stream]["partitions"])
        assert sorted(booked) == sorted({r["account_sid"] for r in run.records[stream]
                                         if r[key] is not None})
        assert len(booked) > ACCOUNTS * 0.9, stream
    assert not {"keys", "queues"} & set(bookmarks)


def test_a_run_killed_midway_resumes_from_its_last_state_and_loses_nothing(accounts) -> None:
    emu, config, catalog, full = accounts
    assert full.returncode == 0, full.stderr[-2000:]
    total = sum(len(full.records[stream]) for stream in INCREMENTAL)
    # Killed once a STATE with a third of the accounts' bookmarks was written, and more
    # records followed it.
    first = run_until_signalled(config, catalog, signal.SIGKILL, after_records=200,
                                after_bookmarks=ACCOUNTS // 3)
    assert first.returncode == -signal.SIGKILL
    assert sum(len(first.records[stream]) for stream in INCREMENTAL) < total  # midway
    resumed = run_tap(config, state=first.last_state, catalog=catalog)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    for stream in STREAMS:
        held = sorted(record_key(stream, r) for r in truth(emu, stream))
        assert held, stream
        emitted = {record_key(stream, r) for r in first.records[stream] + resumed.records[stream]}
        assert sorted(emitted) == held, f"{stream}: records lost across the two runs"
    # The resumed run started from the bookmarks: it did not read every list again.
    assert sum(len(resumed.records[stream]) for stream in INCREMENTAL) < total


def with_empty_partitions(state: dict, streams: set[str], accounts: list[str]) -> dict:
    """A state as the tap wrote it before: a partition for every account in every stream,
    only its context where there is no bookmark, and an empty entry for `accounts`."""
    bookmarks = {stream: {"partitions": list(entry.get("partitions", []))}
                 for stream, entry in state["bookmarks"].items()}
    for stream in streams - {"accounts"}:
        partitions = bookmarks.setdefault(stream, {"partitions": []})["partitions"]
        booked = {p["context"]["account_sid"] for p in partitions}
        partitions += [{"context": {"account_sid": sid}} for sid in accounts if sid not in booked]
    return {"bookmarks": {**bookmarks, "accounts": {}}}


def test_a_state_with_a_partition_for_every_account_still_resumes(accounts) -> None:
    """A state file of the tap's earlier form, empty partitions and all, resumes as the
    state without them does, and the run's last STATE leaves them out."""
    emu, config, catalog, full = accounts
    assert full.returncode == 0, full.stderr[-2000:]
    old_form = with_empty_partitions(full.last_state, STREAMS, [a.sid for a in emu.data.accounts])
    assert len(json.dumps(old_form)) > len(json.dumps(full.last_state)) * 1.2
    emu.latency = 0.0
    try:
        from_old = run_tap(config, state=old_form, catalog=catalog)
        from_new = run_tap(config, state=full.last_state, catalog=catalog)
    finally:
        emu.latency = LATENCY
    assert from_old.returncode == 0, from_old.stderr[-2000:]
    assert from_new.returncode == 0, from_new.stderr[-2000:]
    for stream in STREAMS:
        assert sorted(map(repr, from_old.records[stream])) == sorted(
            map(repr, from_new.records[stream])), stream
    assert from_old.last_state == from_new.last_state
    assert len(from_old.records["messages"]) < len(full.records["messages"])  # resumed


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_ctrl_c_and_sigterm_end_with_a_state_after_the_last_record(accounts, sig) -> None:
    """A stop writes the state it reached as the last line, whatever the cadence: the
    records before it are covered, and a resumed run needs nothing older."""
    _, config, catalog, full = accounts
    total = sum(len(full.records[stream]) for stream in INCREMENTAL)
    stopped = run_until_signalled(config, catalog, sig, after_records=total // 3)
    assert stopped.returncode == 128 + sig, stopped.stderr[-2000:]
    assert 0 < sum(len(stopped.records[stream]) for stream in INCREMENTAL) < total
    assert stopped.last_state is not None
    bookmarks = stopped.last_state["bookmarks"]
    assert any(bookmarks.get(stream, {}).get("partitions") for stream in INCREMENTAL), bookmarks
    lines = [line for line in stopped.stdout.splitlines() if line.strip()]
    assert lines[-1].startswith('{"type":"STATE"'), lines[-1][:200]
