"""The seven options of the product page reach Twilio as query parameters, and only when set."""

from __future__ import annotations

import copy
import datetime as dt

import pytest

from tests.tap_runner import catalog_selecting, run_tap

REPORTS = {"calls", "messages", "conferences", "notifications", "usage_records"}
FILTER_PARAMS = {"To", "From", "Status", "Log", "Category", "FriendlyName", "StartTime>",
                 "DateSent>", "DateUpdated>", "MessageDate>", "StartDate"}


@pytest.fixture(scope="module")
def catalog(emulator) -> dict:
    return catalog_selecting(emulator.config(), REPORTS | {"accounts"})


def only(catalog: dict, report: str) -> dict:
    """The catalog with the accounts and one report selected: an option of one report is
    checked without reading the others."""
    narrowed = copy.deepcopy(catalog)
    for entry in narrowed["streams"]:
        for metadata in entry["metadata"]:
            if metadata["breadcrumb"] == []:
                metadata["metadata"]["selected"] = entry["tap_stream_id"] in ("accounts", report)
    return narrowed


def first_pages(emulator, resource: str) -> list[dict]:
    """Query parameters of the requests that started a list (not `next_page_uri` follow-ups)."""
    logged_as = {"usage_records": "usage_records_daily"}.get(resource, resource)
    return [r.query for r in emulator.requests
            if r.resource == logged_as and "PageToken" not in r.query]


def run_with(emulator, catalog, **settings):
    emulator.clear_requests()
    run = run_tap({**emulator.config(), **settings}, catalog=catalog)
    assert run.returncode == 0, run.stderr[-3000:]
    return run


def test_no_filter_is_sent_when_no_option_is_set(emulator, catalog) -> None:
    # One worker: no date slices either, so each list is exactly one unfiltered walk, but
    # conferences: one per status, as Twilio lists only in-progress ones unless asked.
    run_with(emulator, catalog, max_concurrency=1)
    for resource in REPORTS | {"accounts"}:
        queries = first_pages(emulator, resource)
        assert queries, resource
        for query in queries:
            sent = set(query) - ({"Status"} if resource == "conferences" else set())
            assert not FILTER_PARAMS & sent, (resource, query)
            assert query["PageSize"] == "1000"
    statuses = {query["Status"] for query in first_pages(emulator, "conferences")}
    assert statuses == {"init", "in-progress", "completed"}


def test_to_from_and_status_filter_calls_and_messages_server_side(emulator, catalog) -> None:
    call = emulator.truth("calls", account_sid=emulator.account_sid)[3]
    run = run_with(emulator, catalog, to=call["to"], **{"from": call["from"]},
                   status=call["status"])
    for query in first_pages(emulator, "calls"):
        assert (query["To"], query["From"], query["Status"]) == (
            call["to"], call["from"], call["status"])
    for query in first_pages(emulator, "messages"):
        assert (query["To"], query["From"]) == (call["to"], call["from"])
        assert "Status" not in query  # Twilio's Messages list has no status filter
    expected = {c["sid"] for c in emulator.truth(
        "calls", To=call["to"], From=call["from"], Status=call["status"])}
    assert call["sid"] in expected
    assert set(run.keys("calls")) == expected


@pytest.mark.parametrize("form", ["30", "30Day", "30Days", "30days", 30])
def test_last_n_days_becomes_each_reports_date_filter(emulator, catalog, form) -> None:
    run = run_with(emulator, catalog, last_n_days=form)
    since = (dt.datetime.now(dt.timezone.utc).date() - dt.timedelta(days=30)).isoformat()
    expected_param = {"calls": "StartTime>", "messages": "DateSent>",
                      "conferences": "DateUpdated>", "notifications": "MessageDate>",
                      "usage_records": "StartDate"}
    for resource, param in expected_param.items():
        dated = [q for q in first_pages(emulator, resource) if param in q]
        assert dated, (resource, first_pages(emulator, resource))
        assert min(q[param] for q in dated) == since, resource
    # The records are exactly those Twilio lists for that window.
    truth = {m["sid"] for m in emulator.truth("messages", **{"DateSent>": since})}
    emitted = {m["sid"] for m in run.records["messages"] if m["date_sent"]}
    assert emitted == truth
    assert all(m["date_sent"][:10] >= since for m in run.records["messages"] if m["date_sent"])


@pytest.mark.parametrize(("setting", "sent"), [("error", "0"), ("0", "0"), ("warning", "1"),
                                               ("1", "1"), (0, "0"), (1, "1")])
def test_log_filters_notifications(emulator, catalog, setting, sent) -> None:
    run = run_with(emulator, only(catalog, "notifications"), log=setting)
    assert {q["Log"] for q in first_pages(emulator, "notifications")} == {sent}
    assert {r["log"] for r in run.records["notifications"]} <= {int(sent)}
    assert set(run.keys("notifications")) == {
        n["sid"] for n in emulator.truth("notifications", Log=sent)}


def test_category_filters_usage_records(emulator, catalog) -> None:
    run = run_with(emulator, only(catalog, "usage_records"), category="sms")
    assert {q["Category"] for q in first_pages(emulator, "usage_records")} == {"sms"}
    assert run.records["usage_records"]
    assert {r["category"] for r in run.records["usage_records"]} == {"sms"}


def test_a_filter_that_matches_nothing_is_said_per_stream(emulator, catalog) -> None:
    call = emulator.truth("calls", account_sid=emulator.account_sid)[0]
    nobody = "+15550000001"
    assert not emulator.truth("messages", To=nobody) and not emulator.truth("calls", To=nobody)
    run = run_with(emulator, catalog, to=nobody, status=call["status"])
    assert not run.records["calls"] and not run.records["messages"]
    said = [line for line in run.stderr.splitlines() if "no record matched" in line]
    assert len(said) == 2
    assert "calls: no record matched to='+15550000001', status=" in said[0]
    assert "messages: no record matched to='+15550000001' in" in said[1]
    # A filter that matches: nothing said for that stream.
    run = run_with(emulator, catalog, to=call["to"], status=call["status"])
    assert run.records["calls"]
    assert "calls: no record matched" not in run.stderr


def test_account_name_reads_only_that_account(emulator, catalog) -> None:
    sub = emulator.truth("accounts")[-1]
    run = run_with(emulator, catalog, account_name=sub["friendly_name"])
    assert {q.get("FriendlyName") for q in first_pages(emulator, "accounts")} == {
        sub["friendly_name"]}
    assert run.keys("accounts") == [sub["sid"]]
    assert {r["account_sid"] for r in run.records["messages"]} == {sub["sid"]}


def test_unknown_account_name_is_a_clear_error(emulator, catalog) -> None:
    run = run_tap({**emulator.config(), "account_name": "No Such Account"}, catalog=catalog)
    assert run.returncode != 0
    assert run.stderr.strip().splitlines()[-1] == (
        "tap-twilio: error: account_name: no account named 'No Such Account' among the "
        "accounts these credentials can read")
    assert "Traceback" not in run.stderr


def test_api_key_authenticates_like_the_auth_token(emulator, catalog) -> None:
    config = {key: value for key, value in emulator.config().items() if key != "auth_token"}
    config.update(api_key_sid=emulator.api_key_sid, api_key_secret=emulator.api_key_secret)
    run = run_tap(config, catalog=catalog)
    assert run.returncode == 0, run.stderr[-2000:]
    assert set(run.keys("calls")) == {c["sid"] for c in emulator.truth("calls")}


def test_rejected_credentials_give_one_line_without_the_secret(emulator, catalog) -> None:
    secret = "wrong-token-0123456789abcdef"
    run = run_tap({**emulator.config(), "auth_token": secret}, catalog=catalog)
    assert run.returncode == 1
    last = run.stderr.strip().splitlines()[-1]
    assert last.startswith("tap-twilio: error: Twilio rejected the credentials")
    assert "20003" in last and "auth_token" in last
    assert "Traceback" not in run.stderr
    assert secret not in run.stderr + run.stdout
