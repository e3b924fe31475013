"""Twilio's concurrency limit: the tap lowers its requests in flight after a 429 (20429)
and raises them again after successes, so a run against an account that allows fewer
requests in flight than `max_concurrency` gets few 429s and loses or repeats nothing.
"""

from __future__ import annotations

import json
import threading
import time
from contextlib import ExitStack

import pytest

from tap_twilio.streams import DEFAULT_STREAM_NAMES
from tap_twilio.twilio.concurrency import AdaptiveLimiter
from tests.emulator import Emulator
from tests.tap_runner import catalog_selecting, run_tap

STEP = AdaptiveLimiter.SUCCESSES_PER_STEP  # a run of successes is STEP x the allowance


class Throttled(Exception):
    """Stands for the 429 in the limiter's unit tests."""


def throttled_request(limiter: AdaptiveLimiter, key: str = "AC1") -> None:
    with pytest.raises(Throttled), limiter.slot(key):
        raise Throttled


def answered_requests(limiter: AdaptiveLimiter, count: int, key: str = "AC1") -> None:
    for _ in range(count):
        with limiter.slot(key):
            pass


# --- the limiter on its own ----------------------------------------------------------------


def test_each_429_halves_the_requests_in_flight_down_to_one() -> None:
    limiter = AdaptiveLimiter(8, Throttled)
    assert limiter.allowed("AC1") == 8
    seen = []
    for _ in range(5):
        throttled_request(limiter)
        seen.append(limiter.allowed("AC1"))
    assert seen == [4, 2, 1, 1, 1]


def test_429s_of_requests_in_flight_together_halve_once() -> None:
    limiter = AdaptiveLimiter(8, Throttled)
    with pytest.raises(Throttled), ExitStack() as together:
        for _ in range(6):
            together.enter_context(limiter.slot("AC1"))
        raise Throttled  # all six answered 429
    assert limiter.allowed("AC1") == 4
    throttled_request(limiter)  # sent after the halving: it meets the new limit
    assert limiter.allowed("AC1") == 2


def test_runs_of_successes_add_one_back_up_to_the_maximum() -> None:
    limiter = AdaptiveLimiter(4, Throttled)
    throttled_request(limiter)
    assert limiter.allowed("AC1") == 2
    answered_requests(limiter, STEP * 2 - 1)
    assert limiter.allowed("AC1") == 2  # not yet a whole run
    answered_requests(limiter, 1)
    assert limiter.allowed("AC1") == 3
    answered_requests(limiter, STEP * 3)
    assert limiter.allowed("AC1") == 4
    answered_requests(limiter, 100)
    assert limiter.allowed("AC1") == 4  # never above max_concurrency


def test_a_429_restarts_the_run_of_successes() -> None:
    limiter = AdaptiveLimiter(8, Throttled)
    throttled_request(limiter)  # 4
    answered_requests(limiter, STEP * 4 - 1)
    throttled_request(limiter)  # 2, and the successes before no longer count
    answered_requests(limiter, STEP * 2 - 1)
    assert limiter.allowed("AC1") == 2


def test_other_failures_neither_lower_nor_raise_and_free_their_slot() -> None:
    limiter = AdaptiveLimiter(2, Throttled)
    throttled_request(limiter)
    for _ in range(5):
        with pytest.raises(ConnectionError), limiter.slot("AC1"):
            raise ConnectionError
    assert limiter.allowed("AC1") == 1
    answered_requests(limiter, 1)  # would wait forever if a failure kept its slot


def test_a_request_waits_while_its_account_is_at_its_allowance() -> None:
    limiter = AdaptiveLimiter(2, Throttled)
    throttled_request(limiter)  # 1 in flight at most
    holding, release = threading.Event(), threading.Event()
    order: list[str] = []

    def first() -> None:
        with limiter.slot("AC1"):
            holding.set()
            release.wait(5)
            order.append("first answered")

    def second() -> None:
        with limiter.slot("AC1"):
            order.append("second sent")

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    threads[0].start()
    assert holding.wait(5)
    threads[1].start()
    with limiter.slot("AC2"):  # another account is not held up
        order.append("other account sent")
    time.sleep(0.2)
    release.set()
    for thread in threads:
        thread.join(5)
    assert order == ["other account sent", "first answered", "second sent"]


# --- a whole run against an account that allows 4 requests in flight -----------------------

SIZES = {
    "messages": 600, "calls": 300, "conferences": 6, "notifications": 60, "recordings": 40,
    "transcriptions": 5, "incoming_phone_numbers": 3, "outgoing_caller_ids": 2,
    "addresses": 2, "applications": 2, "keys": 2, "queues": 2, "usage_triggers": 2,
    "alerts": 30,
}
# Child lists (a message's media, a conference's participants) are left out: one-page lists
# read a few at a time would only thin out the share of 429s.
CHILDREN = {"message_media", "conference_participants"}


def canonical(run) -> dict[str, list[str]]:
    return {stream: sorted(json.dumps(r, sort_keys=True, default=str) for r in records)
            for stream, records in run.records.items()}


def test_a_run_adapts_to_twilios_concurrency_limit_and_reads_the_same() -> None:
    # Young accounts (few days of usage records) and short pages: about 180 requests, most
    # of them in the parallel walks of messages and calls; 50 ms each, so they overlap.
    with Emulator(seed=41, subaccounts=1, sizes=SIZES, latency=0.05,
                  account_ages_days=[30, 10]) as emu:
        config = emu.config(page_size=20, max_concurrency=8)
        catalog = catalog_selecting(config, set(DEFAULT_STREAM_NAMES) - CHILDREN)
        emu.clear_requests()
        clean = run_tap(config, catalog=catalog)
        assert clean.returncode == 0, clean.stderr[-2000:]
        # Unlimited, the run has more than 4 requests of one account in flight at once.
        assert emu.concurrency.peak > 4

        emu.max_in_flight = 4
        emu.concurrency.reset_counts()
        emu.clear_requests()
        limited = run_tap(config, catalog=catalog)
        assert limited.returncode == 0, limited.stderr[-2000:]
        requests = emu.requests
        refused = [r for r in requests if r.fault == "concurrency-limit"]

    assert canonical(limited) == canonical(clean)
    assert limited.last_state == clean.last_state
    assert refused, "the run never reached the limit: nothing was tested"
    assert len(refused) == emu.concurrency.rejected
    assert len(refused) / len(requests) <= 0.10, (len(refused), len(requests))
