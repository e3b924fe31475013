"""What a person watching stderr sees: readable per-stream progress and a summary per stream,
without the SDK's per-request JSON metrics or per-partition repetitions."""

from __future__ import annotations

import json
import re

from tap_twilio.streams import DEFAULT_STREAM_NAMES, STREAM_NAMES, TABLE
from tests.conftest import SIZES
from tests.emulator import Emulator
from tests.emulator.table import LEGACY_STREAMS
from tests.tap_runner import run_tap, truth

SUMMARY = re.compile(
    r"(?P<stream>\w+): done, (?P<records>[\d,]+) records, (?P<pages>[\d,]+) pages?"
    r"(?:, \d+ accounts?)?, (?:[\d,]+|-) records/s, [\d.]+s$"
)
PROGRESS = re.compile(r"(\w+): [\d,]+ records, [\d,]+ pages?(?:, \d+ accounts?)?, "
                      r"(?:[\d,]+|-) records/s, [\d.]+s$")


def test_progress_and_summary_lines(emulator) -> None:
    run = run_tap({**emulator.config(), "page_size": 50},
                  env={"TAP_TWILIO_PROGRESS_SECONDS": "0"})
    assert run.returncode == 0, run.stderr[-2000:]
    lines = run.stderr.splitlines()
    summaries = {}
    for line in lines:
        match = SUMMARY.search(line)
        if match:
            summaries[match["stream"]] = match
    assert set(summaries) == set(DEFAULT_STREAM_NAMES)
    for stream, match in summaries.items():
        assert int(match["records"].replace(",", "")) == len(run.records[stream]), stream
        assert int(match["pages"].replace(",", "")) >= 1
    assert any("sync finished:" in line for line in lines)
    progressed = {m.group(1) for m in map(PROGRESS.search, lines) if m}
    assert {"messages", "calls", "usage_records"} <= progressed
    # Quiet: no JSON metrics, and none of the SDK's per-stream or per-partition lines.
    assert not any("METRIC:" in line for line in lines)
    assert not any("Context for child streams" in line for line in lines)
    assert not any("Beginning sync of" in line for line in lines)
    assert len(lines) < 40 * len(DEFAULT_STREAM_NAMES)


def test_sdk_metrics_can_be_turned_back_on(emulator) -> None:
    """With the SDK's metrics on, its record_count points add up to the records emitted."""
    run = run_tap(emulator.config(), env={"TAP_TWILIO_SDK_METRICS": "1"})
    assert run.returncode == 0, run.stderr[-2000:]
    assert "METRIC:" in run.stderr
    counted: dict[str, int] = {}
    for line in run.stderr.splitlines():
        if "METRIC:" in line:
            point = json.loads(line.split("METRIC:", 1)[1])
            if point["metric"] == "record_count":
                stream = point["tags"]["stream"]
                counted[stream] = counted.get(stream, 0) + point["value"]
    for stream in ("accounts", "calls", "messages"):
        assert counted[stream] == len(run.records[stream]) > 0, stream


def summary_line(stderr: str, start: str) -> str:
    (line,) = [line.split(" | ")[-1] for line in stderr.splitlines()
               if line.split(" | ")[-1].startswith(start)]
    return line


def test_summary_counts_the_records_written_when_stream_maps_filter(emulator) -> None:
    """With a stream map filtering messages, and calls copied to a filtered alias, each
    summary line counts the RECORD lines written per output stream and says how many were
    read; the run's total counts what was written."""
    maps = {"messages": {"__filter__": "direction == 'inbound'"},
            "calls_completed": {"__source__": "calls", "__filter__": "status == 'completed'"}}
    run = run_tap({**emulator.config(), "page_size": 50, "stream_maps": maps})
    assert run.returncode == 0, run.stderr[-2000:]
    messages, calls = truth(emulator, "messages"), truth(emulator, "calls")
    inbound = [m for m in messages if m["direction"] == "inbound"]
    completed = [c for c in calls if c["status"] == "completed"]
    assert 0 < len(run.records["messages"]) == len(inbound) < len(messages)
    assert 0 < len(run.records["calls_completed"]) == len(completed) < len(calls)
    assert len(run.records["calls"]) == len(calls)
    assert summary_line(run.stderr, "messages: done, ").startswith(
        f"messages: done, {len(inbound):,} records ({len(messages):,} read), ")
    assert summary_line(run.stderr, "calls: done, ").startswith(
        f"calls: done, {len(calls):,} records + {len(completed):,} records as "
        f"calls_completed ({len(calls):,} read), ")
    written = sum(len(records) for records in run.records.values())
    assert summary_line(run.stderr, "sync finished: ").startswith(
        f"sync finished: {written:,} records (")


CONNECTION_TEST = re.compile(r"^connection test passed: (\d+) of (\d+) streams readable"
                             r"(?:; not read: (\d+ [a-z ]+(?:, \d+ [a-z ]+)*) \(above\))?$")
NOT_READ = re.compile(r"^not read, (.+): ([\w, ]+)$")


def connection_test(stderr: str) -> tuple[re.Match[str], dict[str, str]]:
    """`--test`'s last line (its verdict and counts), and each stream named on the lines
    above it as not read, with the reason."""
    messages = [line.split(" | ")[-1] for line in stderr.strip().splitlines()]
    verdict = CONNECTION_TEST.match(messages[-1])
    assert verdict, messages[-1][-2000:]
    assert len(messages[-1]) <= 300, messages[-1]
    not_read: dict[str, str] = {}
    for match in filter(None, map(NOT_READ.match, messages[:-1])):
        for stream in match[2].split(", "):
            assert stream not in not_read, f"{stream} named twice"
            not_read[stream] = match[1]
    return verdict, not_read


def test_connection_test_ends_with_the_streams_that_answered() -> None:
    """`--test` names each stream not read and why, one line per reason, and ends with a
    short line with the verdict and the counts. message_media answers although no message
    has media: its list is asked for the first message read (Twilio answers an empty one).
    With no conference at all, conference_participants has no conference to be asked for."""
    with Emulator(seed=5, subaccounts=0, sizes={"conferences": 0, "messages": 4}) as emu:
        for message in emu.truth("messages"):
            emu.data.update("messages", emu.account_sid, message["sid"], num_media="0")
        run = run_tap(emu.config(), args=("--test",))
        media = [r for r in emu.requests if r.resource == "message_media"]
    assert run.returncode == 0, run.stderr[-2000:]
    verdict, not_read = connection_test(run.stderr)
    assert int(verdict[2]) == len(STREAM_NAMES)
    assert int(verdict[1]) == len(STREAM_NAMES) - len(not_read) > 0
    assert sum(map(int, re.findall(r"\d+", verdict[3]))) == len(not_read)
    assert set(not_read) < set(STREAM_NAMES)
    assert "message_media" not in not_read
    assert not_read["conference_participants"] == "no conferences record to read them for"
    (first,) = run.records["messages"]
    assert first["num_media"] == 0
    assert [(r.path, r.status) for r in media] == [
        (f"/api.twilio.com/2010-04-01/Accounts/{emu.account_sid}/Messages/{first['sid']}"
         "/Media.json", 200)]


def test_connection_test_reads_every_stream_of_a_full_account() -> None:
    """An account with records in every list (two in each of the newer APIs'): `--test`
    reads every stream, on every API, the children through their parents."""
    full = {row["name"]: 2 for row in TABLE if row["name"] not in LEGACY_STREAMS}
    with Emulator(seed=11, subaccounts=1, sizes=SIZES, platform_sizes=full) as emu:
        run = run_tap(emu.config(), args=("--test",))
    assert run.returncode == 0, run.stderr[-2000:]
    verdict, not_read = connection_test(run.stderr)
    assert int(verdict[1]) == int(verdict[2]) == len(STREAM_NAMES)
    assert verdict[3] is None and not_read == {}
