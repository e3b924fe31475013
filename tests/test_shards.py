"""`account_shard`: N runs, each with one shard `K/N` of the accounts, together read what
one full run reads, each account in exactly one of them, each with a state of its own; under
Meltano, the N runs at once in one project (`meltano el --state-id`, as README shows), each
resuming from its own state.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import subprocess
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.emulator import Emulator
from tests.tap_runner import TapRun, record_key, run_tap
from tests.test_targets import MELTANO_SYS_DIR, e2e, meltano, meltano_command, meltano_env

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


# --- under Meltano: the shards at once in one project -----------------------------------------


@pytest.fixture(scope="module")
def meltano_project(tmp_path_factory) -> Iterator[Path]:
    """`meltano install tap-twilio target-jsonl` in this checkout's project (plugins in the
    tests' own .meltano/tests/, under the lock tests/test_targets.py takes too)."""
    workdir = tmp_path_factory.mktemp("meltano-shards")
    MELTANO_SYS_DIR.mkdir(parents=True, exist_ok=True)
    with (MELTANO_SYS_DIR / "lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            meltano(["install", "tap-twilio", "target-jsonl"], meltano_env(workdir),
                    workdir / "install.log", timeout=900)
            yield workdir
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def state_id(shard: int) -> str:
    return f"tap-twilio-shard-{shard}-of-{SHARDS}"


def run_shards_at_once(emu: Emulator, workdir: Path, name: str) -> dict[int, Path]:
    """`meltano el tap-twilio target-jsonl --state-id=tap-twilio-shard-K-of-N` for every K,
    all started at once in one project; each shard's output folder."""
    outputs, started = {}, []
    for shard in range(1, SHARDS + 1):
        outputs[shard] = workdir / name / f"shard-{shard}"
        outputs[shard].mkdir(parents=True)
        env = meltano_env(workdir, emu, TAP_TWILIO_ACCOUNT_SHARD=f"{shard}/{SHARDS}",
                          TARGET_JSONL_DESTINATION_PATH=str(outputs[shard]))
        log = workdir / f"{name}-shard-{shard}.log"
        with log.open("w") as out:
            started.append((log, subprocess.Popen(
                [*meltano_command(), "el", "tap-twilio", "target-jsonl",
                 f"--state-id={state_id(shard)}"],
                cwd=Path(__file__).resolve().parent.parent, env=env, stdout=out,
                stderr=subprocess.STDOUT)))
    for log, process in started:
        assert process.wait(timeout=600) == 0, log.read_text()[-4000:]
    return outputs


def written(folder: Path) -> dict[str, list[dict]]:
    """The records target-jsonl wrote, per stream."""
    return {path.stem: [json.loads(line) for line in path.read_text().splitlines() if line]
            for path in folder.glob("*.jsonl")}


def meltano_state(workdir: Path, emu: Emulator, shard: int) -> dict:
    log = workdir / f"state-{shard}.log"
    completed = meltano(["state", "get", state_id(shard)], meltano_env(workdir, emu), log)
    assert completed.returncode == 0
    text = log.read_text()
    return json.loads(text[text.index("{"):])["singer_state"]


@e2e
def test_shards_at_once_under_meltano_read_one_run_each_resuming_from_its_own_state(
    runs, meltano_project,
) -> None:
    emu, full, _, _ = runs
    assert full.returncode == 0, full.stderr[-2000:]
    everyone = {emu.account_sid, *emu.subaccount_sids}
    home = {sid: documented_shard(sid, SHARDS) for sid in everyone}

    emu.clear_requests()
    emu.latency = 0.1  # each shard's reading lasts longer than Meltano's start-up differs
    try:
        first = {shard: written(folder)
                 for shard, folder in run_shards_at_once(emu, meltano_project, "first").items()}
    finally:
        emu.latency = 0.0
    # At once: each shard's lists were read while the others' were.
    spans = {}
    for shard in first:
        times = [r.started for r in emu.requests
                 if r.account_sid in home and home[r.account_sid] == shard]
        assert times, shard
        spans[shard] = (min(times), max(times))
    assert max(start for start, _ in spans.values()) < min(end for _, end in spans.values())
    # Together, one run: every record of the full run once (no account in two shards).
    for stream, records in full.records.items():
        keys = Counter(record_key(stream, r) for shard in first.values()
                       for r in shard.get(stream, []))
        assert keys == Counter(record_key(stream, r) for r in records), stream
    for shard, streams in first.items():
        assert {r["sid"] for r in streams["accounts"]} == {
            sid for sid in everyone if home[sid] == shard}
        for stream, records in streams.items():
            assert {home[account_of(stream, r)] for r in records} <= {shard}, stream

    # Each shard's own state ID holds the bookmarks of its own accounts.
    for shard in first:
        state = meltano_state(meltano_project, emu, shard)
        booked = {p["context"]["account_sid"] for p in state["bookmarks"]["messages"]["partitions"]}
        assert booked and {home[sid] for sid in booked} == {shard}

    # Again at once: each resumes from its own state (a shard given another's state, or
    # none, would read its accounts' messages in full).
    again = {shard: written(folder)
             for shard, folder in run_shards_at_once(emu, meltano_project, "again").items()}
    for shard, streams in again.items():
        messages = streams.get("messages", [])
        assert {home[r["account_sid"]] for r in messages} <= {shard}
        assert len(messages) < len(first[shard]["messages"]) / 2, shard
