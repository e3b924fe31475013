"""Twilio's faults through the CLI: retries lose and repeat nothing, budgets end in one line,
an interrupted run resumes from its last STATE, and no secret is ever printed.

The datasets are small and pages short (`page_size` 7) so that a run makes a couple of
hundred requests: with 10% of them failing, the tap's real backoff (1, 2, 4 s with jitter,
Retry-After: 1) keeps each faulty run well under a minute.
"""

from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.emulator import FAULT_KINDS, Emulator
from tests.tap_runner import (
    REPO,
    TapRun,
    catalog_selecting,
    parse_messages,
    record_key,
    run_acting_after,
    run_tap,
)

SMALL = {
    "calls": 40,
    "messages": 40,
    "conferences": 12,
    "conference_participants": 2,
    "notifications": 20,
    "recordings": 15,
    "transcriptions": 6,
    "incoming_phone_numbers": 5,
    "outgoing_caller_ids": 3,
    "addresses": 3,
    "applications": 3,
    "keys": 2,
    "queues": 2,
    "usage_triggers": 2,
    "alerts": 12,
}
INCREMENTAL = {"calls", "messages", "conferences", "notifications", "recordings"}
RETRY_LINE = re.compile(
    r"\| (?P<stream>\w+): retry (?P<try>\d+) in (?P<wait>\d+\.\d)s(?P<ra> \(Retry-After\))? "
    r"after (?P<reason>.+)$"
)
ERROR_PREFIX = "tap-twilio: error: "


@pytest.fixture
def small() -> Emulator:
    """A small emulator of the test's own (faults are per test): one subaccount, young
    accounts (few usage days), every list several pages long at `page_size` 7."""
    with Emulator(seed=31, subaccounts=1, sizes=SMALL, account_ages_days=[60, 20]) as emu:
        yield emu


def keys(run: TapRun, stream: str) -> list[tuple]:
    return sorted(record_key(stream, r) for r in run.records[stream])


def canonical(records: list[dict]) -> list[str]:
    return sorted(json.dumps(r, sort_keys=True, default=str) for r in records)


def failed_run_messages(run: TapRun) -> TapRun:
    """`run_tap` parses messages of successful runs only; a failed run's are wanted too."""
    if run.returncode != 0:
        parse_messages(run.stdout, run)
    return run


def last_line(run: TapRun) -> str:
    lines = run.stderr.strip().splitlines()
    return lines[-1] if lines else ""


# --- 1. transient faults are retried: exactly the fault-free records ----------------------


def test_ten_percent_faults_of_every_kind_change_nothing(small: Emulator) -> None:
    config = small.config(page_size=7)
    clean = run_tap(config)
    assert clean.returncode == 0, clean.stderr[-2000:]
    for stream in INCREMENTAL | {"accounts", "alerts", "keys"}:
        truth = sorted(record_key(stream, r) for r in small.truth(stream))
        assert keys(clean, stream) == truth, stream
    clean_requests = len(small.requests)
    assert clean_requests > 150  # many pages: room for many faults

    small.clear_requests()
    small.faults.configure(rate=0.1, kinds=FAULT_KINDS, seed=3)
    faulty = run_tap(config)
    injected = list(small.faults.injected)

    assert faulty.returncode == 0, faulty.stderr[-3000:]
    kinds = Counter(kind for _, kind in injected)
    assert set(kinds) == set(FAULT_KINDS), kinds  # every kind was met at least once
    assert len(injected) >= 15
    assert len(small.requests) == clean_requests + len(injected)  # one retry per fault
    assert set(faulty.records) == set(clean.records)
    for stream, records in clean.records.items():
        emitted = keys(faulty, stream)
        assert len(emitted) == len(set(emitted)), f"{stream}: a record was emitted twice"
        assert emitted == keys(clean, stream), f"{stream}: records lost or added"
        assert canonical(faulty.records[stream]) == canonical(records), stream

    # One log line per retry, with the reason and the wait; Retry-After: 1 is honoured.
    retries = [m for m in map(RETRY_LINE.search, faulty.stderr.splitlines()) if m]
    assert len(retries) == len(injected)
    reasons = Counter(m["reason"].split(",")[0].split(" (")[0] for m in retries)
    assert reasons == {
        "HTTP 429": kinds["429"] + kinds["429-retry-after"],
        "HTTP 500": kinds["500"],
        "HTTP 502": kinds["502"],
        "HTTP 503": kinds["503"],
        "HTTP 504": kinds["504"],
        "connection failed or reset": kinds["reset"],
        "answer cut off": kinds["truncated"],
        "incomplete JSON in a 200 answer": kinds["truncated-json"],
    }
    honoured = [m for m in retries if m["ra"]]
    assert len(honoured) == kinds["429-retry-after"]
    assert all(m["wait"] == "1.0" for m in honoured)
    backed_off = [m for m in retries if not m["ra"]]
    assert backed_off, "no retry without Retry-After: the backoff is not checked"
    for m in backed_off:  # 1 s, 2 s, 4 s ... for the 1st, 2nd, 3rd retry, less jitter
        full = 2.0 ** (int(m["try"]) - 1)
        assert full / 2 - 0.05 <= float(m["wait"]) <= full + 0.05, m.group(0)
    assert "Traceback" not in faulty.stderr


def test_a_timeout_is_retried_then_reported_in_one_line(small: Emulator) -> None:
    small.latency = 1.6
    config = small.config(request_timeout=1, max_retries=2, max_retry_seconds=30)
    run = run_tap(config, catalog=catalog_selecting(config, {"accounts"}))
    assert run.returncode == 1
    assert last_line(run) == (
        ERROR_PREFIX + "gave up retrying: Twilio did not answer in time (ReadTimeout); "
        "raise request_timeout or run again later"
    )
    retries = [m for m in map(RETRY_LINE.search, run.stderr.splitlines()) if m]
    assert [m["try"] for m in retries] == ["1", "2"]
    assert all(m["reason"] == "no answer within request_timeout (ReadTimeout)" for m in retries)
    assert "Traceback" not in run.stderr


@pytest.mark.parametrize("status", [403, 404])
def test_a_denied_subaccount_resource_is_skipped_with_a_warning(small: Emulator, status) -> None:
    sub = small.subaccount_sids[0]
    small.faults.deny(sub, "recordings", status)
    config = small.config(page_size=7)
    run = run_tap(config, catalog=catalog_selecting(config, {"accounts", "recordings", "calls"}))
    assert run.returncode == 0, run.stderr[-2000:]
    warnings = [line for line in run.stderr.splitlines() if "skipped for account" in line]
    assert len(warnings) == 1
    assert f"recordings: skipped for account {sub}: HTTP {status}, Twilio code 20{status}" in (
        warnings[0])
    assert keys(run, "recordings") == sorted(
        record_key("recordings", r) for r in small.truth("recordings", small.account_sid))
    assert keys(run, "calls") == sorted(record_key("calls", r) for r in small.truth("calls"))
    denied = [r.raw_query for r in small.requests if r.status == status]
    assert denied and len(denied) == len(set(denied))  # each date slice asked once: no retry


# --- 2. the retry budget: one line, STATE written, nothing lost on the next run ----------


def test_exhausted_retry_budget_stops_in_one_line_and_the_next_run_loses_nothing(
    small: Emulator,
) -> None:
    config = small.config(page_size=7, max_retries=2, max_retry_seconds=10, max_concurrency=1)
    clean = run_tap(config)
    assert clean.returncode == 0, clean.stderr[-2000:]
    total = len(small.requests)

    small.clear_requests()
    small.faults.fail_from(total // 2, "503")
    first = failed_run_messages(run_tap(config))
    assert first.returncode == 1
    assert last_line(first) == (
        ERROR_PREFIX + "gave up retrying: HTTP 503, Twilio code 20503: Service Unavailable; "
        "Twilio kept failing, run again later"
    )
    assert "Traceback" not in first.stderr
    assert len(small.requests) == total // 2 + 3  # the failing request, tried 1 + 2 times
    retries = [m for m in map(RETRY_LINE.search, first.stderr.splitlines()) if m]
    assert [m["try"] for m in retries] == ["1", "2"]
    assert any("giving up after 3 tries" in line for line in first.stderr.splitlines())
    assert first.states, "no STATE message before the failure"
    assert sum(map(len, first.records.values())) > 0

    small.faults.clear()
    second = run_tap(config, state=first.last_state)
    assert second.returncode == 0, second.stderr[-2000:]
    for stream in clean.records:
        union = set(keys(first, stream)) | set(keys(second, stream))
        assert union == set(keys(clean, stream)), f"{stream}: records lost across the runs"


# --- 5. an interrupted run resumes from its last STATE ---------------------------------


def run_until_killed(config: dict, catalog: dict, after_records: int, sig: int) -> TapRun:
    """Start the tap, read its messages as they come, and signal it after some RECORDs."""
    def stop(process: subprocess.Popen[str]) -> bool:
        process.send_signal(sig)
        return sig == signal.SIGKILL  # what follows in the pipe was written before the kill

    return run_acting_after(config, catalog, after_records, stop)


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_a_killed_run_resumed_from_its_last_state_loses_nothing(small: Emulator, sig) -> None:
    small.latency = 0.005  # let the kill land mid-stream
    config = small.config(page_size=7, max_concurrency=2)
    catalog = catalog_selecting(config, INCREMENTAL | {"accounts"})
    truth = {s: sorted(record_key(s, r) for r in small.truth(s)) for s in INCREMENTAL}
    total = sum(map(len, truth.values()))

    first = run_until_killed(config, catalog, after_records=total * 2 // 3, sig=sig)
    assert first.returncode == (-signal.SIGKILL if sig == signal.SIGKILL else 128 + sig)
    if sig == signal.SIGTERM:
        assert first.stderr.strip().splitlines()[-1] == (
            ERROR_PREFIX + "interrupted by SIGTERM; run again with the last STATE message to "
            "resume")
    for stream in INCREMENTAL:  # the stop's STATE written mid-write repeated lines once
        assert len(set(keys(first, stream))) == len(first.records[stream]), (
            f"{stream}: a record written twice before the stop")
    emitted = sum(len(first.records[s]) for s in INCREMENTAL)
    assert 0 < emitted < total, "the kill did not interrupt the run"
    state = first.last_state
    assert state, "no STATE message before the kill"
    # A bookmark, or the progress of a list the kill interrupted (tap_twilio/twilio/progress.py).
    bookmarked = {stream for stream, entry in state.get("bookmarks", {}).items()
                  if any(p.get("replication_key_value") or p.get("progress")
                         for p in entry.get("partitions", []))}
    assert bookmarked & INCREMENTAL, state  # the resume really starts from bookmarks

    second = run_tap(config, state=state, catalog=catalog)
    assert second.returncode == 0, second.stderr[-2000:]
    for stream in INCREMENTAL:
        union = set(keys(first, stream)) | set(keys(second, stream))
        assert sorted(union) == truth[stream], f"{stream}: records lost across the runs"
    assert sum(len(second.records[s]) for s in INCREMENTAL) < total  # bookmarks were used


def test_sigterm_while_workers_wait_to_retry_stops_at_once(small: Emulator) -> None:
    """Twilio failing for a while: the list's parallel walks sleep between retries (up to a
    minute each) while the main thread waits for their pages. A SIGTERM then ends the run
    at once, with its state and one line, instead of waiting for those sleeps (checked: it
    fails when the workers' threads are not daemons)."""
    config = small.config(page_size=7, max_concurrency=4, max_retry_seconds=600)
    catalog = catalog_selecting(config, {"accounts", "messages"})
    small.faults.fail_from(6, "503")  # the accounts list and first pages through, then none
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "config.json").write_text(json.dumps(config))
        Path(tmp, "catalog.json").write_text(json.dumps(catalog))
        errors = Path(tmp, "stderr")
        with errors.open("w") as err_out:
            process = subprocess.Popen(
                [sys.executable, "-m", "tap_twilio", "--config", f"{tmp}/config.json",
                 "--catalog", f"{tmp}/catalog.json"],
                cwd=REPO, stdout=subprocess.PIPE, stderr=err_out, text=True)
        try:
            waits: list[float] = []
            deadline = time.monotonic() + 60
            while not any(w >= 4 for w in waits) and time.monotonic() < deadline:
                time.sleep(0.2)
                waits = [float(m["wait"]) for m in map(RETRY_LINE.search,
                                                       errors.read_text().splitlines()) if m]
            assert any(w >= 4 for w in waits), errors.read_text()[-2000:]
            assert process.poll() is None
            process.send_signal(signal.SIGTERM)
            signalled = time.monotonic()
            stdout, _ = process.communicate(timeout=30)
            stopped_after = time.monotonic() - signalled
        finally:
            process.kill()
            process.wait()
        stderr = errors.read_text()
    # Well before the pending retry (≥ 4 s away) would have been made.
    assert stopped_after < 3, (stopped_after, stderr[-2000:])
    assert process.returncode == 128 + signal.SIGTERM
    assert stderr.strip().splitlines()[-1] == (
        ERROR_PREFIX + "interrupted by SIGTERM; run again with the last STATE message to resume")
    assert "Traceback" not in stderr
    run = TapRun(process.returncode, stdout, stderr)
    parse_messages(stdout, run)
    assert run.states, "no STATE message written on SIGTERM"


# --- 6. a URL that no server answers stops at once; a host that answered is retried ----


def closed_port() -> int:
    """A port on which nothing listens (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize(
    ("where", "expected"),  # the last line, as a regular expression
    [
        ("closed port", r"could not connect to http://127\.0\.0\.1:{port}: connection "
         r"refused; check base_url, region, edge and the network"),
        ("https to plain http", r"could not connect to https://127\.0\.0\.1:{port}: TLS "
         r"failed \(WRONG_VERSION_NUMBER\): the server may speak plain http://; check "
         r"base_url, region, edge and the network"),
        ("unknown host", r"could not connect to http://no-such-host\.invalid:80: host not "
         r"found \(.+\); check base_url, region, edge and the network"),
    ],
)
def test_a_url_where_no_server_answers_stops_within_seconds_naming_the_host(
    small: Emulator, where: str, expected: str
) -> None:
    port = closed_port() if where == "closed port" else small.port
    url = {"closed port": f"http://127.0.0.1:{port}",
           "https to plain http": f"https://127.0.0.1:{port}",
           "unknown host": "http://no-such-host.invalid"}[where]
    # The default retry budget (8 retries, 600 s): none of it is spent on such a URL.
    config = {**small.config(), "base_url": url}
    started = time.monotonic()
    run = run_tap(config, timeout=60)
    elapsed = time.monotonic() - started
    assert run.returncode == 1
    pattern = re.escape(ERROR_PREFIX) + expected.replace("{port}", str(port))
    assert re.fullmatch(pattern, last_line(run)), last_line(run)
    assert elapsed < 10, elapsed
    assert not [line for line in run.stderr.splitlines() if RETRY_LINE.search(line)]
    assert "Traceback" not in run.stderr
    assert small.auth_token not in run.stderr


def test_connections_refused_mid_run_are_retried_until_the_host_is_back() -> None:
    """The host answered, then refuses connections for a while (a restart): each request
    is retried as before, and the run completes with every record."""
    with Emulator(seed=31, subaccounts=1, sizes=SMALL, account_ages_days=[60, 20],
                  port=closed_port(), latency=0.02) as emu:
        config = emu.config(page_size=7, max_concurrency=1)
        catalog = catalog_selecting(config, {"accounts", "calls", "messages"})
        emu.clear_requests()
        with tempfile.TemporaryDirectory() as tmp:
            Path(tmp, "config.json").write_text(json.dumps(config))
            Path(tmp, "catalog.json").write_text(json.dumps(catalog))
            errors = Path(tmp, "stderr")
            with errors.open("w") as err_out:
                process = subprocess.Popen(
                    [sys.executable, "-m", "tap_twilio", "--config", f"{tmp}/config.json",
                     "--catalog", f"{tmp}/catalog.json"],
                    cwd=REPO, stdout=subprocess.PIPE, stderr=err_out, text=True)
            try:
                deadline = time.monotonic() + 30
                while len(emu.requests) < 4 and time.monotonic() < deadline:
                    time.sleep(0.02)
                # Down: the open keep-alive connection dropped and no listener, so the
                # next request has to connect anew and is refused; back after that.
                emu.faults.fail_from(0, "reset")
                emu.stop()
                while "after connection refused" not in errors.read_text() and (
                        time.monotonic() < deadline):
                    time.sleep(0.02)
                emu.faults.clear()
                emu.start()
                stdout, _ = process.communicate(timeout=120)
            finally:
                process.kill()
                process.wait()
            stderr = errors.read_text()
        run = TapRun(process.returncode, stdout, stderr)
        assert run.returncode == 0, stderr[-2000:]
        parse_messages(stdout, run)
        reasons = [m["reason"] for m in map(RETRY_LINE.search, stderr.splitlines()) if m]
        assert "connection refused (ConnectionError)" in reasons, stderr[-2000:]
        for stream in ("calls", "messages"):
            assert keys(run, stream) == sorted(record_key(stream, r) for r in emu.truth(stream))


# --- 4. secrets never appear in any output ------------------------------------------------


def test_no_secret_appears_in_any_output_of_any_mode(small: Emulator) -> None:
    secrets = {"auth_token": small.auth_token, "api_key_secret": small.api_key_secret,
               **small.auth_tokens}
    wrong_token = "f0e1d2c3b4a5968778695a4b3c2d1e0f"
    token_config = small.config(page_size=7)
    key_config = {**small.config(page_size=7), "auth_token": None,
                  "api_key_sid": small.api_key_sid, "api_key_secret": small.api_key_secret}
    key_config = {k: v for k, v in key_config.items() if v is not None}
    catalog = catalog_selecting(token_config, {"accounts", "calls", "messages", "keys"})
    outputs: list[tuple[str, TapRun]] = []

    def run(label: str, config: dict, **kwargs) -> TapRun:
        result = run_tap(config, **kwargs)
        outputs.append((label, result))
        return result

    for about in ((), ("--format=json",), ("--format=markdown",)):
        assert run("about", token_config, args=("--about", *about)).returncode == 0
    assert run("discover", token_config, args=("--discover",)).returncode == 0
    assert run("test", token_config, args=("--test",)).returncode == 0
    synced = run("sync", token_config)
    assert synced.returncode == 0
    assert synced.records["accounts"] and all(
        "auth_token" not in record for record in synced.records["accounts"])
    assert run("sync with an API key", key_config, catalog=catalog).returncode == 0
    assert run("401", {**token_config, "auth_token": wrong_token}).returncode == 1
    assert run("401 with an API key", {**key_config, "api_key_secret": wrong_token},
               catalog=catalog).returncode == 1
    assert run("token not a string", {**token_config, "auth_token": 987654321098}
               ).returncode == 1
    small.faults.configure(rate=0.3, seed=5)
    assert run("retry-heavy sync", key_config, catalog=catalog).returncode == 0
    small.faults.clear()
    small.faults.fail_from(0, "500")
    assert run("failing retries", {**token_config, "max_retries": 1},
               catalog=catalog).returncode == 1
    small.faults.clear()

    for label, result in outputs:
        text = result.stdout + result.stderr
        for name, secret in {**secrets, "wrong token": wrong_token,
                             "number token": "987654321098"}.items():
            assert secret not in text, f"{name} appears in the output of {label}"
        assert "Traceback" not in text, label
