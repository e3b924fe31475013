"""Twilio's platform: every stream of the generated table, read through the tap, complete.

The emulator serves each list of Twilio's newer APIs on its own host (through one base URL),
pages them with `meta.next_page_url`, and, as Twilio does, serves an account's data only to
that account's own credentials. Every list here spans at least two pages.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tap_twilio.hosts import Hosts
from tap_twilio.streams import STREAM_TYPES, TABLE
from tests.emulator import Emulator
from tests.emulator.table import LEGACY_STREAMS
from tests.tap_runner import REPO, TapRun, catalog_selecting, run_tap

PLATFORM = sorted(row["name"] for row in TABLE if row["name"] not in LEGACY_STREAMS)
NEWER_API = {row["name"] for row in TABLE if row["family"] == "meta"}
KEYS = {cls.name: tuple(cls.primary_keys) for cls in STREAM_TYPES}
PAGE = 2
SIZES = {"calls": 3, "messages": 3, "conferences": 2, "notifications": 2, "alerts": 3,
         "recordings": 3}  # each recording is the parent of add-on results and their payloads


def added_by_the_tap(stream: str) -> set[str]:
    """Fields the records get from the context they were read in (Twilio's lack them)."""
    schema = json.loads((REPO / "tap_twilio" / "schemas" / f"{stream}.json").read_text())
    properties = schema["properties"]
    return {name for name, prop in properties.items()
            if "(added by the tap)" in prop.get("description", "")}


ADDED = {stream: added_by_the_tap(stream) for stream in PLATFORM}


def key(stream: str, record: dict[str, Any]) -> tuple:
    """A record's account and primary key, less what the tap adds (compared with what the
    emulator lists, which lacks it)."""
    return (record.get("account_sid"),
            *(record.get(k) for k in KEYS[stream] if k not in ADDED[stream]))


@pytest.fixture(scope="module")
def platform() -> Iterator[tuple[Emulator, TapRun]]:
    sizes = dict.fromkeys(PLATFORM, PAGE + 1)  # two pages per list
    with Emulator(seed=41, subaccounts=1, sizes=SIZES, platform_sizes=sizes,
                  platform_subaccount_sizes=[dict.fromkeys(PLATFORM, PAGE + 1)]) as emu:
        config = emu.config(page_size=PAGE)
        run = run_tap(config, catalog=catalog_selecting(config, set(PLATFORM)))
        assert run.returncode == 0, run.stderr[-3000:]
        yield emu, run


@pytest.mark.parametrize("stream", PLATFORM)
def test_every_stream_is_complete_for_every_account(platform, stream: str) -> None:
    emu, run = platform
    accounts = [emu.account_sid, *emu.subaccount_sids]
    expected = []
    for account in accounts:
        listed = emu.platform_truth(stream, account)
        expected += [key(stream, {"account_sid": account, **r}) for r in listed]
    emitted = [key(stream, r) for r in run.records[stream]]
    unique = {(r["account_sid"], *(r.get(k) for k in KEYS[stream]))
              for r in run.records[stream]}
    assert expected, stream
    assert len(unique) == len(emitted), f"{stream}: a record emitted twice"
    assert sorted(emitted, key=str) == sorted(expected, key=str)
    assert {r["account_sid"] for r in run.records[stream]} == set(accounts)


def test_the_newer_apis_are_asked_with_each_account_s_own_credentials(platform) -> None:
    emu, run = platform
    newer = [r for r in emu.requests if r.resource in NEWER_API]
    assert {r.account_sid for r in newer} == {emu.account_sid, *emu.subaccount_sids}
    assert all(r.auth_user == r.account_sid for r in newer)
    # a list of three records at two a page: its second page came from `next_page_url`
    assert any(r.query.get("PageToken") for r in newer)
    tokens = {emu.auth_tokens[sid] for sid in emu.subaccount_sids}
    assert not any(token in run.stdout or token in run.stderr for token in tokens)


def test_an_api_key_reads_the_newer_apis_for_its_own_account_and_says_so_once() -> None:
    with Emulator(seed=42, subaccounts=1, sizes=SIZES) as emu:
        config = emu.config(api_key_sid=emu.api_key_sid, api_key_secret=emu.api_key_secret)
        del config["auth_token"]
        run = run_tap(config, catalog=catalog_selecting(config, {"studio_flows", "messages"}))
        assert run.returncode == 0, run.stderr[-3000:]
        assert {r["account_sid"] for r in run.records["studio_flows"]} == {emu.account_sid}
        assert {r["account_sid"] for r in run.records["messages"]} == {
            emu.account_sid, *emu.subaccount_sids}  # the 2010 API serves subaccounts to it
        assert run.stderr.count("only the key's own account is read") == 1


def test_a_product_an_account_does_not_use_is_skipped_with_one_warning() -> None:
    with Emulator(seed=43, subaccounts=2, sizes=SIZES,
                  unused_products={"studio.twilio.com": "all"}) as emu:
        config = emu.config()
        run = run_tap(config, catalog=catalog_selecting(config, {"studio_flows",
                                                                 "verify_services"}))
        assert run.returncode == 0, run.stderr[-3000:]
        warnings = [line for line in run.stderr.splitlines()
                    if "WARNING" in line and "studio_flows: skipped" in line]
        assert len(warnings) == 1  # three accounts, one warning
        assert not run.records["studio_flows"]
        assert len({r["account_sid"] for r in run.records["verify_services"]}) == 3


def test_region_edge_and_one_base_url_place_every_host() -> None:
    assert Hosts().url("studio.twilio.com") == "https://studio.twilio.com"
    assert Hosts(region="ie1", edge="dublin").host("api.twilio.com") == \
        "api.dublin.ie1.twilio.com"
    assert Hosts(edge="sydney").host("flex-api.twilio.com") == "flex-api.sydney.us1.twilio.com"
    assert Hosts(region="au1").host("studio.twilio.com") == "studio.au1.twilio.com"
    proxy = Hosts(base_url="http://127.0.0.1:8080")
    assert proxy.url("studio.twilio.com") == "http://127.0.0.1:8080/studio.twilio.com"
    # the absolute links Twilio returns are followed through the base URL too
    assert proxy.follow("https://studio.twilio.com/v2/Flows?PageSize=2&Page=1") == \
        "http://127.0.0.1:8080/studio.twilio.com/v2/Flows?PageSize=2&Page=1"
    assert proxy.follow("http://127.0.0.1:8080/v1/Alerts?Page=1") == \
        "http://127.0.0.1:8080/v1/Alerts?Page=1"
