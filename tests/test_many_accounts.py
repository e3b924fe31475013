"""Many subaccounts with small lists: the STATE output stays in proportion to the run."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from tap_twilio.output import EncodedStateWriter, RecordBufferingWriter
from tests.emulator import Emulator
from tests.tap_runner import catalog_selecting, run_tap

ACCOUNTS = 40
LISTS = {"accounts", "calls", "messages", "queues", "keys", "usage_records"}


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Stdout:
    """`sys.stdout` whose bytes are kept, one STATE value per line read back."""

    def __init__(self) -> None:
        self.buffer = io.BytesIO()

    def flush(self) -> None:
        pass

    def states(self) -> list[Any]:
        lines = self.buffer.getvalue().splitlines()
        return [json.loads(line)["value"] for line in lines]


def captured(monkeypatch: pytest.MonkeyPatch) -> Stdout:
    """Replace stdout inside the test itself (pytest sets its own at the start of a test)."""
    out = Stdout()
    monkeypatch.setattr(sys, "stdout", out)
    return out


def test_a_changed_state_waits_for_the_interval_then_the_next_ask(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stdout = captured(monkeypatch)
    clock = FakeClock()
    writer = EncodedStateWriter(RecordBufferingWriter(), min_seconds=1.0, clock=clock)
    state: dict[str, Any] = {"bookmarks": {"calls": {"n": 1}}}
    writer.write_state(state)  # the first: at once
    state["bookmarks"]["calls"]["n"] = 2
    writer.write_state(state)  # 0 s later: held back
    clock.now += 0.5
    state["bookmarks"]["calls"]["n"] = 3
    writer.write_state(state)  # 0.5 s later: held back
    assert [s["bookmarks"]["calls"]["n"] for s in stdout.states()] == [1]
    clock.now += 0.5
    state["bookmarks"]["calls"]["n"] = 4
    writer.write_state(state)  # 1 s after the last STATE: the state as asked now
    writer.write_state(state)  # unchanged: never written twice
    assert [s["bookmarks"]["calls"]["n"] for s in stdout.states()] == [1, 4]


def test_a_held_back_state_is_written_at_a_failure_and_at_the_end(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stdout = captured(monkeypatch)
    clock = FakeClock()
    writer = EncodedStateWriter(RecordBufferingWriter(), min_seconds=1.0, clock=clock)
    state: dict[str, Any] = {"bookmarks": {"calls": {"n": 1}}}
    writer.write_state(state)
    writer.write_held_back(state)  # nothing held back: nothing written
    state["bookmarks"]["calls"]["n"] = 2
    writer.write_state(state)  # held back
    writer.write_held_back(state)  # a failed run's end: written
    state["bookmarks"]["calls"]["n"] = 3
    writer.write_state(state)  # held back again
    writer.write_final_state(state)  # a finished run's end: written
    assert [s["bookmarks"]["calls"]["n"] for s in stdout.states()] == [1, 2, 3]


@pytest.fixture(scope="module")
def many_accounts() -> Iterator[Emulator]:
    with Emulator(seed=5, subaccounts=ACCOUNTS - 1,
                  sizes={"messages": 20, "calls": 20}) as emu:
        yield emu


def state_lines(stdout: str) -> list[str]:
    return [line for line in stdout.splitlines() if line.startswith('{"type":"STATE"')]


def test_state_output_does_not_grow_with_the_square_of_the_accounts(
    many_accounts: Emulator,
) -> None:
    """Each STATE holds every account's partitions; one per partition (200 here, 15,000
    over 1,001 accounts) made the STATE lines outweigh the records. At most one a second
    is written, the last one after the last record, with one partition per account."""
    config = {**many_accounts.config(), "start_date": "2000-01-01"}
    many_accounts.latency = 0.01
    try:
        run = run_tap(config, catalog=catalog_selecting(config, LISTS))
    finally:
        many_accounts.latency = 0.0
    assert run.returncode == 0, run.stderr[-2000:]
    states = state_lines(run.stdout)
    partitions_read = ACCOUNTS * (len(LISTS) - 1)
    assert len(states) < partitions_read / 4, len(states)
    assert run.stdout.splitlines()[-1] == states[-1]
    bookmarks = run.last_state["bookmarks"]
    for stream in ("calls", "messages", "usage_records"):  # the incremental ones
        accounts = [p["context"]["account_sid"] for p in bookmarks[stream]["partitions"]]
        assert sorted(accounts) == sorted(a.sid for a in many_accounts.data.accounts), stream
