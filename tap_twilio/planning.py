"""What to ask Twilio for: windows, day slices, null-date sweeps and seeks, as pure functions.

Nothing here makes a request or knows a stream: each function takes the settings, the list's
rules, the partition's bookmark and today, and returns query values. `walking.py` runs them.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from tap_twilio.settings import configured_end, configured_start, parse_last_n_days
from tap_twilio.transform import to_rfc3339

PAGES_PER_WALK = 2  # pages (of those after the first) per walk of a full history, at least


@dataclass(frozen=True)
class ListQuery:
    """The first page of one list walk; `only_null` keeps records whose field is null."""

    url: str
    params: dict[str, Any]
    only_null: str | None = None
    since: dt.date | None = None  # a sweep stops after the page reaching this date
    # A list longer than its first page is read on in day slices of this window, which
    # workers read in parallel: (first day, last day, open below, open above); an open end
    # leaves the outer slice unbounded there, as the user set no bound.
    split: tuple[dt.date, dt.date, bool, bool] | None = None
    # A full history that no date filter can slice (records with null dates) is read on
    # from several places of the one unfiltered list at once: records that date probes
    # between these days find start walks after them (see `walking.ListWalker.seek`).
    seek: tuple[dt.date, dt.date] | None = None
    # A sweep read before the window it completes (see `ListWalker.sweep_then_window`): the
    # window's query, asked only if the list is longer than the sweep's first page, and its
    # days (first, last or None), to take the window from that page when it is the list.
    window: ListQuery | None = None
    days: tuple[dt.date, dt.date | None] | None = None

    @property
    def request(self) -> tuple[str, tuple[tuple[str, Any], ...]]:
        """What identifies the first page's request (for pages fetched ahead)."""
        return self.url, tuple(sorted(self.params.items()))


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
class Window:
    """First and last day to read (None: unbounded), and whether `last_n_days` set the first:
    then it always reaches Twilio as the date filter, as its documentation says, even where
    one unfiltered page would do."""

    start: dt.date | None
    end: dt.date | None
    by_last_n_days: bool = False


@dataclass(frozen=True)
class Plan:
    """The queries that together list a partition, and the day a window was moved up to
    because Twilio keeps no older records (None: not moved)."""

    queries: list[ListQuery]
    clamped_to: dt.date | None = None


def reading_window(
    config: Mapping[str, Any], bookmark: dt.date | None, lookback: dt.timedelta,
    today: dt.date,
) -> Window:
    """The settings' window, started at the bookmark less the lookback when there is one."""
    start = configured_start(config, today)
    if bookmark is not None:
        resume = bookmark - lookback
        start = max(start, resume) if start else resume
    days = config.get("last_n_days")
    by_option = days is not None and start == today - dt.timedelta(days=parse_last_n_days(days))
    return Window(start, configured_end(config), by_option)


def plan_list(
    url: str, base: dict[str, Any], rules: ListRules, settings: ReadSettings, window: Window,
    created: dt.date | None, today: dt.date,
) -> Plan:
    """The queries that together list a partition.

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
        oldest = today - dt.timedelta(days=rules.retention_days - 1)
        if start < oldest:
            start = clamped = oldest
        if end and end < start:
            return Plan([], clamped)
    parallel = rules.slices is not None and settings.workers > 1
    lower = start or (None if rules.null_field else created)
    split = seek = None
    if parallel and lower is not None and lower < (end or today):
        split = (lower, end or today, start is None, end is None)
    elif parallel and start is None and created is not None and settings.seeks:
        if rules.retention_days:
            created = max(created, today - dt.timedelta(days=rules.retention_days - 1))
        if created < (end or today):
            seek = (created, end or today)
    whole = ListQuery(url, {**base, **rules.date_params(start, end)}, split=split, seek=seek)
    if not (rules.null_field and start is not None):
        return Plan([whole], clamped)
    horizon = max(start, today - settings.lookback)
    sweep = ListQuery(url, base, only_null=rules.null_field, since=horizon)
    if window.by_last_n_days:
        return Plan([whole, sweep], clamped)  # the option is documented as Twilio's filter
    return Plan([replace(sweep, window=whole, days=(start, end))], clamped)


def ask_for_everything(queries: list[ListQuery],
                       narrowing: tuple[tuple[str, tuple[str, ...]], ...]) -> list[ListQuery]:
    """The queries with the parameters whose documented default would hide records: each
    `(parameter, values)` sends its one value with every query, or makes one copy of every
    query per value (a list that shows one status unless another is asked for). Copies go in
    the values' order, the spec's lifecycle order (`in-progress` before `completed`)."""
    for parameter, values in narrowing:
        queries = [with_params(query, {parameter: value})
                   for query in queries for value in values]
    return queries


def asked_one_by_one(narrowing: tuple[tuple[str, tuple[str, ...]], ...]) -> bool:
    """Whether a list is read in several queries, one per value of a parameter."""
    return any(len(values) > 1 for _, values in narrowing)


def with_params(query: ListQuery, extra: dict[str, str]) -> ListQuery:
    """A query (and the window it completes) with more parameters."""
    window = with_params(query.window, extra) if query.window else None
    return replace(query, params={**query.params, **extra}, window=window)


def date_slices(first: dt.date, last: dt.date, count: int) -> list[tuple[dt.date, dt.date]]:
    """[first, last] cut into at most `count` contiguous whole-day ranges, oldest first."""
    days = (last - first).days + 1
    count = max(1, min(count, days))
    bounds = [first + dt.timedelta(days=days * i // count) for i in range(count + 1)]
    return [(bounds[i], bounds[i + 1] - dt.timedelta(days=1)) for i in range(count)]


def slice_queries(query: ListQuery, date_filter: DateFilter, workers: int) -> list[ListQuery]:
    """The window of a split query as day slices, the outer ones left open where the user
    set no bound, so nothing is cut off."""
    assert query.split is not None
    lower, upper, _, _ = query.split
    return [day_slice(query, date_filter, days) for days in date_slices(lower, upper, workers * 2)]


def day_slice(query: ListQuery, date_filter: DateFilter,
              days: tuple[dt.date, dt.date]) -> ListQuery:
    """One day slice of a split query's window, left open below (above) when it starts
    (ends) the window and the user set no bound there."""
    assert query.split is not None
    lower, upper, open_below, open_above = query.split
    first, last = days
    return ListQuery(query.url, {**date_filter.strip(query.params), **date_filter.params(
        None if first <= lower and open_below else first,
        None if last >= upper and open_above else last,
    )})


def created_at(record: dict[str, Any]) -> dt.datetime | None:
    """A raw record's `date_created`, if it has one."""
    created = to_rfc3339(record.get("date_created"))
    return dt.datetime.fromisoformat(created) if created else None


def created_before(record: dict[str, Any], day: dt.date) -> bool:
    """Whether a raw record was created before `day` (lists are newest first)."""
    created = created_at(record)
    return created is not None and created.date() < day


def null_or_within(value: Any, first: dt.date, last: dt.date | None) -> bool:
    """Whether Twilio's date filter for [first, last] lists a record with this raw date
    (its UTC calendar day within, both ends included), or the date is null."""
    if value in (None, ""):
        return True
    try:
        day = record_day(value)
    except ValueError:
        return True  # emitted, so the transform names the bad value
    return first.isoformat() <= day and (last is None or day <= last.isoformat())


def record_day(value: Any) -> str:
    """The UTC day (`YYYY-MM-DD`) of a raw, non-null date as Twilio sends it."""
    return str(to_rfc3339(value))[:10]


# --- seeking ------------------------------------------------------------------------


@dataclass(frozen=True)
class Seed:
    """A record a seeded walk starts after, the record that follows it in the probe's list,
    and the probe's day (the probe lists records whose date is on or before it)."""

    sid: str
    successor: str
    day: dt.date


def lands_after_seed(records: list[dict[str, Any]], seed: Seed, field: str) -> bool:
    """Whether a page asked for with `PageToken=PA<seed>` starts right after the seed.

    The unfiltered list has, between the seed and its successor in the probe's dated list,
    only records that probe could not list (a null date, or a later day). So the page
    must reach the successor having passed only such records; a record the probe would
    have listed (the seed itself, or any record of another part of the list) before it,
    or no successor at all, means the server answered from somewhere else.
    """
    for record in records:
        if record.get("sid") == seed.successor:
            return True
        if not null_or_after(record.get(field), seed.day):
            return False
    return False


def null_or_after(value: Any, day: dt.date) -> bool:
    """Whether a date filter up to `day` (Twilio's `X<` on a UTC day) leaves out a record
    with this raw date: it is null, or on a later day. An unreadable date counts as listed."""
    if value in (None, ""):
        return True
    try:
        return record_day(value) > day.isoformat()
    except ValueError:
        return False


def seed_walks(first_day: dt.date, first_page: list[dict[str, Any]], workers: int) -> int:
    """How many walks a full history is worth, at the first page's pace back to `first_day`:
    a walk costs a probe and a partial last page, so one per two pages to come, at most one
    per worker (then the probes take one round trip and the seeded pages one more)."""
    newest, oldest = created_at(first_page[0]), created_at(first_page[-1])
    if newest is None or oldest is None:
        return workers
    span = (newest - oldest).total_seconds()
    start = dt.datetime.combine(first_day, dt.time(), dt.timezone.utc)
    to_come = math.ceil((oldest - start).total_seconds() / span) if span > 0 else 1
    return max(1, min(math.ceil(to_come / PAGES_PER_WALK), workers))


def probe_days(first: dt.date, last: dt.date, walks: int) -> list[dt.date]:
    """The days whose newest records start `walks - 1` walks spread over [first, last]."""
    return [end for _, end in date_slices(first, last, walks)[:-1]]
