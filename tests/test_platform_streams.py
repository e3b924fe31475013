"""Twilio's platform: every stream of the generated table, read through the tap, complete and
true to the specs.

The emulator serves each list as Twilio's specs describe it (``tests/emulator/lists.json``, made
from the specs alone): on its own host (through one base URL), paged with `meta.next_page_url`
or the 2010 API's `next_page_uri`, its records typed as the spec says, and, as Twilio does, an
account's data only for that account's own credentials. Every list here spans two pages. A
wrong host, path, list key, paging family or field type in the tap's table makes the stream's
records differ from the emulator's.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from tap_twilio.hosts import Hosts
from tap_twilio.streams import STREAM_TYPES, TABLE
from tests.emulator import Emulator
from tests.emulator.table import LEGACY_STREAMS, load_streams
from tests.emulator.values import DAY, parse_record_ts
from tests.tap_lists import LIST_OF, list_sizes
from tests.tap_runner import REPO, TapRun, catalog_selecting, run_tap

PLATFORM = sorted(row["name"] for row in TABLE if row["name"] not in LEGACY_STREAMS)
NEWER_API = {LIST_OF[row["name"]] for row in TABLE if row["family"] == "meta"}
KEYS = {cls.name: tuple(cls.primary_keys) for cls in STREAM_TYPES}
PAGE = 2
# fields the tap leaves out on purpose (README: secrets never reach a warehouse)
DROPPED = {("serverless_variables", "value")}
SIZES = {"calls": 3, "messages": 3, "conferences": 2, "notifications": 2, "alerts": 3,
         "recordings": 3}  # each recording is the parent of add-on results and their payloads


def lower_bound(name: str | None) -> str | None:
    """The record time the specs let a request bound from below (the emulator's reading)."""
    listed = load_streams().get(name or "")
    lower = [f["field"] for f in listed.date_filters if f["side"] == "lower"] if listed else []
    return lower[0] if lower else None


def dated_field(stream: str) -> str | None:
    """The record time of a list the window bounds by itself: a list under a date-bounded
    parent (a video room's participants) is read under the rooms of the window."""
    listed = load_streams().get(LIST_OF[stream])
    if listed is None or lower_bound(listed.parent):
        return None
    return lower_bound(listed.name)


DATED = {name: field for name in PLATFORM if (field := dated_field(name))}


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


SPEC_TYPES = {"date-time": ("string", "date-time"), "date-time-rfc-2822": ("string", "date-time"),
              "date": ("string", "date")}


def expected_type(prop: dict[str, Any]) -> tuple[str, str | None] | None:
    """The JSON Schema type a spec property becomes in a record (a time: RFC 3339 text)."""
    if prop.get("format") in SPEC_TYPES:
        return SPEC_TYPES[prop["format"]]
    return (prop["type"], None) if prop.get("type") else None  # untyped: anything


@pytest.mark.parametrize("stream", PLATFORM)
def test_every_stream_s_fields_and_types_are_its_list_s_in_the_specs(stream: str) -> None:
    """The stream's schema has the properties the specs give its list (less the secrets the
    tap leaves out, plus the parent keys it adds), each of the spec's type: a wrong host or
    path (another list), a missing field or a wrong type in the tap's table shows here."""
    listed = load_streams().get(LIST_OF[stream])
    assert listed is not None, f"{stream}: {LIST_OF[stream]} is no list of Twilio's specs"
    schema = json.loads((REPO / "tap_twilio" / "schemas" / f"{stream}.json").read_text())
    dropped = {f for s, f in DROPPED if s == stream}
    assert set(schema["properties"]) - ADDED[stream] == set(listed.properties) - dropped
    for field, prop in listed.properties.items():
        kind = expected_type(prop)
        if field in dropped or kind is None:
            continue
        written = schema["properties"][field]
        types = written["type"] if isinstance(written["type"], list) else [written["type"]]
        assert set(types) - {"null"} == {kind[0]}, (field, prop, written)
        assert written.get("format") == kind[1] or kind[1] is None, (field, prop, written)


@pytest.fixture(scope="module")
def platform() -> Iterator[tuple[Emulator, TapRun]]:
    sizes = list_sizes(dict.fromkeys(PLATFORM, PAGE + 1))  # two pages per list
    with Emulator(seed=41, subaccounts=1, sizes=SIZES, platform_sizes=sizes,
                  platform_subaccount_sizes=[sizes]) as emu:
        config = emu.config(page_size=PAGE)
        run = run_tap(config, catalog=catalog_selecting(config, set(PLATFORM)))
        assert run.returncode == 0, run.stderr[-3000:]
        yield emu, run


@pytest.mark.parametrize("stream", PLATFORM)
def test_every_stream_is_complete_for_every_account(platform, stream: str) -> None:
    emu, run = platform
    accounts = [emu.account_sid, *emu.subaccount_sids]
    listed = {}
    for account in accounts:
        for r in emu.platform_truth(LIST_OF[stream], account):
            listed[key(stream, {"account_sid": account, **r})] = r
    emitted = {key(stream, r): r for r in run.records[stream]}
    assert listed, stream
    assert len(emitted) == len(run.records[stream]), f"{stream}: a record emitted twice"
    assert sorted(emitted, key=str) == sorted(listed, key=str)
    assert {r["account_sid"] for r in run.records[stream]} == set(accounts)
    for k, truth in listed.items():
        assert_same_values(stream, truth, emitted[k])


def assert_same_values(stream: str, listed: dict[str, Any], emitted: dict[str, Any]) -> None:
    """Every field Twilio sent is in the tap's record with the same value: a time the same
    instant (the tap writes RFC 3339), a decimal string the same number."""
    for field, value in listed.items():
        if (stream, field) in DROPPED:
            assert field not in emitted
            continue
        assert field in emitted, f"{stream}.{field} lost"
        assert same_value(value, emitted[field]), (stream, field, value, emitted[field])


def same_value(sent: Any, written: Any) -> bool:
    if isinstance(sent, str) and isinstance(written, str) and sent != written:
        instant = parse_record_ts(sent)
        return instant is not None and instant == parse_record_ts(written)
    numbers = (int, float, Decimal)
    if isinstance(written, numbers) and not isinstance(written, bool):
        return isinstance(sent, (str, *numbers)) and Decimal(str(sent)) == Decimal(str(written))
    return bool(sent == written)


@pytest.fixture(scope="module")
def windowed() -> Iterator[tuple[Emulator, TapRun, int, int]]:
    """The lists Twilio filters by date, read for a window of days (start_date, end_date)."""
    today = dt.datetime.now(dt.timezone.utc).date()
    start, end = today - dt.timedelta(days=20), today - dt.timedelta(days=3)
    sizes = list_sizes(dict.fromkeys(PLATFORM, 2) | dict.fromkeys(DATED, 12))
    with Emulator(seed=44, subaccounts=1, sizes=SIZES, platform_sizes=sizes,
                  platform_subaccount_sizes=[sizes]) as emu:
        config = emu.config(page_size=5, start_date=start.isoformat(), end_date=end.isoformat())
        for stream, field in DATED.items():
            place_on_the_window_s_edges(emu.platform_truth(LIST_OF[stream], emu.account_sid),
                                        field, start, end)
        run = run_tap(config, catalog=catalog_selecting(config, set(DATED)))
        assert run.returncode == 0, run.stderr[-3000:]
        first = int(dt.datetime.combine(start, dt.time(), dt.timezone.utc).timestamp())
        yield emu, run, first, first + ((end - start).days + 1) * DAY


def place_on_the_window_s_edges(records: list[dict], field: str, start: dt.date,
                                end: dt.date) -> None:
    """Four of the records served moved to the window's edges: its first and last second, and
    the seconds just outside it. A bound Twilio documents as "after" or "before" leaves its
    own instant out, so a tap sending the window's first or last second there misses a record
    (and one sending the day after's last second reads one too many)."""
    assert len(records) >= 4, "a dated list too short to place records on the window's edges"
    midnight = dt.time(tzinfo=dt.timezone.utc)
    first = dt.datetime.combine(start, midnight)
    after_last = dt.datetime.combine(end + dt.timedelta(days=1), midnight)
    second = dt.timedelta(seconds=1)
    edges = (first - second, first, after_last - second, after_last)
    for record, instant in zip(records[:4], edges, strict=True):
        record[field] = instant.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_the_date_filtered_lists_are_a_dozen_or_more() -> None:
    assert len(DATED) >= 12, sorted(DATED)


@pytest.mark.parametrize("stream", sorted(DATED))
def test_a_window_of_days_reads_exactly_the_records_of_those_days(windowed, stream: str):
    """Every record whose time (the field the specs' date parameters bound) is in the days
    asked, none outside: a dropped date filter, a wrong parameter, a bound off by a day or an
    exclusive bound taken as inclusive shows here."""
    emu, run, first, after_last = windowed
    field = DATED[stream]
    everything, expected = [], []
    for account in (emu.account_sid, *emu.subaccount_sids):
        for r in emu.platform_truth(LIST_OF[stream], account):
            everything.append(r)
            if first <= (parse_record_ts(r[field]) or 0) < after_last:
                expected.append(key(stream, {"account_sid": account, **r}))
    emitted = [key(stream, r) for r in run.records[stream]]
    assert expected and len(expected) < len(everything), "the window selects some records"
    assert sorted(emitted, key=str) == sorted(expected, key=str)


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
    services = list_sizes({"verify_services": 2})
    with Emulator(seed=43, subaccounts=2, sizes=SIZES, platform_sizes=services,
                  platform_subaccount_sizes=[services, services],
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
