"""stdout as a target reads it: every message once, in order, only the selected properties,
every RECORD written out before the STATE that covers it, also when stdout is unbuffered
(PYTHONUNBUFFERED=1), each stream's SCHEMA once, and a STATE last."""

from __future__ import annotations

import datetime as dt
import io
import json
import sys
from decimal import Decimal
from typing import Any

import pytest
from jsonschema import Draft7Validator, FormatChecker
from singer_sdk.contrib.msgspec import MsgSpecWriter
from singer_sdk.singerlib import (
    ActivateVersionMessage,
    RecordMessage,
    SchemaMessage,
    StateMessage,
)

from tap_twilio.output.writer import EncodedStateWriter, RecordBufferingWriter
from tap_twilio.streams import DEFAULT_STREAM_NAMES, STREAM_TYPES
from tests.tap_runner import TapRun, catalog_selecting, record_key, run_tap, truth


class RawStdout(io.RawIOBase):
    """An unbuffered stdout (what `sys.stdout.buffer` is under PYTHONUNBUFFERED=1) that
    records each write; `limit` makes it accept only part of a long write, as a pipe may."""

    def __init__(self, limit: int | None = None) -> None:
        self.writes: list[bytes] = []
        self.limit = limit

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        chunk = bytes(data[: self.limit] if self.limit else data)
        self.writes.append(chunk)
        return len(chunk)

    @property
    def data(self) -> bytes:
        return b"".join(self.writes)


def unbuffered_stdout(monkeypatch: pytest.MonkeyPatch, limit: int | None = None) -> RawStdout:
    """Replace stdout inside the test itself (pytest sets its own at the start of a test)."""
    raw = RawStdout(limit)
    monkeypatch.setattr(sys, "stdout", io.TextIOWrapper(raw, write_through=True))
    return raw


def messages(count: int) -> list[Any]:
    schema = SchemaMessage("messages", {"properties": {"sid": {"type": "string"}}}, ["sid"])
    records = [RecordMessage("messages", {"sid": f"SM{i:032d}", "body": "x" * 200})
               for i in range(count)]
    return [schema, *records, StateMessage({"bookmarks": {"messages": {"n": count}}})]


def expected_bytes(items: list[Any]) -> bytes:
    writer = MsgSpecWriter()
    return b"".join(bytes(writer.format_message(item)) for item in items)


def test_records_reach_stdout_in_blocks_in_order(monkeypatch: pytest.MonkeyPatch) -> None:
    raw_stdout = unbuffered_stdout(monkeypatch)
    items = messages(2000)  # ~500 KB of records
    writer = RecordBufferingWriter()
    for item in items:
        writer.write_message(item)
    assert raw_stdout.data == expected_bytes(items)
    assert not writer.pending
    # One write per ~64 KiB block, not one per record (the SDK's writer: 2002 writes).
    assert len(raw_stdout.writes) <= len(raw_stdout.data) // writer.BLOCK_BYTES + 3


def test_every_record_is_written_before_the_state_that_covers_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    raw_stdout = unbuffered_stdout(monkeypatch)
    items = messages(10)
    writer = RecordBufferingWriter()
    for item in items[:-1]:
        writer.write_message(item)
    assert raw_stdout.data == expected_bytes(items[:1])  # SCHEMA out, the records held
    writer.write_message(items[-1])
    assert raw_stdout.data == expected_bytes(items)


def test_a_partial_write_is_completed(monkeypatch: pytest.MonkeyPatch) -> None:
    raw = unbuffered_stdout(monkeypatch, limit=1000)
    items = messages(300)
    writer = RecordBufferingWriter()
    for item in items:
        writer.write_message(item)
    assert raw.data == expected_bytes(items)


def test_unbuffered_stdout_run_is_complete(emulator) -> None:
    """A real run with PYTHONUNBUFFERED=1: every record once, the final STATE last, each
    RECORD stamped with a UTC time_extracted within the run."""
    started = dt.datetime.now(dt.timezone.utc)
    run = run_tap({**emulator.config(), "page_size": 50}, env={"PYTHONUNBUFFERED": "1"})
    finished = dt.datetime.now(dt.timezone.utc)
    assert run.returncode == 0, run.stderr[-2000:]
    stamps = [json.loads(line)["time_extracted"] for line in run.stdout.splitlines()
              if line.startswith('{"type":"RECORD"')]
    assert stamps and all(stamp.endswith("Z") for stamp in stamps)
    times = [dt.datetime.fromisoformat(stamp.replace("Z", "+00:00")) for stamp in stamps]
    assert started <= min(times) and max(times) <= finished
    for stream in ("messages", "calls", "accounts"):
        emitted = [record_key(stream, r) for r in run.records[stream]]
        assert len(emitted) == len(set(emitted)), stream
        assert set(emitted) == {record_key(stream, r) for r in truth(emulator, stream)}
    last = json.loads(run.stdout.splitlines()[-1])
    assert last["type"] == "STATE"
    assert last["value"] == run.last_state


def test_deselected_properties_are_not_written(emulator) -> None:
    """A catalog that deselects properties gets RECORD (and SCHEMA) messages without them,
    and the same bookmarks as a run that selects every property."""
    config = {**emulator.config(), "page_size": 50}
    catalog = catalog_selecting(config, {"accounts", "messages"})
    entry = next(e for e in catalog["streams"] if e["tap_stream_id"] == "messages")
    for metadata in entry["metadata"]:
        if metadata["breadcrumb"] in (["properties", "body"], ["properties", "price"]):
            metadata["metadata"]["selected"] = False
    narrow = run_tap(config, catalog=catalog)
    full = run_tap(config, catalog=catalog_selecting(config, {"accounts", "messages"}))
    assert narrow.returncode == 0 and full.returncode == 0, narrow.stderr[-2000:]
    assert len(narrow.records["messages"]) == len(full.records["messages"]) > 0
    for record in narrow.records["messages"]:
        assert "body" not in record and "price" not in record
        assert record["sid"] and "date_created" in record
    assert any("body" in record for record in full.records["messages"])
    properties = narrow.schemas["messages"]["schema"]["properties"]
    assert "body" not in properties and "price" not in properties
    assert narrow.last_state == full.last_state


def test_write_records_writes_the_bytes_of_record_messages(monkeypatch: pytest.MonkeyPatch) -> None:
    """The page path's RECORD lines are those the SDK's writer makes of a RecordMessage."""
    raw_stdout = unbuffered_stdout(monkeypatch)
    writer = RecordBufferingWriter()
    record = {"sid": "SM1", "price": Decimal("-0.00750"), "num_media": 2,
              "body": "é \"quoted\"\n", "error_code": None}
    stamp = dt.datetime(2023, 11, 14, 22, 13, 20, 250000, tzinfo=dt.timezone.utc)
    later = stamp + dt.timedelta(seconds=1)
    calls = [  # the parts besides the record change from one call to the next, or do not
        ("messages", None, stamp), ("messages", None, stamp),
        ("messages", 1700000000000, stamp), ("messages", 1700000000000, later),
        ('my "alias"', 1700000000000, later), ("messages", None, stamp),
    ]
    for stream, version, extracted in calls:
        writer.write_records(stream, [record], version, extracted)
    writer.flush()
    expected = [RecordMessage(stream, record, version=version, time_extracted=extracted)
                for stream, version, extracted in calls]
    assert raw_stdout.data == expected_bytes(expected)


def test_other_messages_are_the_bytes_the_sdk_writes(monkeypatch: pytest.MonkeyPatch) -> None:
    """SCHEMA, STATE and the rest are encoded from the messages' own values, not from the
    SDK's deep copy of them: the lines are the same."""
    raw_stdout = unbuffered_stdout(monkeypatch)
    writer = RecordBufferingWriter()
    state = {"bookmarks": {"messages": {"partitions": [
        {"context": {"account_sid": f"AC{i:032x}"}, "replication_key": "date_sent",
         "replication_key_value": f"2026-0{1 + i % 9}-01T00:00:00+00:00", "empty": None}
        for i in range(30)]}}}
    items = [
        SchemaMessage("messages", {"properties": {"sid": {"type": ["string", "null"]}}},
                      ["sid"]),
        SchemaMessage("calls", {"properties": {}}, ["sid"], ["start_time"]),
        StateMessage(state),
        ActivateVersionMessage("messages", 1700000000000),
        StateMessage({}),
    ]
    for item in items:
        writer.write_message(item)
    writer.flush()
    assert raw_stdout.data == expected_bytes(items)


def test_a_state_is_written_again_only_when_it_changed(monkeypatch: pytest.MonkeyPatch) -> None:
    raw_stdout = unbuffered_stdout(monkeypatch)
    writer = RecordBufferingWriter()
    states = EncodedStateWriter(writer)
    state: dict[str, Any] = {"bookmarks": {"calls": {"partitions": [
        {"context": {"account_sid": "AC1"}, "replication_key_value": "2026-01-01"}]}}}
    states.write_state(state)
    states.write_state(state)  # unchanged: not written
    state["bookmarks"]["calls"]["partitions"][0]["replication_key_value"] = "2026-01-02"
    states.write_state(state)  # changed deep inside the same dict: written
    states.write_state(json.loads(json.dumps(state)))  # an equal copy: not written
    lines = [json.loads(line) for line in raw_stdout.data.splitlines()]
    assert [line["value"]["bookmarks"]["calls"]["partitions"][0]["replication_key_value"]
            for line in lines] == ["2026-01-01", "2026-01-02"]


def test_pages_written_whole_are_what_the_sdk_writes_record_by_record(emulator) -> None:
    """A plain sync writes each page at once (stream.TwilioStream.writes_pages); a stream map
    that changes nothing sends the same sync through the SDK's loop, one record at a time.
    Both give the same records (pages of parallel slices arrive in any order) and the same
    bookmarks."""
    config = {**emulator.config(), "page_size": 50, "start_date": "2000-01-01"}
    catalog = catalog_selecting(config, {"accounts", "messages", "calls"})
    by_page = run_tap(config, catalog=catalog)
    mapped = {"stream_maps": {"messages": {}, "calls": {}, "accounts": {}}}
    by_record = run_tap({**config, **mapped}, catalog=catalog)
    assert by_page.returncode == 0 and by_record.returncode == 0, by_record.stderr[-2000:]
    for stream in ("accounts", "messages", "calls"):
        def in_key_order(run: Any, stream: str = stream) -> list[dict]:
            return sorted(run.records[stream], key=lambda r: record_key(stream, r))
        assert by_page.records[stream], stream
        assert in_key_order(by_page) == in_key_order(by_record), stream
    assert by_page.last_state == by_record.last_state
    assert by_page.last_state["bookmarks"]["messages"]["partitions"]


def test_a_schema_is_written_again_only_when_it_changed(monkeypatch: pytest.MonkeyPatch) -> None:
    raw_stdout = unbuffered_stdout(monkeypatch)
    writer = RecordBufferingWriter()
    narrow = SchemaMessage("message_media", {"properties": {"sid": {"type": "string"}}}, ["sid"])
    wide = SchemaMessage("message_media", {"properties": {"sid": {"type": "string"},
                                                          "uri": {"type": "string"}}}, ["sid"])
    other = SchemaMessage("messages", {"properties": {"sid": {"type": "string"}}}, ["sid"])
    record = RecordMessage("message_media", {"sid": "ME1"})
    for item in (narrow, record, narrow, record, other, narrow, wide, record, wide, narrow):
        writer.write_message(item)
    writer.flush()
    assert raw_stdout.data == expected_bytes(
        [narrow, record, record, other, wide, record, narrow])


def message_types(run: TapRun) -> list[tuple[str, str | None]]:
    """(type, stream) of each line of a run's stdout, in order."""
    lines = [json.loads(line) for line in run.stdout.splitlines() if line.strip()]
    return [(line["type"], line.get("stream")) for line in lines]


def test_each_stream_schema_is_written_once_and_its_records_validate(run_at_50_a_page) -> None:
    """Per-account streams (3 accounts) and message_media (one list per message with media)
    still give one SCHEMA line per stream, before its first RECORD, and every RECORD is
    valid against it."""
    run = run_at_50_a_page
    assert run.returncode == 0, run.stderr[-2000:]
    types = message_types(run)
    schemas = [stream for kind, stream in types if kind == "SCHEMA"]
    assert sorted(schemas) == sorted(DEFAULT_STREAM_NAMES)
    assert len({r["account_sid"] for r in run.records["messages"]}) == 3
    assert len({r["parent_sid"] for r in run.records["message_media"]}) > 3
    for stream in DEFAULT_STREAM_NAMES:
        assert types.index(("SCHEMA", stream)) < types.index(("RECORD", stream)), stream
        validator = Draft7Validator(run.schemas[stream]["schema"],
                                    format_checker=FormatChecker())
        for record in run.records[stream]:
            assert not [e.message for e in validator.iter_errors(record)], (stream, record)


INCREMENTAL = [cls.name for cls in STREAM_TYPES if cls.replication_key]


def assert_ends_with_a_state_covering_the_run(run: TapRun) -> None:
    """The last line is a STATE whose bookmarks reach each account's latest record."""
    assert run.returncode == 0, run.stderr[-2000:]
    types = message_types(run)
    assert types[-1] == ("STATE", None), types[-5:]
    bookmarks = run.last_state["bookmarks"]
    for stream in INCREMENTAL:
        key = next(cls.replication_key for cls in STREAM_TYPES if cls.name == stream)
        for record in run.records[stream]:
            if record.get(key) is None:
                continue
            entry = bookmarks[stream]
            if "partitions" in entry:
                entry = next(p for p in entry["partitions"]
                             if p["context"]["account_sid"] == record["account_sid"])
            assert entry["replication_key_value"] >= record[key], (stream, record)


def test_every_run_ends_with_a_state_fresh_and_resumed(emulator, run_at_50_a_page) -> None:
    """A fresh run, a run resumed from the last line of the one before (as
    `... | target-jsonl | tail -1` keeps it), and the one after that: each ends with a
    STATE after its last RECORD, also when the last stream only re-read records its
    bookmark already covers (alerts, read back `lookback_days`)."""
    config = {**emulator.config(), "page_size": 50}
    fresh = run_at_50_a_page
    assert_ends_with_a_state_covering_the_run(fresh)
    resumed = run_tap(config, state=fresh.last_state)
    assert_ends_with_a_state_covering_the_run(resumed)
    assert resumed.records["alerts"], "the last stream re-reads records, so it writes some"
    assert resumed.last_state["bookmarks"]["alerts"] == fresh.last_state["bookmarks"]["alerts"]
    again = run_tap(config, state=resumed.last_state)
    assert_ends_with_a_state_covering_the_run(again)
    assert again.last_state == resumed.last_state


def test_a_run_whose_last_stream_writes_records_ends_with_a_state(emulator) -> None:
    """Only the last stream (alerts) selected, resumed from its own bookmark: its records
    change no bookmark, and still a STATE comes after them."""
    config = {**emulator.config(), "page_size": 10}
    catalog = catalog_selecting(config, {"alerts"})
    first = run_tap(config, catalog=catalog)
    assert_ends_with_a_state_covering_the_run(first)
    second = run_tap(config, catalog=catalog, state=first.last_state)
    assert_ends_with_a_state_covering_the_run(second)
    types = message_types(second)
    assert ("RECORD", "alerts") in types
    assert second.last_state == first.last_state


def test_the_page_path_does_per_page_what_the_sdk_loop_does_per_record(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each page's records converted, given the partition's keys they lack, written, counted;
    the bookmark given the page's latest dated record only; a STATE every `state_every`."""
    from tap_twilio.output.writer import PageOutput

    raw_stdout = unbuffered_stdout(monkeypatch)
    writer = RecordBufferingWriter()
    bookmarks: list[dict] = []
    counted: list[int] = []
    states: list[int] = []
    output = PageOutput(
        writer=writer, transform=lambda row: {**row, "seen": True}, stream="calls",
        version=None, partition_keys={"account_sid": "AC1"}, bookmark_key="start_time",
        keeps_greatest=True, advance_bookmark=bookmarks.append,
        records_written=counted.append, write_state=lambda: states.append(len(counted)),
        state_every=3,
    )
    stamp = dt.datetime(2026, 1, 2, tzinfo=dt.timezone.utc)
    pages = [
        [{"sid": "CA1", "start_time": "2026-01-01T10:00:00+00:00"},
         {"sid": "CA2", "start_time": "2026-01-01T12:00:00+00:00", "account_sid": "AC2"}],
        [{"sid": "CA3", "start_time": None}, {"sid": "CA4", "start_time": None}],
        [{"sid": "CA5", "start_time": "2026-01-01T11:00:00+00:00"}],
    ]
    output.write((page, stamp) for page in pages)
    writer.flush()
    records = [json.loads(line)["record"] for line in raw_stdout.data.splitlines()]
    assert [record["sid"] for record in records] == ["CA1", "CA2", "CA3", "CA4", "CA5"]
    assert [record["account_sid"] for record in records] == ["AC1", "AC2", "AC1", "AC1", "AC1"]
    assert all(record["seen"] for record in records)
    assert [record["sid"] for record in bookmarks] == ["CA2", "CA5"]  # no date on page 2
    assert counted == [2, 2, 1]
    assert states == [2]  # after the 3rd record (its page ends at the 4th), not again at 5
