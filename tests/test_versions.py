"""ACTIVATE_VERSION (`emit_activate_version_messages`): only for streams a run reads whole.

A target that honours ACTIVATE_VERSION drops or marks every row of an older version, so a
version announced for a stream the run read only in part would delete real rows: the media
of messages outside an incremental window, another shard's accounts. These tests read the
tap's real output (a subprocess against the emulator).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tap_twilio.settings import in_account_shard
from tests.emulator import Emulator
from tests.tap_runner import TapRun, catalog_selecting, run_tap

# Lists read whole by a plain run: full table, under the accounts or a full-table parent.
WHOLE_TOP_LEVEL = {"incoming_phone_numbers", "addresses", "keys", "studio_flows",
                   "conversations_services"}
WHOLE_CHILDREN = {"taskrouter_workers"}  # of taskrouter_workspaces, a full-table list
INCREMENTAL = {"messages", "calls", "conferences", "recordings", "studio_executions"}
CHILDREN_OF_INCREMENTAL = {"message_media", "conference_participants"}


def messages(run: TapRun) -> list[dict[str, Any]]:
    return [json.loads(line) for line in run.stdout.splitlines() if line.strip()]


def announced(run: TapRun) -> dict[str, int]:
    return {m["stream"]: m["version"] for m in messages(run) if m["type"] == "ACTIVATE_VERSION"}


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    with Emulator(seed=26, subaccounts=2, sizes={"messages": 12, "conferences": 4}) as e:
        yield e


@pytest.fixture(scope="module")
def plain(emu: Emulator) -> TapRun:
    run = run_tap(emu.config(emit_activate_version_messages=True))
    assert run.returncode == 0, run.stderr[-3000:]
    return run


def test_whole_table_lists_are_announced(plain: TapRun) -> None:
    assert set(announced(plain)) >= WHOLE_TOP_LEVEL


def test_children_of_whole_lists_are_announced(plain: TapRun) -> None:
    assert set(announced(plain)) >= WHOLE_CHILDREN


def test_incremental_streams_are_not_announced(plain: TapRun) -> None:
    assert set(plain.records) >= INCREMENTAL  # read, with records
    assert INCREMENTAL.isdisjoint(announced(plain))


def test_children_of_incremental_parents_are_not_announced(plain: TapRun) -> None:
    assert set(plain.records) >= CHILDREN_OF_INCREMENTAL
    assert CHILDREN_OF_INCREMENTAL.isdisjoint(announced(plain))


def test_records_carry_the_version_and_the_announcement_follows_them(plain: TapRun) -> None:
    lines = messages(plain)
    version = announced(plain)["incoming_phone_numbers"]
    records = [i for i, m in enumerate(lines)
               if m["type"] == "RECORD" and m["stream"] == "incoming_phone_numbers"]
    activate = next(i for i, m in enumerate(lines) if m["type"] == "ACTIVATE_VERSION"
                    and m["stream"] == "incoming_phone_numbers")
    assert records and {lines[i].get("version") for i in records} == {version}
    assert activate > records[-1]


def test_nothing_is_announced_without_the_setting(emu: Emulator) -> None:
    config = emu.config()
    run = run_tap(config, catalog=catalog_selecting(config, {"incoming_phone_numbers"}))
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.records["incoming_phone_numbers"]
    assert announced(run) == {}
    assert all("version" not in m for m in messages(run) if m["type"] == "RECORD")


def some_accounts(emu: Emulator, setting: str) -> Any:
    """A value of the setting that reads only some of the emulator's accounts."""
    main = emu.truth("accounts", emu.account_sid)[0]
    return {"account_sids": [emu.account_sid], "account_name": main["friendly_name"],
            "account_shard": shard_of(emu.account_sid), "include_subaccounts": False}[setting]


def shard_of(account_sid: str) -> str:
    """The shard of two that holds the account (so the run reads at least one)."""
    return next(shard for shard in ("1/2", "2/2")
                if in_account_shard({"account_shard": shard}, account_sid))


@pytest.mark.parametrize("setting", ["account_sids", "account_name", "account_shard",
                                     "include_subaccounts"])
def test_a_run_over_some_accounts_announces_nothing_and_says_why(
        emu: Emulator, setting: str) -> None:
    config = emu.config(emit_activate_version_messages=True,
                        **{setting: some_accounts(emu, setting)})
    run = run_tap(config, catalog=catalog_selecting(config, {"accounts", "addresses"}))
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.records["accounts"]
    assert announced(run) == {}
    said = [line for line in run.stderr.splitlines() if "ACTIVATE_VERSION is not written" in line]
    assert len(said) == 1 and f"`{setting}`" in said[0]


def test_a_list_skipped_for_an_account_is_not_announced(emu: Emulator) -> None:
    with Emulator(seed=27, subaccounts=1) as other:
        other.mark_unused("studio.twilio.com", other.subaccount_sids[0])
        config = other.config(emit_activate_version_messages=True)
        run = run_tap(config, catalog=catalog_selecting(
            config, {"studio_flows", "incoming_phone_numbers"}))
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.records["studio_flows"]
    assert set(announced(run)) == {"incoming_phone_numbers"}
