"""Bad input, through the CLI: every invalid setting, file, catalog or state, and every
request Twilio refuses, ends the run with one line on stderr that names the problem, a
non-zero exit code and no traceback; a refused request is never retried."""

from __future__ import annotations

import datetime as dt
import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest

from tests.emulator import Emulator
from tests.tap_runner import catalog_selecting, discovered_catalog, run_tap

PREFIX = "tap-twilio: error: "
SID = "AC" + "0" * 32
KEY = "SK" + "1" * 32
SIZES = {"calls": 8, "messages": 8, "conferences": 2, "notifications": 3, "recordings": 2,
         "alerts": 2}


@pytest.fixture(scope="module")
def emu() -> Emulator:
    with Emulator(seed=41, subaccounts=1, sizes=SIZES, account_ages_days=[30, 10]) as e:
        yield e


@dataclass
class Case:
    """A run with `config` changed by `changes` (None: drop the setting), or with a raw
    config/state/catalog file text, expected to fail with `message` on the last line."""

    message: str  # `{dir}` stands for the temporary directory of the input files
    changes: dict[str, Any] = field(default_factory=dict)
    config_text: str | None = None
    state: Any = None
    catalog: Any = None
    args: tuple[str, ...] = ()
    setup: Callable[[Emulator], None] | None = None
    exit_code: int = 1


def catalog_of(*names: str) -> dict:
    return {"streams": [
        {"tap_stream_id": name, "stream": name, "schema": {"type": "object", "properties": {}},
         "metadata": [{"breadcrumb": [], "metadata": {"selected": True}}]}
        for name in names]}


def deny_main(resource: str, status: int) -> Callable[[Emulator], None]:
    return lambda emu: emu.faults.deny(emu.account_sid, resource, status)


CASES = {
    "bad account SID": Case(
        "account_sid: got 'AC123', expected 'AC' followed by 32 hex digits",
        {"account_sid": "AC123"}),
    "missing account SID": Case(
        "account_sid: missing, expected your Account SID ('AC' + 32 hex digits)",
        {"account_sid": None}),
    "API key SID in place of the account SID": Case(
        f"account_sid: got '{KEY}', expected 'AC' followed by 32 hex digits",
        {"account_sid": KEY}),
    "no credentials": Case(
        "auth_token: missing, expected the Auth Token (or api_key_sid and api_key_secret)",
        {"auth_token": None}),
    "API key without secret": Case(
        "api_key_sid / api_key_secret: give both, or neither and use auth_token",
        {"auth_token": None, "api_key_sid": KEY}),
    "API key secret without SID": Case(
        "api_key_sid / api_key_secret: give both, or neither and use auth_token",
        {"auth_token": None, "api_key_secret": "s3cr3t"}),
    "auth token not a string": Case(
        "auth_token: expected a string (the value is not shown)", {"auth_token": 12345}),
    "last_n_days in weeks": Case(
        "last_n_days: got '30 weeks', expected a positive number of days such as '30', "
        "'30Day' or '30Days'", {"last_n_days": "30 weeks"}),
    "last_n_days zero": Case(
        "last_n_days: got '0', expected a positive number of days such as '30', '30Day' or "
        "'30Days'", {"last_n_days": "0"}),
    "last_n_days misspelt": Case(
        "last_n_days: got '30Dayz', expected a positive number of days such as '30', "
        "'30Day' or '30Days'", {"last_n_days": "30Dayz"}),
    "last_n_days a fraction": Case(
        "last_n_days: got 2.5, expected a positive number of days such as '30', '30Day' or "
        "'30Days'", {"last_n_days": 2.5}),
    "page_size 5000": Case(
        "page_size: got 5000, expected a whole number from 1 to 1000", {"page_size": 5000}),
    "page_size 0": Case(
        "page_size: got 0, expected a whole number from 1 to 1000", {"page_size": 0}),
    "max_retries negative": Case(
        "max_retries: got -1, expected a whole number from 0 to 100", {"max_retries": -1}),
    "request_timeout zero": Case(
        "request_timeout: got 0, expected a whole number from 1 to 3600",
        {"request_timeout": 0}),
    "unknown status": Case(
        "status: got 'done', expected one of queued, ringing, in-progress, completed, busy, "
        "failed, no-answer, canceled", {"status": "done"}),
    "bad log level": Case(
        "log: got 'debug', expected 'error' (or 0) or 'warning' (or 1)", {"log": "debug"}),
    "log level as a number out of range": Case(
        "log: got 2, expected 'error' (or 0) or 'warning' (or 1)", {"log": 2}),
    "category in another case": Case(
        "category: got 'SMS', expected Twilio's usage category in lower case: 'sms'",
        {"category": "SMS"}),
    "category misspelt": Case(
        "category: got 'totalprices', not a Twilio usage category; did you mean 'totalprice'?",
        {"category": "totalprices"}),
    "bad granularity": Case(
        "usage_records_granularity: got 'hourly', expected one of daily, monthly, yearly, "
        "all_time", {"usage_records_granularity": "hourly"}),
    "phone number not E.164": Case(
        "to: got '5558675310', expected an E.164 phone number such as '+15558675310'",
        {"to": "5558675310"}),
    "bad start date": Case(
        "start_date: got 'yesterday', expected an ISO 8601 date such as '2024-01-31' or "
        "'2024-01-31T00:00:00Z'", {"start_date": "yesterday"}),
    "bad end date": Case(
        "end_date: got '2024-13-01', expected an ISO 8601 date such as '2024-01-31' or "
        "'2024-01-31T00:00:00Z'", {"end_date": "2024-13-01"}),
    "start date in the future": Case(
        "start_date: got '2099-01-01', a day after today ({today} UTC); no record can match it",
        {"start_date": "2099-01-01"}),
    "start after end": Case(
        "end_date: must not be before start_date",
        {"start_date": "2024-02-01", "end_date": "2024-01-01"}),
    "bad account_sids item": Case(
        "account_sids: got 'AC1', expected Account SIDs ('AC' + 32 hex digits)",
        {"account_sids": ["AC1"]}),
    "account_shard past its count": Case(
        """account_shard: expected "K/N" with 1 <= K <= N, got '9/8'""",
        {"account_shard": "9/8"}),
    "account_shard counted from 0": Case(
        """account_shard: expected "K/N" with 1 <= K <= N, got '0/3'""",
        {"account_shard": "0/3"}),
    "account_shard not K/N": Case(
        """account_shard: expected "K/N" with 1 <= K <= N, got 'half'""",
        {"account_shard": "half"}),
    "base_url not http": Case(
        "base_url: got 'ftp://x', expected a URL starting with https://",
        {"base_url": "ftp://x"}),
    "empty config file": Case("config file {dir}/config.json: empty, expected a JSON object",
                              config_text=""),
    "non-JSON config file": Case(
        "config file {dir}/config.json: not valid JSON (Expecting property name enclosed in "
        "double quotes at line 1 column 2)", config_text="{account_sid: 1}"),
    "config file not an object": Case(
        "config file {dir}/config.json: expected a JSON object, got list",
        config_text='["AC"]'),
    "missing config file": Case("config file /nonexistent/tap.json: not found",
                                args=("--config", "/nonexistent/tap.json")),
    "malformed state file": Case(
        "state file {dir}/state.json: not valid JSON (Expecting value at line 1 column 14)",
        state='{"bookmarks":'),
    "state file not an object": Case(
        "state file {dir}/state.json: expected a JSON object, got list", state="[]"),
    "state bookmarks not an object": Case(
        'state: "bookmarks" must be an object of streams', state={"bookmarks": []}),
    "state bookmark not a date": Case(
        'state: bookmarks.calls.partitions[0].replication_key_value: got "soon", expected an '
        "ISO 8601 date-time",
        state={"bookmarks": {"calls": {"partitions": [
            {"context": {"account_sid": SID}, "replication_key": "start_time",
             "replication_key_value": "soon"}]}}}),
    "state of another tap": Case(
        "state: bookmarks only for streams tap-twilio does not have ('tickets', 'users'); "
        "the state of another tap? This tap's streams are listed by --discover",
        state={"bookmarks": {"users": {"replication_key_value": "2024-01-01"},
                             "tickets": {"replication_key_value": "2024-01-01"}}}),
    "catalog passed as the state": Case(
        'state: this is a catalog ("streams"), not a state; pass it with --catalog',
        state=catalog_of("calls")),
    "state without bookmarks": Case(
        'state: no "bookmarks" (keys: calls); expected a Singer state {"bookmarks": {...}}, '
        "the value of the last STATE message",
        state={"calls": {"replication_key_value": "2024-01-01"}}),
    "catalog naming an unknown stream": Case(
        "catalog: unknown stream 'sms_logs'; this tap's streams are listed by --discover",
        catalog=catalog_of("accounts", "sms_logs")),
    "catalog not a catalog": Case(
        'catalog: expected {"streams": [...]}, as written by --discover',
        catalog={"streams": "calls"}),
    "non-JSON catalog file": Case(
        "catalog file {dir}/catalog.json: not valid JSON (Expecting value at line 1 column 1)",
        catalog="streams: [calls]"),
    "unknown option": Case("No such option '--bogus'. Did you mean '--about'?",
                           args=("--bogus",), exit_code=2),
    # Refused by Twilio: one request each, never retried.
    "bad credentials (401)": Case(
        "Twilio rejected the credentials (HTTP 401, Twilio code 20003: Authenticate); check "
        "account_sid and auth_token (or api_key_sid and api_key_secret)",
        {"auth_token": "0123456789abcdef0123456789abcdef"}),
    "bad API key secret (401)": Case(
        "Twilio rejected the credentials (HTTP 401, Twilio code 20003: Authenticate); check "
        "account_sid and auth_token (or api_key_sid and api_key_secret)",
        {"auth_token": None, "api_key_sid": "{key_sid}", "api_key_secret": "wrong"}),
    "403 on the main account": Case(
        "calls: HTTP 403, Twilio code 20403: Forbidden; check that these credentials may read "
        "this resource of account {account_sid}", setup=deny_main("calls", 403)),
    "404 on the main account": Case(
        "recordings: HTTP 404, Twilio code 20404: The requested resource "
        "/2010-04-01/Accounts/{account_sid}/Recordings.json was not found; check that these "
        "credentials may read this resource of account {account_sid}",
        setup=deny_main("recordings", 404)),
    "400 from Twilio": Case(
        "accounts: Twilio refused the request (HTTP 400, Twilio code 20001: Invalid "
        "PageSize: 1000); check the settings this stream sends (start_date, last_n_days, "
        "end_date, to, from, status, log, category)", {"base_url": "{refusing}"}),
    "Twilio unreachable": Case(
        "could not connect to http://127.0.0.1:9: connection refused; check base_url, region, "
        "edge and the network", {"base_url": "http://127.0.0.1:9"}),
    "connections dropped, retries spent": Case(
        "could not reach {emulator} (ConnectionError); check base_url and the network, then "
        "run again", {"max_retries": 0}, setup=lambda emu: emu.faults.fail_from(0, "reset")),
}


class Refusing(BaseHTTPRequestHandler):
    """Twilio answering 400 to everything (the emulator's faults are transient only)."""

    protocol_version = "HTTP/1.1"
    requests: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.requests.append(self.path)
        body = json.dumps({"code": 20001, "message": "Invalid PageSize: 1000", "status": 400,
                           "more_info": "https://www.twilio.com/docs/errors/20001"}).encode()
        self.send_response(400)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def refusing() -> str:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Refusing)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def fill(value: Any, emu: Emulator, refusing: str = "") -> Any:
    if isinstance(value, str):
        today = dt.datetime.now(dt.timezone.utc).date().isoformat()
        for name, filled in (("{account_sid}", emu.account_sid), ("{emulator}", emu.url),
                             ("{key_sid}", emu.api_key_sid), ("{refusing}", refusing),
                             ("{today}", today)):
            value = value.replace(name, filled)
    return value


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_bad_input_fails_in_one_line_naming_the_problem(
    emu: Emulator, refusing: str, case: Case
) -> None:
    config = emu.config(max_concurrency=1)
    for name, value in case.changes.items():
        config[name] = fill(value, emu, refusing)
    Refusing.requests.clear()
    config = {name: value for name, value in config.items() if value is not None}
    if case.setup:
        case.setup(emu)
    emu.clear_requests()
    try:
        run = run_tap(case.config_text if case.config_text is not None else config,
                      state=case.state, catalog=case.catalog, args=case.args, timeout=120)
    finally:
        emu.faults.clear()

    lines = run.stderr.strip().splitlines()
    assert lines, "nothing on stderr"
    expected = re.escape(PREFIX + fill(case.message, emu)).replace(re.escape("{dir}"), r"\S+")
    assert re.fullmatch(expected, lines[-1]), lines[-1]
    assert run.returncode == case.exit_code
    assert "Traceback" not in run.stderr
    refused = [(r.path, r.raw_query) for r in emu.requests if r.status and r.status >= 400]
    assert len(refused) == len(set(refused)), "a refused request was retried"
    assert all(r.status < 500 for r in emu.requests if r.status)
    assert len(Refusing.requests) <= 1


def test_a_malformed_bookmark_is_rejected_before_any_request(emu: Emulator) -> None:
    emu.clear_requests()
    run = run_tap(emu.config(), state={"bookmarks": {"messages": {"partitions": [
        {"context": {"account_sid": emu.account_sid}, "replication_key": "date_sent",
         "replication_key_value": 20240101}]}}})
    assert run.returncode == 1
    assert run.stderr.strip().splitlines()[-1] == (
        PREFIX + "state: bookmarks.messages.partitions[0].replication_key_value: got 20240101, "
        "expected an ISO 8601 date-time")
    assert emu.requests == []


def test_a_valid_state_and_catalog_pass_the_checks(emu: Emulator) -> None:
    discovered = discovered_catalog(emu.config())
    state = {"bookmarks": {"calls": {"partitions": [
        {"context": {"account_sid": emu.account_sid}, "replication_key": "start_time",
         "replication_key_value": "2026-01-01T00:00:00+00:00"}]}}}
    run = run_tap(emu.config(), state=state, catalog=discovered)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.records["calls"]


def calls_bookmarked(emu: Emulator, days_ago: int) -> dict:
    """A state whose calls bookmark of the main account is `days_ago` days back."""
    when = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=days_ago)).replace(
        microsecond=0)
    return {"bookmarks": {"calls": {"partitions": [
        {"context": {"account_sid": emu.account_sid}, "replication_key": "start_time",
         "replication_key_value": when.isoformat()}]}}}


@pytest.mark.parametrize("form", ["meltano", "STATE message", "with another tap's stream"])
def test_a_wrapped_state_is_resumed_from_as_the_plain_one(emu: Emulator, form: str) -> None:
    config = emu.config(max_concurrency=1, include_subaccounts=False, lookback_days=0)
    catalog = catalog_selecting(config, {"accounts", "calls"})
    state = calls_bookmarked(emu, days_ago=5)
    plain = run_tap(config, state=state, catalog=catalog)
    assert plain.returncode == 0, plain.stderr[-2000:]
    full = run_tap(config, catalog=catalog)
    assert 0 < len(plain.records["calls"]) < len(full.records["calls"])  # the bookmark counts

    given = {"meltano": {"singer_state": state},
             "STATE message": {"type": "STATE", "value": state},
             "with another tap's stream": {"bookmarks": {**state["bookmarks"], "tickets": {}}},
             }[form]
    run = run_tap(config, state=given, catalog=catalog)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.keys("calls") == plain.keys("calls")
    if form == "with another tap's stream":
        assert "| state: bookmarks of streams tap-twilio does not have are ignored: 'tickets'" in (
            run.stderr)


def test_a_category_twilio_may_have_added_is_sent_with_a_warning(emu: Emulator) -> None:
    emu.clear_requests()
    run = run_tap(emu.config(category="voice-intelligence-minutes"),
                  catalog=catalog_of("accounts", "usage_records"))
    assert run.returncode == 0, run.stderr[-2000:]
    warnings = [line for line in run.stderr.splitlines() if "| WARNING" in line]
    assert len(warnings) == 2
    assert warnings[0].endswith(
        "| category: 'voice-intelligence-minutes' is not among the 643 usage categories "
        "tap-twilio knows; the closest known is 'voice-intelligence'. It is sent as it is; "
        "usage_records stays empty if Twilio has no such category")
    assert {r.query.get("Category") for r in emu.requests if "Usage" in r.path} == {
        "voice-intelligence-minutes"}
    assert run.records["usage_records"] == []
    # The emulator has no such category: the end of the run says it matched nothing.
    assert "| usage_records: no record matched category='voice-intelligence-minutes'" in (
        warnings[1])
