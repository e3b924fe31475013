"""A full history read from several places of one list at once, with nothing lost or doubled.

Records whose date is still null (a queued or canceled message, an undialled call) match no
date filter, so a full history cannot be cut into date slices; it is walked unfiltered, from
the top and after seed records that date probes find (`PageToken=PA<SID>`).
"""

from __future__ import annotations

import itertools
import math

import pytest

from tests.emulator import Emulator
from tests.tap_runner import catalog_selecting, run_tap, truth

SIZES = {"messages": 1500, "calls": 700}
PAGE = 50
WORKERS = 4


def list_requests(emu: Emulator, stream: str) -> list:
    return [r for r in emu.requests
            if r.resource == stream and r.account_sid == emu.account_sid]


def overlapping(requests: list) -> int:
    """How many requests began before the one before them had been answered."""
    spans = sorted((r.started, r.started + r.duration) for r in requests)
    return sum(1 for (_, end), (start, _) in itertools.pairwise(spans) if start < end)


@pytest.fixture(scope="module")
def emu():
    with Emulator(seed=31, subaccounts=1, sizes=SIZES, latency=0.02) as emulator:
        yield emulator


@pytest.mark.parametrize("stream", ["messages", "calls"])
def test_a_full_history_is_read_in_parallel_and_every_record_once(emu, stream) -> None:
    config = emu.config(page_size=PAGE, max_concurrency=WORKERS)
    catalog = catalog_selecting(config, {stream})
    emu.clear_requests()
    run = run_tap(config, catalog=catalog)
    assert run.returncode == 0, run.stderr[-2000:]

    listed = truth(emu, stream)
    emitted = run.keys(stream)
    assert len(emitted) == len(set(emitted)), "a record was emitted twice"
    assert sorted(emitted) == sorted(r["sid"] for r in listed)
    date_field = {"messages": "date_sent", "calls": "start_time"}[stream]
    assert any(r[date_field] is None for r in run.records[stream])  # the null-dated too

    main = list_requests(emu, stream)
    probes = [r for r in main if r.query.get("PageSize") == "2"]
    pages = [r for r in main if r.query.get("PageSize") == str(PAGE)]
    assert 0 < len(probes) < WORKERS  # one round trip: a walk per worker
    seeded = [r for r in pages if r.query.get("Page") == "1"]
    assert len(seeded) > 2  # walks entered after seeds, besides the one from the top
    assert overlapping(pages) > len(pages) // 2
    assert "reading it in one walk" not in run.stderr  # every seek proved itself
    # Each walk ends on a partial page at most: one extra request per walk.
    records = sum(1 for r in listed if r["account_sid"] == emu.account_sid)
    assert len(pages) <= math.ceil(records / PAGE) + WORKERS


@pytest.mark.parametrize("stream", ["messages", "calls"])
def test_a_server_that_ignores_tokens_it_did_not_issue_loses_and_doubles_nothing(
    stream: str,
) -> None:
    # Its tokens look like Twilio's, but one built from a record is ignored: the page comes
    # from `Page` alone, somewhere else in the list. Every seek must notice before use.
    with Emulator(seed=31, subaccounts=1, sizes=SIZES, page_tokens="issued") as emu:
        config = emu.config(page_size=PAGE, max_concurrency=WORKERS)
        run = run_tap(config, catalog=catalog_selecting(config, {stream}))
        assert run.returncode == 0, run.stderr[-2000:]
        emitted = run.keys(stream)
        assert len(emitted) == len(set(emitted)), "a record was emitted twice"
        assert sorted(emitted) == sorted(r["sid"] for r in truth(emu, stream))
        assert run.stderr.count("did not resume the list right after a record") == 2  # a
        # warning for each account's list, which is then read over Twilio's links


def test_with_seeking_off_every_page_token_is_one_twilio_returned() -> None:
    with Emulator(seed=31, subaccounts=0, sizes=SIZES, page_tokens="issued") as emu:
        config = emu.config(page_size=PAGE, max_concurrency=WORKERS,
                            seek_with_page_tokens=False)
        run = run_tap(config, catalog=catalog_selecting(config, {"messages", "calls"}))
        assert run.returncode == 0, run.stderr[-2000:]
        for stream in ("messages", "calls"):
            assert sorted(run.keys(stream)) == sorted(r["sid"] for r in truth(emu, stream))
        tokens = [r.query["PageToken"] for r in emu.requests if "PageToken" in r.query]
        assert tokens  # the lists are long: they were paged
        assert set(tokens) <= emu.data.issued_tokens()
        assert not [r for r in emu.requests if r.query.get("PageSize") in ("1", "2")]


def test_one_worker_reads_the_list_in_one_walk(emu) -> None:
    config = emu.config(page_size=PAGE, max_concurrency=1)
    catalog = catalog_selecting(config, {"messages"})
    emu.clear_requests()
    run = run_tap(config, catalog=catalog)
    assert run.returncode == 0, run.stderr[-2000:]
    main = list_requests(emu, "messages")
    records = sum(1 for r in truth(emu, "messages") if r["account_sid"] == emu.account_sid)
    assert len(main) == math.ceil(records / PAGE)  # no probes, no seeds
    assert sorted(run.keys("messages")) == sorted(r["sid"] for r in truth(emu, "messages"))


def test_a_twilio_that_refuses_tokens_made_from_sids_still_gives_every_record() -> None:
    with Emulator(seed=31, subaccounts=0, sizes=SIZES, page_tokens="opaque") as emu:
        config = emu.config(page_size=PAGE, max_concurrency=WORKERS)
        catalog = catalog_selecting(config, {"messages"})
        run = run_tap(config, catalog=catalog)
        assert run.returncode == 0, run.stderr[-2000:]
        emitted = run.keys("messages")
        assert len(emitted) == len(set(emitted))
        assert sorted(emitted) == sorted(r["sid"] for r in truth(emu, "messages"))
        assert "reading it in one walk" in run.stderr


def test_faults_while_reading_from_seeds_lose_and_double_nothing() -> None:
    with Emulator(seed=32, subaccounts=0, sizes=SIZES) as emu:
        config = emu.config(page_size=25, max_concurrency=WORKERS, max_retries=8)
        catalog = catalog_selecting(config, {"messages", "calls"})
        emu.faults.configure(rate=0.2, kinds=["500", "429", "reset", "truncated-json"],
                             seed=4)
        run = run_tap(config, catalog=catalog)
        assert run.returncode == 0, run.stderr[-2000:]
        injected = list(emu.faults.injected)
        emu.faults.clear()
        assert len(injected) >= 10
        for stream in ("messages", "calls"):
            emitted = run.keys(stream)
            assert len(emitted) == len(set(emitted)), stream
            assert sorted(emitted) == sorted(r["sid"] for r in truth(emu, stream)), stream


def test_a_list_of_few_pages_gets_few_probes() -> None:
    with Emulator(seed=33, subaccounts=0, sizes={"messages": 130, "calls": 10}) as emu:
        config = emu.config(page_size=PAGE, max_concurrency=8)
        catalog = catalog_selecting(config, {"messages"})
        emu.clear_requests()
        run = run_tap(config, catalog=catalog)
        assert run.returncode == 0, run.stderr[-2000:]
        assert sorted(run.keys("messages")) == sorted(r["sid"] for r in truth(emu, "messages"))
        main = list_requests(emu, "messages")
        probes = [r for r in main if r.query.get("PageSize") == "2"]
        assert len(probes) <= 2  # not max_concurrency - 1 = 7, for three pages
        assert len(main) - len(probes) <= 3 + len(probes)
