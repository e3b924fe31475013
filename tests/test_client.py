"""Small pure pieces of the client: Retry-After parsing and date slicing."""

from __future__ import annotations

import datetime as dt
import email.utils
import itertools

import pytest
import requests
from singer_sdk.exceptions import RetriableAPIError

from tap_twilio.twilio.http import retry_after_seconds
from tap_twilio.twilio.seeking import Seed, lands_after_seed, null_or_within
from tap_twilio.twilio.window import date_slices


def failure_with(header: str | None) -> RetriableAPIError:
    response = requests.Response()
    response.status_code = 429
    if header is not None:
        response.headers["Retry-After"] = header
    return RetriableAPIError("HTTP 429", response)


def test_retry_after_in_seconds_or_as_an_http_date() -> None:
    assert retry_after_seconds(failure_with("3")) == 3.0
    assert retry_after_seconds(failure_with("0.5")) == 0.5
    later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=30)
    waited = retry_after_seconds(failure_with(email.utils.format_datetime(later, usegmt=True)))
    assert waited is not None and 25 <= waited <= 30


@pytest.mark.parametrize("header", [None, "", "soon", "Mon, 99 Foo 2024 99:99:99 GMT"])
def test_missing_or_unreadable_retry_after_falls_back_to_backoff(header) -> None:
    assert retry_after_seconds(failure_with(header)) is None
    assert retry_after_seconds(ConnectionResetError()) is None


def test_date_slices_cover_the_window_without_gaps_or_overlap() -> None:
    first, last = dt.date(2026, 1, 1), dt.date(2026, 3, 31)
    slices = date_slices(first, last, 16)
    assert len(slices) == 16
    assert slices[0][0] == first and slices[-1][1] == last
    for (_, end), (start, _) in itertools.pairwise(slices):
        assert start == end + dt.timedelta(days=1)
    assert date_slices(first, first, 16) == [(first, first)]


def test_a_window_taken_client_side_keeps_what_twilios_day_filter_lists() -> None:
    # DateSent>=2024-03-01 and DateSent<=2024-03-31: UTC calendar days, both ends included.
    first, last = dt.date(2024, 3, 1), dt.date(2024, 3, 31)
    listed = {
        "Fri, 01 Mar 2024 00:00:00 +0000": True,
        "Sun, 31 Mar 2024 23:59:59 +0000": True,
        "Thu, 29 Feb 2024 23:59:59 +0000": False,
        "Mon, 01 Apr 2024 00:00:00 +0000": False,
        "Sun, 31 Mar 2024 23:30:00 -0100": False,  # 00:30 on 1 April in UTC
        None: True,  # a null date: the sweep's, kept
        "": True,
    }
    for value, expected in listed.items():
        assert null_or_within(value, first, last) is expected, value
    assert null_or_within("Mon, 01 Apr 2030 00:00:00 +0000", first, None)  # open above


def test_a_seeded_page_is_proven_only_when_it_starts_right_after_its_seed() -> None:
    day = dt.date(2026, 5, 10)
    seed = Seed("SM1", "SM2", day)

    def message(sid: str, sent: str | None) -> dict:
        return {"sid": sid, "date_sent": sent}

    after = [message("SM2", "Sat, 09 May 2026 10:00:00 +0000"), message("SM3", None)]
    assert lands_after_seed(after, seed, "date_sent")
    # records the probe could not list (null date, later day) may lie between the two
    gap = [message("SMq", None), message("SMl", "2026-05-11T00:00:00Z"), *after]
    assert lands_after_seed(gap, seed, "date_sent")
    # the seed itself, a record of another part of the list, or no successor: not proven
    at_seed = [message("SM1", "Sun, 10 May 2026 23:59:59 +0000"), *after]
    assert not lands_after_seed(at_seed, seed, "date_sent")
    elsewhere = [message("SM9", "Fri, 01 May 2026 10:00:00 +0000"), *after]
    assert not lands_after_seed(elsewhere, seed, "date_sent")
    assert not lands_after_seed([message("SM9", None)], seed, "date_sent")
    assert not lands_after_seed([], seed, "date_sent")
