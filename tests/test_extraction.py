"""Every stream, every record: the tap against the emulator over HTTP, several page sizes."""

from __future__ import annotations

import pytest

from tap_twilio.streams import STREAM_NAMES
from tests.tap_runner import catalog_selecting, record_key, run_tap, truth

# Streams the emulator serves per account, and how a record is identified.
PER_ACCOUNT = ["calls", "messages", "conferences", "notifications", "recordings",
               "transcriptions", "incoming_phone_numbers", "outgoing_caller_ids", "addresses",
               "applications", "keys", "queues", "usage_triggers"]


@pytest.fixture(scope="module")
def full_runs(emulator, default_run, run_at_50_a_page) -> dict:
    """One full extraction per page size: 1000 (the default) and 50 (the session's plain
    runs), and 7 with only the streams its tests check (read at 7 a page, each account's daily
    usage records alone would be two thousand requests)."""
    checked = catalog_selecting(emulator.config(), {*PER_ACCOUNT, "accounts", "alerts"})
    return {
        1000: default_run,
        50: run_at_50_a_page,
        7: run_tap({**emulator.config(), "page_size": 7}, catalog=checked),
    }


@pytest.mark.parametrize("page_size", [1000, 50, 7])
@pytest.mark.parametrize("stream", [*PER_ACCOUNT, "accounts", "alerts"])
def test_every_listed_record_is_emitted_once(emulator, full_runs, page_size, stream) -> None:
    run = full_runs[page_size]
    assert run.returncode == 0, run.stderr[-2000:]
    listed = truth(emulator, stream)
    emitted = [record_key(stream, r) for r in run.records[stream]]
    assert len(emitted) == len(set(emitted)), f"{stream}: a record was emitted twice"
    assert set(emitted) == {record_key(stream, r) for r in listed}
    assert len(listed) > 0


def test_children_and_single_objects_are_complete(emulator, full_runs) -> None:
    run = full_runs[50]
    for stream in ("conference_participants", "message_media", "usage_records",
                   "account_balance"):
        listed = truth(emulator, stream)
        assert listed, stream
        emitted = [record_key(stream, r) for r in run.records[stream]]
        assert sorted(emitted) == sorted(record_key(stream, r) for r in listed), stream


def test_each_account_scoped_record_carries_its_account(emulator, full_runs) -> None:
    run = full_runs[1000]
    accounts = {emulator.account_sid, *emulator.subaccount_sids}
    for stream in [*PER_ACCOUNT, "usage_records", "account_balance", "message_media"]:
        seen = {r["account_sid"] for r in run.records[stream]}
        assert seen <= accounts, stream
    assert {r["account_sid"] for r in run.records["messages"]} == accounts


def test_every_stream_is_discovered(emulator) -> None:
    import json

    run = run_tap(emulator.config(), args=("--discover",))
    assert run.returncode == 0
    streams = {s["tap_stream_id"] for s in json.loads(run.stdout)["streams"]}
    assert streams == set(STREAM_NAMES)
    assert {"accounts", "calls", "conferences", "notifications", "messages",
            "usage_records"} <= streams


