"""What the tap asks Twilio for, planned without HTTP: windows, slices, sweeps and seeks
(each a kind of walk, tap_twilio/twilio/walks.py)."""

from __future__ import annotations

import datetime as dt
import itertools

from tap_twilio.twilio.planning import (
    DateFilter,
    ListRules,
    ReadSettings,
    plan_list,
    slice_walks,
)
from tap_twilio.twilio.seeking import seed_walks
from tap_twilio.twilio.walks import (
    DaySpan,
    LinearWalk,
    NullSweep,
    SeekingWalk,
    SlicedWalk,
    SweepFirst,
)
from tap_twilio.twilio.window import Window, reading_window

TODAY = dt.date(2026, 6, 30)
URL = "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json"
BASE = {"PageSize": 1000}
SENT = DateFilter.api_2010("DateSent")
MESSAGES = ListRules(SENT.params, slices=SENT, null_field="date_sent", retention_days=400)
NOTIFICATIONS = ListRules(DateFilter.api_2010("MessageDate").params,
                          slices=DateFilter.api_2010("MessageDate"))
EIGHT = ReadSettings(workers=8, lookback=dt.timedelta(days=3), seeks=True)
CREATED = dt.date(2025, 1, 1)


def test_a_full_history_of_a_list_with_null_dates_is_one_unfiltered_walk_that_seeks() -> None:
    (walk,) = plan_list(URL, BASE, MESSAGES, EIGHT, Window(None, None), CREATED, TODAY).walks
    assert walk.params == BASE
    assert not isinstance(walk, SlicedWalk)
    # Twilio keeps 400 days of messages: no probe reaches further back
    assert isinstance(walk, SeekingWalk)
    assert (walk.first_day, walk.last_day) == (TODAY - dt.timedelta(days=399), TODAY)


def test_seeking_off_or_one_worker_reads_one_plain_walk() -> None:
    for settings in (ReadSettings(8, dt.timedelta(days=3), seeks=False),
                     ReadSettings(1, dt.timedelta(days=3), seeks=True)):
        (walk,) = plan_list(URL, BASE, MESSAGES, settings, Window(None, None), CREATED,
                            TODAY).walks
        assert isinstance(walk, LinearWalk)  # neither sought nor split


def test_a_full_history_without_null_dates_is_split_from_the_account_s_creation() -> None:
    (walk,) = plan_list(URL, BASE, NOTIFICATIONS, EIGHT, Window(None, None), CREATED,
                        TODAY).walks
    assert isinstance(walk, SlicedWalk)
    assert walk.span == DaySpan(CREATED, TODAY, True, True)  # both outer slices open
    slices = slice_walks(walk, DateFilter.api_2010("MessageDate"), workers=8)
    assert len(slices) == 16
    assert "MessageDate>" not in slices[0].params and "MessageDate<" not in slices[-1].params
    for before, after in itertools.pairwise(slices):  # contiguous whole days
        last = dt.date.fromisoformat(before.params["MessageDate<"])
        assert dt.date.fromisoformat(after.params["MessageDate>"]) == last + dt.timedelta(days=1)
    assert slices[0].params["MessageDate<"] < slices[1].params["MessageDate<"]


def test_a_dated_window_over_null_dates_reads_the_sweep_first() -> None:
    window = Window(dt.date(2026, 6, 1), None)
    (walk,) = plan_list(URL, BASE, MESSAGES, EIGHT, window, CREATED, TODAY).walks
    assert isinstance(walk, SweepFirst)
    sweep = walk.sweep
    assert sweep.params == BASE and sweep.field == "date_sent"
    assert sweep.since == TODAY - dt.timedelta(days=3)
    assert walk.window.params == {**BASE, "DateSent>": "2026-06-01"}
    assert (walk.first_day, walk.last_day) == (dt.date(2026, 6, 1), None)


def test_last_n_days_is_always_sent_as_the_date_filter() -> None:
    window = Window(dt.date(2026, 6, 1), None, by_last_n_days=True)
    window_walk, sweep = plan_list(URL, BASE, MESSAGES, EIGHT, window, CREATED, TODAY).walks
    assert window_walk.params["DateSent>"] == "2026-06-01"
    assert isinstance(sweep, NullSweep) and sweep.field == "date_sent"  # not sweep-first


def test_a_window_older_than_twilio_keeps_is_clamped_and_said() -> None:
    plan = plan_list(URL, BASE, MESSAGES, EIGHT, Window(dt.date(2020, 1, 1), None), CREATED,
                     TODAY)
    assert plan.clamped_to == TODAY - dt.timedelta(days=399)
    ended = plan_list(URL, BASE, MESSAGES, EIGHT,
                      Window(dt.date(2020, 1, 1), dt.date(2020, 2, 1)), CREATED, TODAY)
    assert ended.walks == []


def test_the_window_starts_at_the_bookmark_less_the_lookback_or_the_later_setting() -> None:
    lookback = dt.timedelta(days=3)
    assert reading_window({}, dt.date(2026, 6, 20), lookback, TODAY).start == dt.date(2026, 6, 17)
    later = reading_window({"start_date": "2026-06-19T00:00:00Z"}, dt.date(2026, 6, 20),
                           lookback, TODAY)
    assert later.start == dt.date(2026, 6, 19) and not later.by_last_n_days
    by_option = reading_window({"last_n_days": "30Days"}, None, lookback, TODAY)
    assert by_option.start == TODAY - dt.timedelta(days=30) and by_option.by_last_n_days


def test_a_short_list_is_worth_few_walks() -> None:
    def page(newest: str, oldest: str) -> list[dict]:
        return [{"date_created": newest}, {"date_created": oldest}]

    # the first page covers a month; the account is two months old: one more page
    assert seed_walks(dt.date(2026, 4, 30), page("2026-06-30T00:00:00Z", "2026-05-31T00:00:00Z"),
                      workers=8) == 1
    # ten years at a day a page: capped by the workers
    assert seed_walks(dt.date(2016, 1, 1), page("2026-06-30T00:00:00Z", "2026-06-29T00:00:00Z"),
                      workers=8) == 8
