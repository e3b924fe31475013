"""The kinds of walk over a Twilio list, one type each, as the planner returns them.

Each carries what its walk needs and nothing more; `walking.ListWalker` walks them:
- `LinearWalk`: follow the next-page links from the first page to the end;
- `SlicedWalk`: a window's first page; when the list is longer, the window in day slices,
  read in parallel;
- `SeekingWalk`: a full history's first page; when longer, read on from several places at
  once, after records found by date probes;
- `NullSweep`: an unfiltered list, keeping the records whose date is still null, up to the
  page that reaches a day;
- `SweepFirst`: a dated window over a list whose dates can be null: the sweep's first page,
  which is the whole list more often than not, then the window and the rest of the sweep.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Any

Request = tuple[str, tuple[tuple[str, Any], ...]]  # a first page's URL and parameters


@dataclass(frozen=True)
class DaySpan:
    """Whole days from `first` to `last`; an open end leaves the outer slice unbounded
    there, as the user set no bound, so nothing is cut off."""

    first: dt.date
    last: dt.date
    open_below: bool
    open_above: bool


@dataclass(frozen=True)
class LinearWalk:
    """A list read link by link, from its first page to its end."""

    url: str
    params: dict[str, Any]


@dataclass(frozen=True)
class SlicedWalk:
    """A window read by its first page and, when it is longer, in day slices of `span`."""

    url: str
    params: dict[str, Any]
    span: DaySpan


@dataclass(frozen=True)
class SeekingWalk:
    """A full history that no date filter can slice (records with null dates): its first
    page, then the rest from several places of the one unfiltered list at once, after the
    records that date probes between `first_day` and `last_day` find."""

    url: str
    params: dict[str, Any]
    first_day: dt.date
    last_day: dt.date


@dataclass(frozen=True)
class NullSweep:
    """An unfiltered list, keeping the records whose `field` is null (no date filter lists
    them), up to the page that reaches `since`."""

    url: str
    params: dict[str, Any]
    field: str
    since: dt.date


@dataclass(frozen=True)
class SweepFirst:
    """A dated window (`first_day` to `last_day`, None: open) over a list with null dates,
    read after the sweep's first page: when that page is the whole list, the window's
    records are taken from it and the window is not asked for."""

    sweep: NullSweep
    window: LinearWalk | SlicedWalk
    first_day: dt.date
    last_day: dt.date | None

    @property
    def url(self) -> str:
        return self.sweep.url

    @property
    def params(self) -> dict[str, Any]:
        return self.sweep.params


Walk = LinearWalk | SlicedWalk | SeekingWalk | NullSweep | SweepFirst


def first_request(walk: Walk) -> Request:
    """What identifies a walk's first request (for pages fetched ahead)."""
    return walk.url, tuple(sorted(walk.params.items()))


def with_params(walk: Walk, extra: dict[str, str]) -> Walk:
    """A walk (and the walks it holds) with more parameters."""
    if isinstance(walk, SweepFirst):
        sweep = replace(walk.sweep, params={**walk.sweep.params, **extra})
        window = replace(walk.window, params={**walk.window.params, **extra})
        return replace(walk, sweep=sweep, window=window)
    return replace(walk, params={**walk.params, **extra})


def follows_links_to_the_end(walk: Walk) -> bool:
    """Whether a walk follows its next-page links from its first page to its end (not read
    on in slices or from seeds, nor a sweep that may stop early): its pages can be fetched
    ahead."""
    return isinstance(walk, LinearWalk)
