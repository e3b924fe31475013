"""Many subaccounts with small lists: the STATE output stays in proportion to the run, and
the pages after a list's first are read ahead with the next accounts' lists."""

from __future__ import annotations

import datetime as dt
import io
import json
import sys
from collections.abc import Iterator
from functools import partial
from typing import Any

import pytest

from tap_twilio.output.writer import EncodedStateWriter, RecordBufferingWriter
from tap_twilio.twilio.concurrency import FirstPagePrefetcher, PagesAhead
from tests.emulator import Emulator
from tests.tap_runner import catalog_selecting, most_in_flight, run_tap

ACCOUNTS = 40
LISTS = {"accounts", "calls", "messages", "queues", "keys", "usage_records"}


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Stdout:
    """`sys.stdout` whose bytes are kept, the STATE values read back."""

    def __init__(self) -> None:
        self.buffer = io.BytesIO()

    def flush(self) -> None:
        pass

    def states(self) -> list[Any]:
        lines = self.buffer.getvalue().splitlines()
        return [json.loads(line)["value"] for line in lines
                if line.startswith(b'{"type":"STATE"')]


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


def test_the_last_state_is_written_at_once_and_also_when_unchanged(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The run's end and a stop write the state they reached, whatever the interval; a
    STATE equal to the last one is written again only when RECORDs followed it."""
    stdout = captured(monkeypatch)
    clock = FakeClock()
    message_writer = RecordBufferingWriter()
    writer = EncodedStateWriter(message_writer, min_seconds=1.0, clock=clock)
    state: dict[str, Any] = {"bookmarks": {"calls": {"n": 1}}}
    writer.write_state(state)
    state["bookmarks"]["calls"]["n"] = 2
    writer.write_state(state)  # held back
    writer.write_last(state)  # a stop: written at once
    writer.write_last(state)  # the same, and a STATE is the last line: not again
    message_writer.write_records("calls", [{"sid": "CA1"}], None, dt.datetime.now(dt.timezone.utc))
    writer.write_last(state)  # RECORDs after the last STATE: the same state again
    assert [s["bookmarks"]["calls"]["n"] for s in stdout.states()] == [1, 2, 2]


def record_lines_of(size: int) -> list[dict[str, Any]]:
    """Records whose RECORD lines are about `size` bytes in all."""
    return [{"sid": f"SM{i:032d}", "body": "x" * 100} for i in range(size // 190)]


def test_a_state_waits_for_a_share_of_record_bytes_since_the_last(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A STATE is at most `record_share` of the RECORD bytes written since the last one:
    a large state waits for more records (and is not encoded again until then)."""
    stdout = captured(monkeypatch)
    message_writer = RecordBufferingWriter()
    writer = EncodedStateWriter(message_writer, record_share=0.1)
    when = dt.datetime.now(dt.timezone.utc)
    state: dict[str, Any] = {"bookmarks": {"calls": {"n": 1, "pad": "p" * 1000}}}
    writer.write_state(state)  # no records yet: held back
    message_writer.write_records("messages", record_lines_of(5_000), None, when)
    state["bookmarks"]["calls"]["n"] = 2
    writer.write_state(state)  # about 500 bytes allowed: held back
    message_writer.write_records("messages", record_lines_of(6_000), None, when)
    state["bookmarks"]["calls"]["n"] = 3
    writer.write_state(state)  # about 1,100 bytes allowed: written
    state["bookmarks"]["calls"]["n"] = 4
    writer.write_state(state)  # no records since: held back
    message_writer.flush()
    states = [json.loads(line) for line in stdout.buffer.getvalue().splitlines()
              if line.startswith(b'{"type":"STATE"')]
    assert [s["value"]["bookmarks"]["calls"]["n"] for s in states] == [3]
    record_bytes = sum(len(line) + 1 for line in stdout.buffer.getvalue().splitlines()
                       if line.startswith(b'{"type":"RECORD"'))
    assert 10 * len(json.dumps(states[0]["value"], separators=(",", ":"))) <= record_bytes


def test_partitions_without_a_bookmark_are_left_out_of_the_state(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A partition with only its context (a list without records) carries nothing: it is
    not written, nor a stream left without anything; what carries a bookmark or progress
    is written as it is."""
    stdout = captured(monkeypatch)
    writer = EncodedStateWriter(RecordBufferingWriter())
    booked = {"context": {"account_sid": "AC1"}, "replication_key": "date_sent",
              "replication_key_value": "2026-01-01T00:00:00+00:00"}
    in_progress = {"context": {"account_sid": "AC2"},
                   "progress_markers": {"replication_key": "date_sent",
                                        "replication_key_value": "2026-01-02T00:00:00+00:00"}}
    state: dict[str, Any] = {"bookmarks": {
        "messages": {"partitions": [booked, {"context": {"account_sid": "AC3"}}, in_progress]},
        "keys": {"partitions": [{"context": {"account_sid": "AC1"}}]},
        "accounts": {},
        "calls": {"replication_key": "start_time",
                  "replication_key_value": "2026-01-03T00:00:00+00:00"},
    }}
    writer.write_last(state)
    assert stdout.states() == [{"bookmarks": {
        "messages": {"partitions": [booked, in_progress]},
        "calls": {"replication_key": "start_time",
                  "replication_key_value": "2026-01-03T00:00:00+00:00"},
    }}]
    assert len(state["bookmarks"]["messages"]["partitions"]) == 3  # the tap's own: untouched


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


def test_a_fetch_leaves_the_next_page_before_its_own_is_handed_over() -> None:
    """The sync looks for page 2 once it holds page 1: page 2's future must be there by
    then, or the sync would fetch it a second time."""
    prefetcher = FirstPagePrefetcher(workers=2, ahead=2)
    calls: list[str] = []

    def fetch(url: str, ahead: PagesAhead) -> str:
        calls.append(url)
        number = int(url.rsplit("/", 1)[1])
        if number < 3:
            ahead.follow(f"list/{number + 1}", partial(fetch, f"list/{number + 1}"))
        return f"page {number}"

    try:
        prefetcher.plan([("partition", lambda: {"first": partial(fetch, "list/1")})])
        pages = prefetcher.take("partition")
        assert pages["first"].result(timeout=5) == "page 1"
        assert pages["list/2"].result(timeout=5) == "page 2"  # there once page 1 is
        assert pages["list/3"].result(timeout=5) == "page 3"
        assert "list/4" not in pages
        assert calls == ["list/1", "list/2", "list/3"]
    finally:
        prefetcher.close()


def later_pages(requests: list[Any], resource: str) -> list[Any]:
    """Requests of a list's pages after its first (Twilio's next-page links name a page)."""
    return [r for r in requests if r.resource == resource and r.query.get("PageToken")]


def test_later_pages_of_the_next_accounts_lists_are_read_ahead(many_accounts: Emulator) -> None:
    """An account's daily usage records take several pages, which the sync reads one after
    the other: the pages after the first are fetched ahead too, several lists at once,
    each page once, and the run reads what a run with one request at a time reads."""
    config = {**many_accounts.config(), "page_size": 200}
    catalog = catalog_selecting(config, {"accounts", "usage_records", "queues"})
    many_accounts.latency = 0.05
    try:
        many_accounts.clear_requests()
        run = run_tap(config, catalog=catalog)
        ahead = many_accounts.requests
        many_accounts.clear_requests()
        serial = run_tap({**config, "max_concurrency": 1}, catalog=catalog)
        one_at_a_time = many_accounts.requests
    finally:
        many_accounts.latency = 0.0
    assert run.returncode == 0 and serial.returncode == 0, run.stderr[-2000:]
    pages = later_pages(ahead, "usage_records_daily")
    assert len(pages) >= ACCOUNTS  # every account's list is longer than a page
    assert most_in_flight(pages) > 1
    assert most_in_flight(later_pages(one_at_a_time, "usage_records_daily")) == 1
    requested = [(r.path, r.raw_query) for r in ahead]
    assert len(requested) == len(set(requested))  # no page asked for twice
    assert sorted(requested) == sorted((r.path, r.raw_query) for r in one_at_a_time)
    key = ("account_sid", "category", "start_date")
    assert sorted(tuple(r[k] for k in key) for r in run.records["usage_records"]) == sorted(
        tuple(r[k] for k in key) for r in serial.records["usage_records"])
    assert by_context(run.last_state) == by_context(serial.last_state)


def by_context(state: dict[str, Any]) -> dict[str, list[str]]:
    """Each stream's partitions, in context order (the order a state lists them in is the
    order they were first looked up, which reading ahead changes)."""
    return {stream: sorted(json.dumps(p, sort_keys=True) for p in entry.get("partitions", []))
            for stream, entry in state["bookmarks"].items()}
