"""Every stream read once through the CLI, checked as the SDK's standard tap tests mean to be.

The SDK's generic suite (``singer_sdk.testing.get_tap_test_class``) is not run: in singer-sdk
0.54.9 several of its tests cannot fail for what they are named for (the catalog-schema test
only warns, the primary-key test compares a set of generator objects, the final-state test
looks for progress markers a run never writes). These are the project's own: one run of every
stream against the emulator, then per stream: records were read, their primary keys are
unique, every record matches the stream's schema (JSON Schema draft 7, formats checked), and
the final state is well formed.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from jsonschema import Draft7Validator

from tap_twilio.streams import STREAM_TYPES, TABLE
from tests.emulator import Emulator
from tests.emulator.table import LEGACY_STREAMS
from tests.emulator.values import parse_record_ts
from tests.tap_lists import list_sizes
from tests.tap_runner import TapRun, catalog_selecting, run_tap
from tests.test_transform import FORMAT_CHECKER

NAMES = sorted(cls.name for cls in STREAM_TYPES)
KEYS = {cls.name: tuple(cls.primary_keys) for cls in STREAM_TYPES}
INCREMENTAL = {row["name"] for row in TABLE if row["replication_key"]}
SIZES = {"calls": 4, "messages": 4, "conferences": 3, "notifications": 2, "alerts": 3,
         "recordings": 2, "transcriptions": 2, "queues": 2, "addresses": 2, "applications": 2,
         "keys": 2, "incoming_phone_numbers": 2, "outgoing_caller_ids": 2, "usage_triggers": 2}


@pytest.fixture(scope="module")
def every_stream() -> Iterator[tuple[Emulator, TapRun]]:
    platform = list_sizes({row["name"]: 2 for row in TABLE if row["name"] not in LEGACY_STREAMS})
    with Emulator(seed=5, subaccounts=1, sizes=SIZES, platform_sizes=platform) as emu:
        config = emu.config(page_size=3)
        run = run_tap(config, catalog=catalog_selecting(config, set(NAMES)))
        assert run.returncode == 0, run.stderr[-3000:]
        yield emu, run


@pytest.mark.parametrize("stream", NAMES)
def test_records_are_read_with_unique_primary_keys(every_stream, stream: str) -> None:
    _, run = every_stream
    records = run.records[stream]
    assert records, f"{stream}: no record read"
    keys = [tuple(r.get(k) for k in KEYS[stream]) for r in records]
    assert all(None not in key for key in keys), f"{stream}: a primary key field is missing"
    assert len(set(keys)) == len(keys), f"{stream}: records share a primary key"


@pytest.mark.parametrize("stream", NAMES)
def test_every_record_matches_the_stream_s_schema(every_stream, stream: str) -> None:
    _, run = every_stream
    schema = run.schemas[stream]["schema"]
    validator = Draft7Validator(schema, format_checker=FORMAT_CHECKER)
    records = run.records[stream]
    assert records, f"{stream}: no record read"
    for record in records:
        errors = [f"{'/'.join(map(str, e.path))}: {e.message}"
                  for e in validator.iter_errors(record)]
        assert not errors, (stream, errors[:3])
        assert set(record) <= set(schema["properties"]), set(record) - set(schema["properties"])


def bookmarks_of(state: dict[str, Any], stream: str) -> list[dict[str, Any]]:
    """A stream's bookmarks: one per partition (an account, or a parent record)."""
    entry = state["bookmarks"].get(stream) or {}
    return [*entry.get("partitions", []), *([entry] if "replication_key" in entry else [])]


def test_the_final_state_is_well_formed(every_stream) -> None:
    """Every incremental stream read has bookmarks, each on the stream's replication key with
    its partition's context and no progress markers left, the newest of them the newest
    record read (the tap bookmarks what it read)."""
    _, run = every_stream
    state = run.last_state
    assert state is not None and set(state) == {"bookmarks"}
    read = sorted(s for s in INCREMENTAL if run.records[s])
    assert len(read) >= 10
    for stream in read:
        marks = bookmarks_of(state, stream)
        assert marks, f"{stream}: no bookmark"
        key = run.schemas[stream]["bookmark_properties"][0]
        newest = max(parse_record_ts(r.get(key)) or 0 for r in run.records[stream])
        for mark in marks:
            assert isinstance(mark.get("context", {}), dict), (stream, mark)
            assert "progress_markers" not in mark, (stream, mark)
            if "replication_key_value" in mark:
                assert mark["replication_key"] == key, (stream, mark)
        values = [parse_record_ts(m["replication_key_value"]) for m in marks
                  if m.get("replication_key_value")]
        assert values and max(values) == newest, (stream, marks)
