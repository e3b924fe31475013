"""Small pure pieces of the client: Retry-After parsing and date slicing."""

from __future__ import annotations

import datetime as dt
import email.utils
import itertools

import pytest
import requests
from singer_sdk.exceptions import RetriableAPIError

from tap_twilio.client import date_slices, null_or_within, retry_after_seconds


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
