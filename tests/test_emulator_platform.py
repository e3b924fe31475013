"""The emulator serves every list of the stream table on its Twilio host, over real HTTP.

A request for ``https://studio.twilio.com/v2/Flows`` reaches the emulator as
``GET {emu.url}/studio.twilio.com/v2/Flows``; ``next_page_url`` links are on Twilio's hosts and
are mapped back onto the emulator the same way, as the tap does.
"""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest
import requests

from tests.emulator import Emulator
from tests.emulator.narrowing import narrows
from tests.emulator.records import ADDED_BY_TAP, SPEC_PREFIXES
from tests.emulator.table import LEGACY_STREAMS, load_streams
from tests.emulator.values import parse_record_ts
from tests.test_schemas import SPEC_DIR, needs_spec

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=timezone.utc)
STREAMS = load_streams()
# Lists whose documented defaults hide records (tests/test_narrowing.py) page through their
# truth only when asked for everything, so the generic walks leave them out.
META = sorted(n for n, s in STREAMS.items() if s.family == "meta" and not narrows(s.host, s.path))
NEW_2010 = sorted(n for n, s in STREAMS.items() if s.family == "v2010" and n not in LEGACY_STREAMS)
PER_LIST = 5  # with PageSize=2: three pages per list
MAX_PAGES = 50
SID = re.compile(r"^[A-Z]{2}[0-9a-f]{32}$")


@pytest.fixture(scope="module")
def emu():
    sizes = {n: PER_LIST for n in STREAMS if n not in LEGACY_STREAMS}
    legacy = {"alerts": PER_LIST, "addresses": 3, "queues": 3, "recordings": 3}
    with Emulator(seed=4, subaccounts=2, sizes=legacy, now=NOW, platform_sizes=sizes) as e:
        yield e


def on_emulator(e: Emulator, url: str) -> str:
    """Twilio's absolute URL -> the same request through the emulator's one base URL."""
    return re.sub(r"^https://", f"{e.url}/", url)


def main_auth(e: Emulator) -> tuple[str, str]:
    return (e.account_sid, e.auth_token)


def sub_auth(e: Emulator, k: int = 0) -> tuple[str, str]:
    sid = e.subaccount_sids[k]
    return (sid, e.auth_tokens[sid])


def parent_params(e: Emulator, name: str, account_sid: str) -> dict[str, str]:
    """Path parameters of the stream's list under the parent stream's first record."""
    stream = STREAMS[name]
    if stream.parent in (None, "accounts"):
        return {"AccountSid": account_sid} if "AccountSid" in stream.params else {}
    first = e.truth(stream.parent, account_sid)[0]
    return {p: str(first[f]) for p, f in stream.parent_keys.items()}


def walk_meta(e: Emulator, url: str, auth, params=None) -> tuple[list[dict], list[dict]]:
    """Every record of a list, following meta.next_page_url; also the meta blocks seen."""
    records, metas = [], []
    r = requests.get(url, auth=auth, params=params, timeout=10)
    while True:
        assert r.status_code == 200, r.text
        body = r.json()
        metas.append(body["meta"])
        records.extend(body[body["meta"]["key"]])
        if not body["meta"]["next_page_url"]:
            return records, metas
        assert len(metas) < MAX_PAGES, "next_page_url never ends"
        r = requests.get(on_emulator(e, body["meta"]["next_page_url"]), auth=auth, timeout=10)


def walk_2010(e: Emulator, url: str, key: str, auth) -> tuple[list[dict], int]:
    records, pages = [], 0
    r = requests.get(url, auth=auth, params={"PageSize": 2}, timeout=10)
    while True:
        assert r.status_code == 200, r.text
        body = r.json()
        pages += 1
        records.extend(body[key])
        if not body["next_page_uri"]:
            return records, pages
        assert pages < MAX_PAGES, "next_page_uri never ends"
        r = requests.get(e.url + body["next_page_uri"], auth=auth, timeout=10)


@pytest.mark.parametrize("name", META)
def test_every_meta_stream_pages_through_its_truth(emu, name):
    stream = STREAMS[name]
    params = parent_params(emu, name, emu.account_sid)
    url = f"{emu.url}/{stream.host}{stream.fill(params)}"
    records, metas = walk_meta(emu, url, main_auth(emu), {"PageSize": 2})

    assert records == emu.truth(name, emu.account_sid, **params)
    assert len(records) == PER_LIST and len(metas) == 3
    public = f"https://{stream.host}{stream.fill(params)}?"
    for meta in metas:
        assert meta["key"] == stream.list_key
        assert meta["url"].startswith(public) and meta["first_page_url"].startswith(public)
    assert all(m["next_page_url"].startswith(public) for m in metas[:-1])
    assert metas[-1]["next_page_url"] is None
    keys = [tuple(r.get(k) for k in stream.primary_keys) for r in records]
    assert len(set(keys)) == len(keys), "primary keys repeat"
    assert_parent_fields(stream, params, records)
    if "account_sid" in stream.properties:  # where the API sends it (else the tap adds it)
        assert {r["account_sid"] for r in records if "account_sid" in r} <= {emu.account_sid}
    assert_sids_as_the_spec_says(name, records)


def assert_parent_fields(stream, params: dict[str, str], records: list[dict]) -> None:
    """Records name their parent as the API does; fields only the tap adds are absent."""
    for param, field in stream.path_fields.items():
        description = stream.properties.get(field, {}).get("description") or ""
        if ADDED_BY_TAP in description:
            assert all(field not in r for r in records), field
        elif field in stream.properties:
            assert {r[field] for r in records} == {params[param]}


def assert_sids_as_the_spec_says(name: str, records: list[dict]) -> None:
    """SIDs are a prefix + 32 hex digits, the prefix the spec's pattern gives."""
    for field, prefix in SPEC_PREFIXES.get(name, {}).items():
        for record in records:
            if field in record:
                assert SID.match(record[field]), (field, record[field])
                assert record[field].startswith(prefix), (field, record[field], prefix)


@pytest.mark.parametrize("name", NEW_2010)
def test_new_2010_lists_page_through_their_truth_at_the_root_and_on_the_api_host(emu, name):
    stream = STREAMS[name]
    params = parent_params(emu, name, emu.account_sid)
    records, pages = walk_2010(emu, emu.url + stream.fill(params), stream.list_key, main_auth(emu))
    assert records == emu.truth(name, emu.account_sid, **params)
    assert len(records) == PER_LIST and pages == 3
    assert_sids_as_the_spec_says(name, records)
    assert_parent_fields(stream, params, records)
    hosted = f"{emu.url}/api.twilio.com{stream.fill(params)}"
    assert walk_2010(emu, hosted, stream.list_key, main_auth(emu))[0] == records
    if "date_created" in stream.properties:
        assert all(
            re.fullmatch(r"\w{3}, \d\d \w{3} \d{4} [\d:]{8} \+0000", r["date_created"])
            for r in records
        )


def test_records_are_typed_from_the_schema_and_point_at_twilio(emu):
    flows = emu.platform_truth("studio_flows", emu.account_sid)
    executions = emu.platform_truth("studio_executions", emu.account_sid)
    assert len(executions) == PER_LIST * len(flows)
    flow = flows[0]
    assert SID.match(flow["sid"]) and flow["sid"].startswith("FW")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", flow["date_created"])
    assert flow["status"] in ("draft", "published")
    assert isinstance(flow["revision"], int) and isinstance(flow["valid"], bool)
    assert flow["url"] == f"https://studio.twilio.com/v2/Flows/{flow['sid']}"
    assert flow["links"]["executions"] == flow["url"] + "/Executions"
    mine = [x for x in executions if x["flow_sid"] == flow["sid"]]
    assert len(mine) == PER_LIST and all(x["sid"].startswith("FN") for x in mine)
    created = [parse_record_ts(x["date_created"]) for x in mine]
    assert created == sorted(created, reverse=True)
    assert min(created) >= parse_record_ts(flow["date_created"])


def test_same_seed_same_data_and_sizes_configurable_per_subaccount():
    kwargs = {"seed": 8, "now": NOW, "platform_subaccount_sizes": [{"video_rooms": 9}]}
    with Emulator(**kwargs) as a, Emulator(**kwargs) as b:
        for name in ("video_rooms", "taskrouter_tasks", "conversations_messages"):
            assert a.platform_truth(name) == b.platform_truth(name)
        assert len(a.platform_truth("video_rooms", a.subaccount_sids[0])) == 9
        assert 2 <= len(a.platform_truth("video_rooms", a.account_sid)) <= 7


def test_subaccount_credentials_see_their_own_data_and_not_the_mains(emu):
    sub = emu.subaccount_sids[0]
    url = f"{emu.url}/studio.twilio.com/v2/Flows"
    theirs, _ = walk_meta(emu, url, sub_auth(emu), {"PageSize": 2})
    assert theirs == emu.platform_truth("studio_flows", sub)
    assert {f["account_sid"] for f in theirs} == {sub}
    main_flow = emu.platform_truth("studio_flows", emu.account_sid)[0]["sid"]
    r = requests.get(f"{url}/{main_flow}/Executions", auth=sub_auth(emu), timeout=10)
    assert r.status_code == 404 and r.json()["code"] == 20404
    r = requests.get(f"{url}/{theirs[0]['sid']}/Executions", auth=sub_auth(emu), timeout=10)
    logged = emu.requests[-1]
    assert (logged.resource, logged.account_sid, logged.status) == ("studio_executions", sub, 200)
    assert r.json()["executions"] == emu.platform_truth(
        "studio_executions", sub, FlowSid=theirs[0]["sid"]
    )


def test_main_credentials_on_a_newer_api_see_only_the_main_account(emu):
    url = f"{emu.url}/taskrouter.twilio.com/v1/Workspaces"
    for auth in (main_auth(emu), (emu.api_key_sid, emu.api_key_secret)):
        seen, _ = walk_meta(emu, url, auth)
        assert seen == emu.platform_truth("taskrouter_workspaces", emu.account_sid)
        assert {w["account_sid"] for w in seen} == {emu.account_sid}
    sub_workspace = emu.platform_truth("taskrouter_workspaces", emu.subaccount_sids[1])[0]
    r = requests.get(f"{url}/{sub_workspace['sid']}/Tasks", auth=main_auth(emu), timeout=10)
    assert r.status_code == 404


def test_2010_lists_keep_the_main_account_reading_subaccounts(emu):
    sub = emu.subaccount_sids[0]
    url = f"{emu.url}/2010-04-01/Accounts/{sub}/SIP/Domains.json"
    assert requests.get(url, auth=main_auth(emu), timeout=10).json()["domains"] == emu.truth(
        "sip_domains", sub
    )
    other = emu.subaccount_sids[1]
    assert requests.get(url, auth=sub_auth(emu, 1), timeout=10).status_code == 404
    own = url.replace(sub, other)
    assert requests.get(own, auth=sub_auth(emu, 1), timeout=10).status_code == 200
    accounts = requests.get(
        f"{emu.url}/api.twilio.com/2010-04-01/Accounts.json", auth=main_auth(emu), timeout=10
    ).json()["accounts"]
    assert {a["sid"]: a["auth_token"] for a in accounts} == emu.auth_tokens


@pytest.mark.parametrize(
    "auth",
    [
        ("main", "wrong-token"),
        ("sub-with-main-token", None),
        ("key", "wrong-secret"),
    ],
)
def test_wrong_credentials_answer_401(emu, auth):
    kind, password = auth
    user = {"main": emu.account_sid, "key": emu.api_key_sid}.get(kind, emu.subaccount_sids[0])
    password = password or emu.auth_token
    r = requests.get(f"{emu.url}/verify.twilio.com/v2/Services", auth=(user, password), timeout=10)
    assert r.status_code == 401
    assert r.json()["code"] == 20003


def test_a_product_an_account_does_not_use_answers_404_or_403():
    unused = {"taskrouter.twilio.com": "all"}
    with Emulator(seed=2, now=NOW, unused_products=unused) as e:
        r = requests.get(f"{e.url}/taskrouter.twilio.com/v1/Workspaces", auth=main_auth(e))
        body = r.json()
        assert r.status_code == 404 and body["code"] == 20404 and body["status"] == 404
        assert body["more_info"].startswith("https://www.twilio.com/docs/errors/")
        assert e.platform_truth("taskrouter_workspaces") == []
        e.mark_unused("studio_v2", e.subaccount_sids[0], status=403)
        r = requests.get(f"{e.url}/studio.twilio.com/v2/Flows", auth=sub_auth(e), timeout=10)
        assert r.status_code == 403 and r.json()["code"] == 20403
        r = requests.get(f"{e.url}/studio.twilio.com/v2/Flows", auth=main_auth(e), timeout=10)
        assert r.status_code == 200 and r.json()["flows"]
        assert e.platform_truth("studio_flows", e.subaccount_sids[0]) == []


def test_an_unused_monitor_answers_404_for_alerts_and_events_on_every_route():
    with Emulator(seed=2, now=NOW, unused_products={"monitor.twilio.com": "all"}) as e:
        for path in (
            "/monitor.twilio.com/v1/Alerts",
            "/v1/Alerts",
            "/monitor.twilio.com/v1/Events",
        ):
            r = requests.get(e.url + path, auth=main_auth(e), timeout=10)
            assert r.status_code == 404 and r.json()["code"] == 20404, path
        calls = f"{e.url}/api.twilio.com/2010-04-01/Accounts/{e.account_sid}/Calls.json"
        assert requests.get(calls, auth=main_auth(e), timeout=10).status_code == 200


DATE_FILTERED = [
    "studio_executions",
    "taskrouter_workspace_events",
    "insights_call_summaries",
    "video_compositions",
]


@pytest.mark.parametrize("name", DATE_FILTERED)
def test_date_filters_select_what_truth_says(name):
    stream = STREAMS[name]
    lower, upper = stream.date_filter["lower"], stream.date_filter["upper"]
    with Emulator(seed=6, now=NOW, platform_sizes={name: 12}) as e:
        params = parent_params(e, name, e.account_sid)
        everything = e.platform_truth(name, e.account_sid, **params)
        times = [parse_record_ts(r[stream.replication_key]) for r in everything]
        lo_value, hi_value = (
            everything[8][stream.replication_key],
            everything[3][stream.replication_key],
        )
        query = {lower: lo_value, upper: hi_value}
        url = f"{e.url}/{stream.host}{stream.fill(params)}"
        got, _ = walk_meta(e, url, main_auth(e), {**query, "PageSize": 2})
        lo, hi = parse_record_ts(lo_value), parse_record_ts(hi_value)
        assert got == [r for r, t in zip(everything, times, strict=True) if lo <= t <= hi]
        assert got == e.platform_truth(name, e.account_sid, **params, **query)
        assert 6 <= len(got) < len(everything)

        day = lo_value[:10]  # a date: the whole UTC day
        got, _ = walk_meta(e, url, main_auth(e), {lower: day, upper: day})
        assert got == [r for r in everything if r[stream.replication_key].startswith(day)]
        assert got

        r = requests.get(url, auth=main_auth(e), params={lower: "yesterday"}, timeout=10)
        assert r.status_code == 400 and r.json()["code"] == 20001


def test_paging_limits_and_tokens_as_twilio(emu):
    url = f"{emu.url}/verify.twilio.com/v2/Services"
    r = requests.get(url, auth=main_auth(emu), params={"PageSize": 1001}, timeout=10)
    assert r.status_code == 400 and r.json()["code"] == 20007
    r = requests.post(url, auth=main_auth(emu), timeout=10)
    assert r.status_code == 405
    r = requests.get(url, auth=main_auth(emu), params={"PageSize": 2, "PageToken": "PAnope"})
    assert r.status_code == 400 and r.json()["code"] == 20001
    first = requests.get(url, auth=main_auth(emu), params={"PageSize": 2}, timeout=10).json()
    second = requests.get(on_emulator(emu, first["meta"]["next_page_url"]), auth=main_auth(emu))
    back = requests.get(
        on_emulator(emu, second.json()["meta"]["previous_page_url"]),
        auth=main_auth(emu),
        timeout=10,
    )
    assert back.json()["services"] == first["services"]


def test_todays_routes_answer_on_twilio_hosts_and_unknown_paths_404(emu):
    sid = emu.account_sid
    root = requests.get(f"{emu.url}/2010-04-01/Accounts/{sid}/Calls.json", auth=main_auth(emu))
    hosted = requests.get(
        f"{emu.url}/api.twilio.com/2010-04-01/Accounts/{sid}/Calls.json", auth=main_auth(emu)
    )
    assert hosted.json() == root.json() and root.json()["calls"]
    alerts, metas = walk_meta(
        emu, f"{emu.url}/monitor.twilio.com/v1/Alerts", main_auth(emu), {"PageSize": 2}
    )
    assert alerts == emu.truth("alerts", sid)
    assert all(m["url"].startswith("https://monitor.twilio.com/v1/Alerts?") for m in metas)
    root_alerts = requests.get(f"{emu.url}/v1/Alerts", auth=main_auth(emu), params={"PageSize": 2})
    assert root_alerts.json()["meta"]["next_page_url"].startswith(f"{emu.url}/v1/Alerts?")
    for path in ("/studio.twilio.com/v2/Nope", "/nowhere.example.com/v1/Flows", "/v9/Things"):
        r = requests.get(emu.url + path, auth=main_auth(emu), timeout=10)
        assert r.status_code == 404, path
        assert set(r.json()) == {"code", "message", "more_info", "status"}
        assert r.json()["code"] == 20404


def test_a_size_for_no_stream_of_the_table_is_refused():
    with pytest.raises(ValueError, match="studio_flowz"):
        Emulator(platform_sizes={"studio_flowz": 3})


@needs_spec
def test_sid_prefixes_are_what_the_generator_makes_from_the_specs():
    generator = Path(__file__).resolve().parents[1] / "scripts" / "generate_emulator_sids.py"
    run = subprocess.run(
        [sys.executable, str(generator), str(SPEC_DIR), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert SPEC_PREFIXES["studio_executions"] == {
        "account_sid": "AC",
        "contact_sid": "FC",
        "flow_sid": "FW",
        "sid": "FN",
    }
