"""Tests of the Twilio emulator itself, over real HTTP."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest
import requests

from tests.emulator import FAULT_KINDS, Emulator
from tests.emulator.data import load_spec

NOW = datetime(2026, 3, 15, 12, 0, tzinfo=timezone.utc)
SMALL = {
    "messages": 130,
    "calls": 90,
    "conferences": 30,
    "notifications": 45,
    "alerts": 40,
    "recordings": 12,
}
API = "/2010-04-01"


@pytest.fixture(scope="module")
def emu():
    with Emulator(seed=5, subaccounts=2, sizes=SMALL, now=NOW) as e:
        yield e


@pytest.fixture
def own():
    """An emulator a test may mutate or break."""
    with Emulator(seed=9, subaccounts=1, sizes=SMALL, now=NOW) as e:
        yield e


def session(e: Emulator, user: str | None = None, password: str | None = None):
    s = requests.Session()
    s.auth = (user or e.account_sid, password or e.auth_token)
    return s


def list_url(e: Emulator, resource: str, account: str | None = None) -> str:
    return f"{e.url}{API}/Accounts/{account or e.account_sid}/{resource}.json"


def walk(e: Emulator, s: requests.Session, url: str, key: str, params=None) -> list[dict]:
    out, r = [], s.get(url, params=params)
    while True:
        assert r.status_code == 200, r.text
        body = r.json()
        out.extend(body[key])
        if body["next_page_uri"] is None:
            return out
        assert body["next_page_uri"].startswith(API)
        r = s.get(e.url + body["next_page_uri"])


def day_of(value: str):
    return parsedate_to_datetime(value).astimezone(timezone.utc).date()


# --- paging ---


@pytest.mark.parametrize("page_size", [1, 7, 50, 1000])
def test_paging_walk_matches_truth(emu, page_size):
    s = session(emu)
    got = walk(emu, s, list_url(emu, "Messages"), "messages", {"PageSize": page_size})
    truth = emu.truth("messages", emu.account_sid)
    assert len(truth) == SMALL["messages"]
    assert [m["sid"] for m in got] == [m["sid"] for m in truth]
    assert got == truth
    assert len({m["sid"] for m in got}) == len(got)


def test_envelope_fields(emu):
    s = session(emu)
    url = list_url(emu, "Calls")
    r = s.get(url + "?Status=completed&PageSize=7")
    b = r.json()
    path = f"{API}/Accounts/{emu.account_sid}/Calls.json"
    assert set(b) == {
        "calls",
        "first_page_uri",
        "next_page_uri",
        "previous_page_uri",
        "page",
        "page_size",
        "start",
        "end",
        "uri",
    }
    assert (b["page"], b["page_size"], b["start"], b["end"]) == (0, 7, 0, 6)
    assert b["first_page_uri"] == f"{path}?Status=completed&PageSize=7&Page=0"
    assert b["uri"] == b["first_page_uri"]
    assert b["previous_page_uri"] is None
    assert re.fullmatch(
        re.escape(path) + r"\?Status=completed&PageSize=7&Page=1&PageToken=PA[\w-]+",
        b["next_page_uri"],
    )
    b2 = s.get(emu.url + b["next_page_uri"]).json()
    assert (b2["page"], b2["start"], b2["end"]) == (1, 7, 13)
    assert b2["uri"] == b["next_page_uri"]
    # the previous page link leads back to the first page's records
    back = s.get(emu.url + b2["previous_page_uri"]).json()
    assert [c["sid"] for c in back["calls"]] == [c["sid"] for c in b["calls"]]


def test_page_token_names_the_last_record_and_resumes_after_any_record(emu):
    """Twilio's tokens are PA + the SID of the page's last record (PB + the first, back)."""
    s = session(emu)
    url = list_url(emu, "Messages")
    everything = walk(emu, s, url, "messages", {"PageSize": 1000})
    b = s.get(url, params={"PageSize": 20}).json()
    assert b["next_page_uri"].endswith(f"&PageToken=PA{b['messages'][-1]['sid']}")
    later = s.get(emu.url + b["next_page_uri"]).json()
    assert later["previous_page_uri"].endswith(f"&PageToken=PB{later['messages'][0]['sid']}")
    # A token built from any listed record's SID lists what follows that record, so a list
    # can be read from several places at once.
    sids = [m["sid"] for m in everything]
    for at in (0, 37, len(sids) - 2):
        page = s.get(url, params={"PageSize": 5, "Page": 1, "PageToken": "PA" + sids[at]}).json()
        assert [m["sid"] for m in page["messages"]] == sids[at + 1 : at + 6]
    unknown = s.get(url, params={"PageToken": "PASM" + "0" * 32, "Page": 1})
    assert unknown.status_code == 400 and unknown.json()["code"] == 20001


def test_a_server_that_trusts_only_its_own_links_ignores_a_built_token() -> None:
    with Emulator(seed=5, subaccounts=0, sizes={"messages": 60}, page_tokens="issued") as e:
        s = session(e)
        url = list_url(e, "Messages")
        first = s.get(url, params={"PageSize": 10}).json()
        sids = [m["sid"] for m in walk(e, s, url, "messages", {"PageSize": 1000})]
        # its own link resumes where it says
        linked = s.get(e.url + first["next_page_uri"]).json()
        assert [m["sid"] for m in linked["messages"]] == sids[10:20]
        # a token built from a record is ignored without an error: the page is `Page`'s
        built = s.get(url, params={"PageSize": 10, "Page": 3, "PageToken": "PA" + sids[41]})
        assert built.status_code == 200
        assert [m["sid"] for m in built.json()["messages"]] == sids[30:40]
        # a token is valid only with the query of the link it came in
        other = s.get(url, params={"PageSize": 5, "Page": 1,
                                   "PageToken": first["next_page_uri"].split("PageToken=")[1]})
        assert [m["sid"] for m in other.json()["messages"]] == sids[5:10]


def test_empty_list_and_filters_echoed_encoded(emu):
    s = session(emu)
    r = s.get(list_url(emu, "Messages") + "?To=%2B19999999999&DateSent%3E=2026-01-02")
    b = r.json()
    assert b["messages"] == [] and b["next_page_uri"] is None and (b["start"], b["end"]) == (0, 0)
    assert "To=%2B19999999999&DateSent%3E=2026-01-02&PageSize=50&Page=0" in b["uri"]


def test_page_size_limits(emu):
    s = session(emu)
    r = s.get(list_url(emu, "Messages"), params={"PageSize": 1001})
    assert r.status_code == 400
    body = r.json()
    assert body["code"] == 20007 and body["status"] == 400
    assert body["more_info"] == "https://www.twilio.com/docs/errors/20007"
    assert body["message"].startswith("Page size too large")
    for bad in ("0", "-3", "abc"):
        r = s.get(list_url(emu, "Messages"), params={"PageSize": bad})
        assert r.status_code == 400, bad
    assert len(s.get(list_url(emu, "Messages")).json()["messages"]) == 50  # default


def test_page_index_without_token_is_an_offset(emu):
    s = session(emu)
    b = s.get(list_url(emu, "Messages"), params={"PageSize": 20, "Page": 2}).json()
    truth = emu.truth("messages", emu.account_sid)
    assert [m["sid"] for m in b["messages"]] == [m["sid"] for m in truth[40:60]]


# --- auth and errors ---


def test_bad_credentials(emu):
    expected = {
        "code": 20003,
        "message": "Authenticate",
        "more_info": "https://www.twilio.com/docs/errors/20003",
        "status": 401,
    }
    r = requests.get(list_url(emu, "Messages"), auth=(emu.account_sid, "wrong"))
    assert r.status_code == 401 and r.json() == expected
    r = requests.get(list_url(emu, "Messages"))
    assert r.status_code == 401 and r.json() == expected
    r = requests.get(f"{emu.url}/v1/Alerts", auth=("ACnope", "x"))
    assert r.status_code == 401


def test_api_key_and_subaccount_access(emu):
    key = session(emu, emu.api_key_sid, emu.api_key_secret)
    assert re.fullmatch(r"SK[0-9a-f]{32}", emu.api_key_sid)
    assert key.get(list_url(emu, "Messages")).status_code == 200
    sub = emu.subaccount_sids[0]
    main = session(emu)
    r = main.get(list_url(emu, "Calls", sub))
    assert r.status_code == 200
    assert all(c["account_sid"] == sub for c in r.json()["calls"])
    assert all(sub in c["uri"] for c in r.json()["calls"])
    # subaccount credentials: own resources only
    sub_s = session(emu, sub, emu.auth_tokens[sub])
    assert sub_s.get(list_url(emu, "Calls", sub)).status_code == 200
    r = sub_s.get(list_url(emu, "Calls"))
    assert r.status_code == 404 and r.json()["code"] == 20404
    accounts = sub_s.get(f"{emu.url}{API}/Accounts.json").json()["accounts"]
    assert [a["sid"] for a in accounts] == [sub]


def test_unknown_account_and_path(emu):
    s = session(emu)
    other = "AC" + "0" * 32
    r = s.get(list_url(emu, "Messages", other))
    assert r.status_code == 404
    assert r.json() == {
        "code": 20404,
        "message": f"The requested resource {API}/Accounts/{other}/Messages.json was not found",
        "more_info": "https://www.twilio.com/docs/errors/20404",
        "status": 404,
    }
    r = s.get(f"{emu.url}{API}/Accounts/{emu.account_sid}/Nope.json")
    assert r.status_code == 404 and r.json()["code"] == 20404


# --- filters ---


def _dates(records, field):
    return [day_of(r[field]) if r[field] else None for r in records]


def test_date_filters_messages(emu):
    s = session(emu)
    everything = emu.truth("messages", emu.account_sid)
    days = sorted({d for d in _dates(everything, "date_sent") if d})
    d = days[len(days) // 2]
    iso = d.isoformat()
    cases = {
        "DateSent>": lambda x: x is not None and x >= d,
        "DateSent<": lambda x: x is not None and x <= d,
        "DateSent": lambda x: x is not None and x == d,
    }
    for param, pred in cases.items():
        expected = [
            m for m in everything if pred(day_of(m["date_sent"]) if m["date_sent"] else None)
        ]
        assert expected, param
        got = walk(emu, s, list_url(emu, "Messages"), "messages", {param: iso, "PageSize": 7})
        assert got == expected == emu.truth("messages", emu.account_sid, **{param: iso}), param
    # raw '>' in the query and a full timestamp value both work
    raw = s.get(list_url(emu, "Messages") + f"?DateSent>={iso}T13:45:00Z&PageSize=1000").json()
    assert raw["messages"] == cases_expected(everything, d)
    assert "DateSent%3E=" in raw["uri"]


def cases_expected(everything, d):
    return [m for m in everything if m["date_sent"] and day_of(m["date_sent"]) >= d]


def test_start_time_before_is_strict_and_end_time(emu):
    s = session(emu)
    calls = emu.truth("calls", emu.account_sid)
    d = day_of([c for c in calls if c["start_time"]][len(calls) // 2]["start_time"])
    got = walk(emu, s, list_url(emu, "Calls"), "calls", {"StartTime<": d.isoformat()})
    assert got == [c for c in calls if c["start_time"] and day_of(c["start_time"]) < d]
    got = walk(emu, s, list_url(emu, "Calls"), "calls", {"EndTime>": d.isoformat()})
    assert got == [c for c in calls if c["end_time"] and day_of(c["end_time"]) >= d]
    assert got == emu.truth("calls", emu.account_sid, EndTime_gt=d.isoformat())


def test_invalid_date_and_retention(emu):
    s = session(emu)
    r = s.get(list_url(emu, "Messages"), params={"DateSent>": "yesterday"})
    assert r.status_code == 400 and r.json()["code"] == 20001
    assert r.json()["message"] == "Invalid date value."
    old = (NOW - timedelta(days=401)).date().isoformat()
    r = s.get(list_url(emu, "Messages"), params={"DateSent>": old})
    assert r.status_code == 400 and r.json()["code"] == 20004
    ok = (NOW - timedelta(days=399)).date().isoformat()
    assert s.get(list_url(emu, "Messages"), params={"DateSent>": ok}).status_code == 200
    # calls have no retention limit
    assert s.get(list_url(emu, "Calls"), params={"StartTime>": old}).status_code == 200


def test_alerts_older_than_30_days_are_refused_as_the_spec_says(emu):
    """Monitor's StartDate / EndDate: "Queries for alerts older than 30 days are not
    supported"; the 30th day back is the oldest answered."""
    s = session(emu)
    url = f"{emu.url}/v1/Alerts"
    for param in ("StartDate", "EndDate"):
        for old in ((NOW - timedelta(days=31)).date().isoformat(),
                    (NOW - timedelta(days=31)).strftime("%Y-%m-%dT%H:%M:%SZ")):
            r = s.get(url, params={param: old})
            assert r.status_code == 400 and r.json()["code"] == 20001, (param, old)
            assert "older than 30 days" in r.json()["message"]
        oldest = (NOW - timedelta(days=30)).date().isoformat()
        assert s.get(url, params={param: oldest}).status_code == 200


def test_equality_filters(emu):
    s = session(emu)
    msgs = emu.truth("messages", emu.account_sid)
    to = Counter(m["to"] for m in msgs).most_common(1)[0][0]
    frm = Counter(m["from"] for m in msgs).most_common(1)[0][0]
    assert walk(emu, s, list_url(emu, "Messages"), "messages", {"To": to}) == [
        m for m in msgs if m["to"] == to
    ]
    assert walk(emu, s, list_url(emu, "Messages"), "messages", {"From": frm, "PageSize": 3}) == [
        m for m in msgs if m["from"] == frm
    ]
    calls = emu.truth("calls", emu.account_sid)
    for status in ("completed", "busy"):
        got = walk(emu, s, list_url(emu, "Calls"), "calls", {"Status": status})
        assert got == [c for c in calls if c["status"] == status] and got
    notes = emu.truth("notifications", emu.account_sid)
    for log in ("0", "1"):
        got = walk(emu, s, list_url(emu, "Notifications"), "notifications", {"Log": log})
        assert got == [n for n in notes if n["log"] == log] and got
    usage = emu.truth("usage_records_daily", emu.account_sid)
    got = walk(
        emu,
        s,
        list_url(emu, "Usage/Records/Daily"),
        "usage_records",
        {"Category": "sms", "PageSize": 1000},
    )
    assert got == [u for u in usage if u["category"] == "sms"] and got
    parent = next(c for c in calls if c["parent_call_sid"])
    got = walk(
        emu, s, list_url(emu, "Calls"), "calls", {"ParentCallSid": parent["parent_call_sid"]}
    )
    assert parent in got


def test_accounts_list_and_filters(emu):
    s = session(emu)
    accounts = walk(emu, s, f"{emu.url}{API}/Accounts.json", "accounts")
    assert {a["sid"] for a in accounts} == {emu.account_sid, *emu.subaccount_sids}
    assert accounts == emu.truth("accounts")
    assert all(re.fullmatch(r"[0-9a-f]{32}", a["auth_token"]) for a in accounts)
    main = next(a for a in accounts if a["sid"] == emu.account_sid)
    assert main["owner_account_sid"] == emu.account_sid
    sub = next(a for a in accounts if a["sid"] != emu.account_sid)
    assert sub["owner_account_sid"] == emu.account_sid
    got = walk(
        emu, s, f"{emu.url}{API}/Accounts.json", "accounts", {"FriendlyName": sub["friendly_name"]}
    )
    assert got == [sub]
    assert walk(emu, s, f"{emu.url}{API}/Accounts.json", "accounts", {"Status": "closed"}) == []
    one = s.get(f"{emu.url}{API}/Accounts/{sub['sid']}.json").json()
    assert one == sub


# --- data ---


def test_records_follow_the_spec(emu):
    spec = load_spec()["resources"]
    for resource, props in ((r, set(v["properties"])) for r, v in spec.items()):
        if resource == "account_balance":
            continue
        records = (
            emu.truth(resource) if resource == "accounts" else emu.truth(resource, emu.account_sid)
        )
        assert records, resource
        for rec in records:
            assert set(rec) == props, resource
            for name, prop in spec[resource]["properties"].items():
                value = rec[name]
                if value is None:
                    continue
                if prop.get("enum") and prop.get("type") == "string":
                    assert value in prop["enum"], (resource, name, value)
                if prop.get("pattern"):
                    assert re.match(prop["pattern"], value), (resource, name, value)
                if prop.get("format") == "date-time-rfc-2822":
                    assert re.fullmatch(r"\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d \+0000", value)
                if prop.get("format") == "date-time":
                    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", value)


def test_edge_cases_present(emu):
    msgs = emu.truth("messages", emu.account_sid)
    bodies = [m["body"] for m in msgs]
    assert any(len(b) == 1600 for b in bodies)
    assert any("🎉" in b for b in bodies) and any("你好" in b for b in bodies)
    assert any("مرحبا" in b for b in bodies)
    assert any(m["status"] == "queued" and m["date_sent"] is None for m in msgs)
    assert any(m["price"] is None for m in msgs) and any(m["price"] == "0.00000" for m in msgs)
    assert any(m["price"] and m["price"].startswith("-") for m in msgs)
    assert all(isinstance(m["num_media"], str) and isinstance(m["num_segments"], str) for m in msgs)
    assert Counter(m["num_media"] for m in msgs).most_common(1)[0][0] == "0"
    calls = emu.truth("calls", emu.account_sid)
    live = [c for c in calls if c["status"] == "in-progress"]
    assert live and all(c["end_time"] is None and c["duration"] is None for c in live)
    assert any(c["price"] is None for c in calls if c["status"] == "completed")


def test_order_newest_first_with_ties_across_pages(emu):
    msgs = emu.truth("messages", emu.account_sid)
    keys = [parsedate_to_datetime(m["date_sent"] or m["date_created"]) for m in msgs]
    assert keys == sorted(keys, reverse=True)
    ties = Counter(m["date_sent"] for m in msgs if m["date_sent"])
    assert max(ties.values()) > 1
    # a run of equal timestamps crosses the PageSize=50 boundary
    assert msgs[49]["date_sent"] == msgs[50]["date_sent"]
    for resource, field in (
        ("calls", "start_time"),
        ("conferences", "date_created"),
        ("notifications", "message_date"),
    ):
        recs = emu.truth(resource, emu.account_sid)
        ts = [parsedate_to_datetime(r[field] or r["date_created"]) for r in recs]
        assert ts == sorted(ts, reverse=True), resource


def test_accounts_have_different_sizes_and_ages():
    with Emulator(
        seed=3,
        subaccounts=2,
        sizes={"messages": 200},
        subaccount_sizes=[{"messages": 1000}, {"messages": 3}],
        account_ages_days=[800, 30, 2],
        now=NOW,
    ) as e:
        counts = [len(e.truth("messages", a)) for a in [e.account_sid, *e.subaccount_sids]]
        assert counts == [200, 1000, 3]
        young = e.truth("calls", e.subaccount_sids[1])
        assert all(
            NOW - parsedate_to_datetime(c["date_created"]) <= timedelta(days=2.01) for c in young
        )
        daily = e.truth("usage_records_daily", e.subaccount_sids[1])
        assert len(daily) == 3 * 8  # days 0..2, eight categories
        assert len(e.truth("messages")) == 1203


def test_determinism():
    def snapshot(seed):
        with Emulator(seed=seed, subaccounts=1, sizes={"messages": 60}, now=NOW) as e:
            s = session(e)
            return (
                s.get(list_url(e, "Messages"), params={"PageSize": 1000}).content,
                s.get(f"{e.url}{API}/Accounts.json").content,
            )

    assert snapshot(4) == snapshot(4)
    assert snapshot(4) != snapshot(5)


def test_million_messages_start_fast_and_serve_deep_pages():
    t0 = time.perf_counter()
    with Emulator(seed=1, sizes={"messages": 1_000_000}) as e:
        assert time.perf_counter() - t0 < 0.5
        s = session(e)
        t = time.perf_counter()
        first = s.get(list_url(e, "Messages"), params={"PageSize": 1000}).json()
        assert len(first["messages"]) == 1000 and time.perf_counter() - t < 1.0
        t = time.perf_counter()
        deep = s.get(list_url(e, "Messages"), params={"PageSize": 1000, "Page": 950}).json()
        assert deep["start"] == 950_000 and len(deep["messages"]) == 1000
        nxt = s.get(e.url + deep["next_page_uri"]).json()
        assert nxt["start"] == 951_000 and time.perf_counter() - t < 1.5
        assert nxt["messages"][0]["sid"] != deep["messages"][-1]["sid"]
        last = s.get(list_url(e, "Messages"), params={"PageSize": 1000, "Page": 999}).json()
        assert last["next_page_uri"] is None and len(last["messages"]) == 1000
        t = time.perf_counter()
        day = (e.now - timedelta(days=100)).date().isoformat()
        r = s.get(list_url(e, "Messages"), params={"PageSize": 1000, "DateSent": day}).json()
        assert r["messages"] and all(
            day_of(m["date_sent"]).isoformat() == day for m in r["messages"]
        )
        assert time.perf_counter() - t < 1.0


def test_usage_records(emu):
    s = session(emu)
    daily = emu.truth("usage_records_daily", emu.account_sid, IncludeSubaccounts="false")
    cats = load_spec()["_meta"]["usage_categories"]
    assert [u["category"] for u in daily[:8]] == cats
    assert daily[0]["start_date"] == NOW.date().isoformat()
    starts = [u["start_date"] for u in daily]
    assert starts == sorted(starts, reverse=True)
    month = NOW.date().replace(day=1) - timedelta(days=1)
    window = {
        "StartDate": month.replace(day=1).isoformat(),
        "EndDate": month.isoformat(),
        "IncludeSubaccounts": "false",
    }
    got = walk(
        emu,
        s,
        list_url(emu, "Usage/Records/Daily"),
        "usage_records",
        {**window, "Category": "calls", "PageSize": 10},
    )
    assert len(got) == month.day
    monthly = walk(
        emu,
        s,
        list_url(emu, "Usage/Records/Monthly"),
        "usage_records",
        {**window, "Category": "calls"},
    )
    assert len(monthly) == 1
    assert int(monthly[0]["count"]) == sum(int(u["count"]) for u in got)
    total = walk(emu, s, list_url(emu, "Usage/Records"), "usage_records", window)
    assert len(total) == 8 and total[0]["start_date"] == window["StartDate"]
    with_subs = emu.truth("usage_records_all_time", emu.account_sid, Category="sms")
    alone = emu.truth(
        "usage_records_all_time", emu.account_sid, Category="sms", IncludeSubaccounts="false"
    )
    assert int(with_subs[0]["count"]) > int(alone[0]["count"])


def test_children_and_single_objects(emu):
    s = session(emu)
    msgs = emu.truth("messages", emu.account_sid)
    with_media = [m for m in msgs if m["num_media"] != "0"]
    assert with_media
    for m in with_media[:5]:
        media = walk(emu, s, f"{emu.url}{m['subresource_uris']['media']}", "media_list")
        assert len(media) == int(m["num_media"])
        assert all(x["parent_sid"] == m["sid"] for x in media)
        assert m["sid"].startswith("MM")
    none = next(m for m in msgs if m["num_media"] == "0")
    assert walk(emu, s, f"{emu.url}{none['subresource_uris']['media']}", "media_list") == []
    assert len(emu.truth("message_media", emu.account_sid)) == sum(
        int(m["num_media"]) for m in msgs
    )
    one = s.get(f"{emu.url}{msgs[3]['uri']}").json()
    assert one == msgs[3]
    confs = emu.truth("conferences", emu.account_sid)
    live = next(c for c in confs if c["status"] == "in-progress")
    parts = walk(emu, s, f"{emu.url}{live['subresource_uris']['participants']}", "participants")
    assert parts and all(p["conference_sid"] == live["sid"] for p in parts)
    done = next(c for c in confs if c["status"] == "completed")
    assert (
        walk(emu, s, f"{emu.url}{done['subresource_uris']['participants']}", "participants") == []
    )
    bal = s.get(list_url(emu, "Balance")).json()
    assert set(bal) == {"account_sid", "balance", "currency"} and bal["currency"] == "USD"
    r = s.get(f"{emu.url}{API}/Accounts/{emu.account_sid}/Messages/SM{'a' * 32}.json")
    assert r.status_code == 404


def test_alerts_paging_with_absolute_urls(emu):
    s = session(emu)
    url = f"{emu.url}/v1/Alerts"
    r = s.get(url, params={"PageSize": 7, "LogLevel": "error"})
    body = r.json()
    got = []
    while True:
        assert set(body) == {"alerts", "meta"}
        meta = body["meta"]
        assert meta["key"] == "alerts" and meta["url"].startswith(emu.url + "/v1/Alerts?")
        assert "LogLevel=error" in meta["url"]
        got.extend(body["alerts"])
        if meta["next_page_url"] is None:
            break
        assert meta["next_page_url"].startswith(emu.url + "/v1/Alerts?LogLevel=error&PageSize=7")
        body = s.get(meta["next_page_url"]).json()
    assert got == emu.truth("alerts", LogLevel="error") and got
    everything = emu.truth("alerts")
    oldest = min(
        datetime.fromisoformat(a["date_generated"].replace("Z", "+00:00")) for a in everything
    )
    assert NOW - oldest <= timedelta(days=30)
    start = everything[len(everything) // 2]["date_generated"]
    got = s.get(url, params={"StartDate": start, "PageSize": 1000}).json()["alerts"]
    assert got == [a for a in everything if a["date_generated"] >= start]
    assert s.get(url, params={"StartDate": "nope"}).status_code == 400


def test_request_log(emu):
    emu.clear_requests()
    s = session(emu)
    s.get(list_url(emu, "Messages") + "?DateSent%3E=2026-01-01&PageSize=1000")
    s.get(list_url(emu, "Calls", emu.subaccount_sids[0]) + "?StartTime>=2026-01-01")
    log = emu.requests
    assert len(log) == 2
    assert log[0].query == {"DateSent>": "2026-01-01", "PageSize": "1000"}
    assert log[0]["status"] == 200 and log[0].resource == "messages"
    assert log[0].account_sid == emu.account_sid and log[0].method == "GET"
    assert log[1].query == {"StartTime>": "2026-01-01"}
    assert log[1].account_sid == emu.subaccount_sids[0] and log[1].resource == "calls"


# --- mutations ---


def test_add_and_update(own):
    s = session(own)
    before = own.truth("messages", own.account_sid)
    queued = next(m for m in before if m["status"] == "queued")
    new = own.data.add(
        "messages", own.account_sid, [{"body": "fresh", "date_sent": NOW + timedelta(minutes=5)}]
    )
    assert new[0]["body"] == "fresh" and new[0]["date_sent"].endswith("+0000")
    first = s.get(list_url(own, "Messages"), params={"PageSize": 2}).json()["messages"]
    assert first[0]["sid"] == new[0]["sid"]
    sent_at = NOW + timedelta(minutes=1)
    own.data.update(
        "messages", own.account_sid, queued["sid"], status="delivered", date_sent=sent_at
    )
    today = walk(
        own, s, list_url(own, "Messages"), "messages", {"DateSent>": sent_at.date().isoformat()}
    )
    changed = next(m for m in today if m["sid"] == queued["sid"])
    assert changed["status"] == "delivered" and changed["date_sent"]
    after = own.truth("messages", own.account_sid)
    assert len(after) == len(before) + 1
    assert len({m["sid"] for m in after}) == len(after)
    assert s.get(f"{own.url}{queued['uri']}").json()["status"] == "delivered"


def test_paging_stays_consistent_while_records_are_added(own):
    s = session(own)
    url = list_url(own, "Messages")
    expected = [m["sid"] for m in own.truth("messages", own.account_sid)]
    r = s.get(url, params={"PageSize": 10}).json()
    got = [m["sid"] for m in r["messages"]]
    own.data.add("messages", own.account_sid, 3)  # newer than everything: not in this walk
    while r["next_page_uri"]:
        r = s.get(own.url + r["next_page_uri"]).json()
        got.extend(m["sid"] for m in r["messages"])
    assert got == expected


# --- faults and latency ---


def test_transient_faults(own):
    s = session(own)
    url = list_url(own, "Messages")
    for kind, status, code in (
        ("429", 429, 20429),
        ("500", 500, 20500),
        ("502", 502, 20502),
        ("503", 503, 20503),
        ("504", 504, 20504),
    ):
        own.faults.fail_from(0, kind)
        r = s.get(url)
        assert r.status_code == status and r.json()["code"] == code, kind
        assert "Retry-After" not in r.headers
    own.faults.fail_from(0, "429-retry-after")
    r = s.get(url)
    assert r.status_code == 429 and r.headers["Retry-After"] == "1"
    assert r.json() == {
        "code": 20429,
        "message": "Too many requests",
        "more_info": "https://www.twilio.com/docs/errors/20429",
        "status": 429,
    }
    own.faults.clear()
    assert s.get(url).status_code == 200


def test_connection_faults(own):
    url = list_url(own, "Messages")
    auth = (own.account_sid, own.auth_token)
    own.faults.fail_from(0, "reset")
    with pytest.raises(requests.ConnectionError):
        requests.get(url, auth=auth)
    own.faults.fail_from(0, "truncated")
    with pytest.raises((requests.exceptions.ChunkedEncodingError, requests.ConnectionError)):
        requests.get(url, auth=auth)
    own.faults.fail_from(0, "truncated-json")
    r = requests.get(url, auth=auth)
    assert r.status_code == 200
    with pytest.raises(ValueError):
        json.loads(r.text)
    own.faults.clear()
    assert requests.get(url, auth=auth).status_code == 200
    assert [e.fault for e in own.requests] == ["reset", "truncated", "truncated-json", None]


def test_fail_from_counts_requests(own):
    s = session(own)
    own.faults.fail_from(2, "503")
    codes = [s.get(list_url(own, "Calls")).status_code for _ in range(4)]
    assert codes == [200, 200, 503, 503]


def test_random_faults_are_deterministic_by_seed(own):
    def run():
        own.faults.configure(rate=0.3, kinds=("429", "500", "503"), seed=42)
        s = session(own)
        return [s.get(list_url(own, "Queues")).status_code for _ in range(30)]

    first = run()
    assert first == run()
    assert 200 in first and set(first) - {200}
    with pytest.raises(ValueError):
        own.faults.configure(kinds=("nope",))
    assert set(FAULT_KINDS) >= {"429", "reset", "truncated", "truncated-json"}


def test_deny(own):
    s = session(own)
    sub = own.subaccount_sids[0]
    own.faults.deny(sub, "messages", status=403)
    own.faults.deny(sub, "calls", status=404)
    r = s.get(list_url(own, "Messages", sub))
    assert r.status_code == 403 and r.json()["status"] == 403 and "code" in r.json()
    r = s.get(list_url(own, "Calls", sub))
    assert r.status_code == 404 and r.json()["code"] == 20404
    assert s.get(list_url(own, "Messages")).status_code == 200
    assert s.get(list_url(own, "Conferences", sub)).status_code == 200


def test_latency_and_concurrency(own):
    own.latency = 0.3
    s_url = list_url(own, "Queues")
    results = []

    def hit():
        results.append(requests.get(s_url, auth=(own.account_sid, own.auth_token)).status_code)

    t = time.perf_counter()
    threads = [threading.Thread(target=hit) for _ in range(6)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    elapsed = time.perf_counter() - t
    assert results == [200] * 6
    assert 0.3 <= elapsed < 1.2  # concurrent, not 6 x 0.3 s
    own.latency = 0


def test_concurrency_limit_answers_429_beyond_max_in_flight_per_account(own):
    own.latency = 0.3
    own.max_in_flight = 2
    own.concurrency.retry_after = 0.5
    sub = own.subaccount_sids[0]
    results: list[tuple[str, requests.Response]] = []

    def hit(account: str) -> None:
        response = requests.get(list_url(own, "Queues", account),
                                auth=(own.account_sid, own.auth_token))
        results.append((account, response))

    threads = [threading.Thread(target=hit, args=(own.account_sid,)) for _ in range(5)]
    threads += [threading.Thread(target=hit, args=(sub,)) for _ in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    main = [r for account, r in results if account == own.account_sid]
    assert sorted(r.status_code for r in main) == [200, 200, 429, 429, 429]
    refused = [r for r in main if r.status_code == 429]
    assert all(r.json() == {
        "code": 20429,
        "message": "Too many requests",
        "more_info": "https://www.twilio.com/docs/errors/20429",
        "status": 429,
    } for r in refused)
    assert all(r.headers["Retry-After"] == "0.5" for r in refused)
    # the subaccount has its own limit: its two requests were both served
    assert [r.status_code for account, r in results if account == sub] == [200, 200]
    assert own.concurrency.rejected == 3 and own.concurrency.peak == 2
    assert sum(1 for r in own.requests if r.fault == "concurrency-limit") == 3
    # once answered, requests are out of the count: one at a time is never refused
    s = session(own)
    assert [s.get(list_url(own, "Queues")).status_code for _ in range(3)] == [200] * 3
    own.max_in_flight = None
    own.latency = 0


def test_keep_alive_reuses_connection(emu):
    s = session(emu)
    emu.clear_requests()
    r1 = s.get(list_url(emu, "Queues"))
    r2 = s.get(list_url(emu, "Keys"))
    assert r1.raw.version == 11 and int(r1.headers["Content-Length"]) == len(r1.content)
    assert r2.status_code == 200
    first, second = emu.requests[-2:]
    assert first.client == second.client


# --- standalone ---


def test_standalone_process():
    root = Path(__file__).resolve().parent.parent
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.emulator",
            "--port",
            "0",
            "--seed",
            "7",
            "--messages",
            "100000",
            "--calls",
            "50",
            "--subaccounts",
            "1",
        ],
        cwd=root,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        info = json.loads(proc.stdout.readline())
        assert {
            "url",
            "account_sid",
            "auth_token",
            "api_key_sid",
            "api_key_secret",
            "subaccount_sids",
        } <= set(info)
        r = requests.get(
            f"{info['url']}{API}/Accounts/{info['account_sid']}/Messages.json",
            auth=(info["api_key_sid"], info["api_key_secret"]),
            params={"PageSize": 5},
        )
        assert r.status_code == 200 and len(r.json()["messages"]) == 5
    finally:
        proc.terminate()
        assert proc.wait(timeout=10) == 0
