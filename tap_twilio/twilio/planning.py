"""What to ask Twilio for: a partition's walks (see walks.py), planned by pure functions.

Nothing here makes a request or knows a stream: each function takes the settings, the list's
rules, the partition's window and today, and returns walks. `walking.py` walks them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from tap_twilio.twilio.walks import (
    DaySpan,
    LinearWalk,
    NullSweep,
    SeekingWalk,
    SlicedWalk,
    SweepFirst,
    Walk,
    with_params,
)
from tap_twilio.twilio.window import Window, date_slices


@dataclass(frozen=True)
class DateFilter:
    """A list's server-side date filter, by whole UTC days: the query parameters of the first
    and the last day (2010: `DateSent>` / `DateSent<`; others: `StartDate` / `EndDate`)."""

    lower: str | None
    upper: str | None
    # `StartTime<`, `DateCreatedBefore` mean strictly before: send the next day('s start)
    upper_exclusive: bool = False
    # `DateCreatedAfter` (a date-time) means strictly after: send the day before's last second
    lower_exclusive: bool = False
    times: bool = False  # the values are ISO date-times: the first day's start, the last's end
    # Whether a window may be cut into day slices by it: Twilio documents the 2010 API's
    # `X>`/`X<` day ranges, and the slices of a list with no SIDs could not be told apart.
    sliceable: bool = False

    @classmethod
    def api_2010(cls, name: str, upper_exclusive: bool = False) -> DateFilter:
        """The 2010 API's form: `Name>` on or after, `Name<` on or before."""
        return cls(f"{name}>", f"{name}<", upper_exclusive, sliceable=True)

    def params(self, start: dt.date | None, end: dt.date | None) -> dict[str, str]:
        """The filter's parameters for a window, e.g. `{"DateSent>": "2024-05-01"}`."""
        params = {}
        day = dt.timedelta(days=1)
        if start and self.lower:
            if not self.times:
                params[self.lower] = start.isoformat()
            elif self.lower_exclusive:
                params[self.lower] = f"{start - day}T23:59:59Z"
            else:
                params[self.lower] = f"{start}T00:00:00Z"
        if end and self.upper:
            if not self.times:
                params[self.upper] = (end + day if self.upper_exclusive else end).isoformat()
            elif self.upper_exclusive:
                params[self.upper] = f"{end + day}T00:00:00Z"
            else:
                params[self.upper] = f"{end}T23:59:59Z"
        return params

    def strip(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """A query's parameters less this filter's (to set other bounds)."""
        return {k: v for k, v in params.items() if k not in (self.lower, self.upper)}


DateParams = Callable[[dt.date | None, dt.date | None], dict[str, str]]


@dataclass(frozen=True)
class ListRules:
    """What a list allows, from the stream table."""

    date_params: DateParams  # a window's date filter, as query parameters
    slices: DateFilter | None = None  # a day filter the window may be cut by, if any
    null_field: str | None = None  # the filtered date may be null (queued, canceled)
    retention_days: int | None = None  # Twilio rejects date filters older than this
    # The filter's first day is always sent (from the account's creation if nothing else
    # sets it): some of Twilio's newer APIs list only recent records without one.
    bounded_below: bool = False


@dataclass(frozen=True)
class ReadSettings:
    """The settings that shape how a list is read."""

    workers: int  # max_concurrency
    lookback: dt.timedelta  # lookback_days
    seeks: bool  # seek_with_page_tokens

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> ReadSettings:
        return cls(
            workers=int(config.get("max_concurrency", 8)),
            lookback=dt.timedelta(days=int(config.get("lookback_days", 3))),
            seeks=bool(config.get("seek_with_page_tokens", True)),
        )


@dataclass(frozen=True)
class Plan:
    """The walks that together list a partition, and the day a window was moved up to
    because Twilio keeps no older records (None: not moved)."""

    walks: list[Walk]
    clamped_to: dt.date | None = None


def plan_list(
    url: str, base: dict[str, Any], rules: ListRules, settings: ReadSettings, window: Window,
    created: dt.date | None, today: dt.date,
) -> Plan:
    """The walks that together list a partition.

    The first lists the window; if it is longer than one page, the rest is read in day
    slices by `max_concurrency` workers. Twilio's date filters never match a record whose
    date is still null (a queued message's `date_sent`, a call not yet dialled), so for such
    lists a read of the full history is one unfiltered walk (entered at several places when
    seeking), and a dated window adds a sweep that lists the last `lookback_days` without a
    date filter and keeps the records whose date is null. Unless `last_n_days` sets the
    window, the sweep is asked first, as its first page may be the whole list, window
    included.
    """
    start, end = window.start, window.end
    if start is None and rules.bounded_below:
        start = created
    clamped = None
    if start and rules.retention_days:
        oldest = oldest_kept(rules.retention_days, today)
        if start < oldest:
            start = clamped = oldest
        if end and end < start:
            return Plan([], clamped)
    params = {**base, **rules.date_params(start, end)}
    if start is None:
        return Plan([undated_walk(url, params, rules, settings, end, created, today)], clamped)
    window_walk = sliced_walk(url, params, rules, settings, start, end, today) or LinearWalk(
        url, params)
    if not rules.null_field:
        return Plan([window_walk], clamped)
    sweep = NullSweep(url, base, rules.null_field, max(start, today - settings.lookback))
    if window.by_last_n_days:
        return Plan([window_walk, sweep], clamped)  # the option is documented as Twilio's filter
    return Plan([SweepFirst(sweep, window_walk, start, end)], clamped)


def oldest_kept(retention_days: int, today: dt.date) -> dt.date:
    """The oldest day a list that keeps `retention_days` days still lists."""
    return today - dt.timedelta(days=retention_days - 1)


def in_parallel(rules: ListRules, settings: ReadSettings) -> bool:
    """Whether a long list may be read on by several workers (its day filter can slice)."""
    return rules.slices is not None and settings.workers > 1


def sliced_walk(
    url: str, params: dict[str, Any], rules: ListRules, settings: ReadSettings,
    lower: dt.date | None, end: dt.date | None, today: dt.date, open_below: bool = False,
) -> SlicedWalk | None:
    """A window from `lower` that is worth slicing, if there is one; the outer slices stay
    open where the user set no bound (`open_below`: the first day is the account's)."""
    if not in_parallel(rules, settings) or lower is None or lower >= (end or today):
        return None
    return SlicedWalk(url, params, DaySpan(lower, end or today, open_below, end is None))


def undated_walk(
    url: str, params: dict[str, Any], rules: ListRules, settings: ReadSettings,
    end: dt.date | None, created: dt.date | None, today: dt.date,
) -> Walk:
    """A window with no first day: sliced from the account's creation where the list has no
    null dates, sought where it has (a full history), else read link by link."""
    if not rules.null_field:
        sliced = sliced_walk(url, params, rules, settings, created, end, today, open_below=True)
        if sliced is not None:
            return sliced
    elif in_parallel(rules, settings) and created is not None and settings.seeks:
        first = created
        if rules.retention_days:
            first = max(created, oldest_kept(rules.retention_days, today))
        if first < (end or today):
            return SeekingWalk(url, params, first, end or today)
    return LinearWalk(url, params)


def ask_for_everything(walks: list[Walk],
                       narrowing: tuple[tuple[str, tuple[str, ...]], ...]) -> list[Walk]:
    """The walks with the parameters whose documented default would hide records: each
    `(parameter, values)` sends its one value with every walk, or makes one copy of every
    walk per value (a list that shows one status unless another is asked for). Copies go in
    the values' order, the spec's lifecycle order (`in-progress` before `completed`)."""
    for parameter, values in narrowing:
        walks = [with_params(walk, {parameter: value}) for walk in walks for value in values]
    return walks


def asked_one_by_one(narrowing: tuple[tuple[str, tuple[str, ...]], ...]) -> bool:
    """Whether a list is read in several walks, one per value of a parameter."""
    return any(len(values) > 1 for _, values in narrowing)


def slice_walks(walk: SlicedWalk, date_filter: DateFilter, workers: int) -> list[LinearWalk]:
    """The window of a sliced walk as day slices (see `day_slice`)."""
    span = walk.span
    return [day_slice(walk, date_filter, days)
            for days in date_slices(span.first, span.last, workers * 2)]


def day_slice(walk: SlicedWalk, date_filter: DateFilter,
              days: tuple[dt.date, dt.date]) -> LinearWalk:
    """One day slice of a sliced walk's window, left open below (above) when it starts
    (ends) the window and the user set no bound there, so nothing is cut off."""
    span, (first, last) = walk.span, days
    return LinearWalk(walk.url, {**date_filter.strip(walk.params), **date_filter.params(
        None if first <= span.first and span.open_below else first,
        None if last >= span.last and span.open_above else last,
    )})
