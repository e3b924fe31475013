"""`account_shard`: N runs, each with one shard `K/N` of the accounts, together read what
one full run reads, each account in exactly one of them, each with a state of its own.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter

import pytest

from tests.emulator import Emulator
from tests.tap_runner import TapRun, run_tap

SHARDS = 3
SIZES = {"calls": 30, "messages": 30, "conferences": 4, "notifications": 8, "recordings": 5,
         "alerts": 6}


def documented_shard(account_sid: str, count: int) -> int:
    """README's rule: the first 8 bytes of the SHA-256 of the SID, modulo N, plus 1."""
    digest = hashlib.sha256(account_sid.encode()).digest()
    return int.from_bytes(digest[:8], "big") % count + 1


def account_of(stream: str, record: dict) -> str:
    return record["sid"] if stream == "accounts" else record["account_sid"]


def lines(run: TapRun) -> Counter:
    """Every record of a run, as (stream, JSON) with its count."""
    return Counter((stream, json.dumps(record, sort_keys=True, default=str))
                   for stream, records in run.records.items() for record in records)


def partitions(state: dict) -> dict[str, list[dict]]:
    """Each stream's per-account state entries."""
    return {stream: entry["partitions"]
            for stream, entry in state["bookmarks"].items() if "partitions" in entry}


@pytest.fixture(scope="module")
def runs():
    """A full run, then one run per shard; and which accounts each run asked Twilio about."""
    with Emulator(seed=43, subaccounts=7, sizes=SIZES, account_ages_days=[20] * 8) as emu:
        full = run_tap(emu.config())
        shards, asked = {}, {}
        for shard in range(1, SHARDS + 1):
            emu.clear_requests()
            shards[shard] = run_tap(emu.config(account_shard=f"{shard}/{SHARDS}"))
            asked[shard] = {r.account_sid for r in emu.requests if r.account_sid}
        yield emu, full, shards, asked


def test_the_shards_together_read_what_one_full_run_reads(runs) -> None:
    emu, full, shards, _ = runs
    assert full.returncode == 0, full.stderr[-2000:]
    for run in shards.values():
        assert run.returncode == 0, run.stderr[-2000:]
    assert sum((lines(run) for run in shards.values()), Counter()) == lines(full)
    everyone = {emu.account_sid, *emu.subaccount_sids}
    assert {r["sid"] for r in full.records["accounts"]} == everyone


def test_each_account_is_in_exactly_one_shard_by_the_documented_hash(runs) -> None:
    emu, _, shards, asked = runs
    everyone = [emu.account_sid, *emu.subaccount_sids]
    for shard, run in shards.items():
        mine = {sid for sid in everyone if documented_shard(sid, SHARDS) == shard}
        assert {r["sid"] for r in run.records["accounts"]} == mine
        for stream, records in run.records.items():
            assert {account_of(stream, r) for r in records} <= mine, stream
        assert asked[shard] <= mine  # no other account's list was even asked for
    assert all(asked.values()), "a shard with no account: the split was not tested"
    for one, other in [(1, 2), (1, 3), (2, 3)]:
        assert not asked[one] & asked[other]


def test_each_shards_state_holds_only_its_accounts(runs) -> None:
    _, full, shards, _ = runs
    merged: dict[str, list[dict]] = {}
    for shard, run in shards.items():
        for stream, entries in partitions(run.last_state).items():
            accounts = {entry["context"]["account_sid"] for entry in entries}
            assert {documented_shard(sid, SHARDS) for sid in accounts} <= {shard}, stream
            merged.setdefault(stream, []).extend(entries)
    expected = partitions(full.last_state)
    assert set(merged) == set(expected)
    for stream, entries in expected.items():
        def by_account(entry: dict) -> str:
            return entry["context"]["account_sid"]
        assert sorted(merged[stream], key=by_account) == sorted(entries, key=by_account)
    # Monitor alerts are read per account (with each account's own credentials), in the
    # shard of their account like every other list.
    for shard, run in shards.items():
        owners = {record["account_sid"] for record in run.records["alerts"]}
        assert {documented_shard(sid, SHARDS) for sid in owners} <= {shard}
    assert sum(len(run.records["alerts"]) for run in shards.values()) == len(
        full.records["alerts"])


def test_accounts_named_by_account_sids_are_sharded_too(runs) -> None:
    emu = runs[0]
    elsewhere = next(sid for sid in emu.subaccount_sids if documented_shard(sid, SHARDS) != 1)
    run = run_tap(emu.config(account_sids=[elsewhere], account_shard=f"1/{SHARDS}"))
    # Named and listed, so not "missing"; in another shard, so not read here.
    assert run.returncode == 0, run.stderr[-2000:]
    assert not run.records["accounts"] and not run.records["messages"]
    home = documented_shard(elsewhere, SHARDS)
    run = run_tap(emu.config(account_sids=[elsewhere], account_shard=f"{home}/{SHARDS}"))
    assert run.returncode == 0, run.stderr[-2000:]
    assert [r["sid"] for r in run.records["accounts"]] == [elsewhere]
    assert {r["account_sid"] for r in run.records["messages"]} == {elsewhere}
