"""What a partition's walks have finished, kept in its state so that a stopped run resumes there.

A run may be stopped at any moment (SIGKILL, a timeout, Ctrl-C). Each page a walk hands over
comes with a `Mark` saying what writing that page completes: where the walk goes on (the
next page's link), that a day slice is finished, that the whole list is. The thread that
writes pages applies a mark once the page before it is written, so the partition's
`progress` in the next STATE names only written work. A resumed run reads the list's first
page again (for what is newer), then goes on from each unfinished walk's link and reads the
days no slice has finished; a finished list is not read again.

The partition state's `progress` while a walk is unfinished (dropped when it completes, so a
completed run's state is the bookmark as before):

    {"replication_key_value": "2025-03-01T10:00:00+00:00",   # the greatest written so far
     "lists": {"/2010-04-01/Accounts/AC1/Messages.json?PageSize=1000": {
         "head": "SM9f...",                 # the first record of the list's first page
         "days": [["2024-01-01", "2024-06-30"]],   # day slices finished, merged
         "walks": {"2024-07-01..2024-08-15": "/2010-04-01/...&PageToken=PASM12..."},
         "stops": ["SM3a..."]}}}            # a sought list's walks end at these records

Walks are named `head` (the list from its first page on), `after <SID>` (a sought list's
walk after a record) and `<first day>..<last day>` (a day slice). Pure: no SDK, no HTTP.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from tap_twilio.twilio.window import DayRange, date_slices, days_in, merge_days

HEAD = "head"  # the walk that reads a list from its first page on


@dataclass(frozen=True)
class Mark:
    """What writing the page handed over before this mark completes, in one list."""

    list_key: str
    walk: str | None = None  # the walk that moved on
    next: str | None = None  # where that walk goes on; None: it is finished
    days: DayRange | None = None  # the day slice the finished walk read
    head: str | None = None  # the first record of the list's first page
    started: Mapping[str, str] | None = None  # walks begun (name -> first page's link)
    stops: tuple[str, ...] = ()  # records that end a sought list's walks
    finished: bool = False  # the whole list is written


@dataclass
class ListProgress:
    """One list's progress as a run found it in the state."""

    head: str | None = None
    days: list[DayRange] = field(default_factory=list)
    walks: dict[str, str] = field(default_factory=dict)
    stops: frozenset[str] = frozenset()
    finished: bool = False

    @classmethod
    def from_json(cls, saved: Any) -> ListProgress:
        """A list's saved progress; anything unreadable counts as none (read it all)."""
        if not isinstance(saved, Mapping):
            return cls()
        try:
            return cls(
                head=saved.get("head"),
                days=days_from_json(saved.get("days", [])),
                walks={str(k): str(v) for k, v in saved.get("walks", {}).items()},
                stops=frozenset(saved.get("stops", [])),
                finished=bool(saved.get("finished", False)),
            )
        except (TypeError, ValueError, AttributeError):
            return cls()

    @property
    def resumable(self) -> bool:
        """Whether a walk can go on from here: unfinished walks, or finished slices."""
        return bool(self.walks or self.days)


class PartitionProgress:
    """A partition's `progress`: read once at the partition's start (`saved`), kept up to
    date by the marks of written pages (`as_state`)."""

    def __init__(self, saved: Any = None) -> None:
        saved = saved if isinstance(saved, Mapping) else {}
        lists = saved.get("lists") if isinstance(saved.get("lists"), Mapping) else {}
        self.bookmark: Any = saved.get("replication_key_value")
        self.saved = {str(key): ListProgress.from_json(value) for key, value in lists.items()}
        self.lists: dict[str, dict[str, Any]] = {
            key: to_json(progress) for key, progress in self.saved.items()}

    def saved_list(self, key: str) -> ListProgress:
        return self.saved.get(key) or ListProgress()

    def apply(self, mark: Mark, bookmark: Any = None) -> None:
        """Record what a written page completed; `bookmark` is the greatest replication key
        value written so far."""
        if bookmark is not None:
            self.bookmark = bookmark
        entry = self.lists.setdefault(mark.list_key, {})
        if mark.finished:
            self.lists[mark.list_key] = {"finished": True}
            return
        if mark.head is not None:
            entry["head"] = mark.head
        if mark.started is not None:
            entry.setdefault("walks", {}).update(mark.started)
            entry["stops"] = sorted(mark.stops)
        if mark.walk is None:
            return
        walks = entry.setdefault("walks", {})
        if mark.next is not None:
            walks[mark.walk] = mark.next
        else:
            walks.pop(mark.walk, None)
        if mark.days is not None:
            done = days_from_json(entry.get("days", []))
            entry["days"] = days_to_json(merge_days([*done, mark.days]))

    def as_state(self) -> dict[str, Any]:
        state: dict[str, Any] = {"lists": self.lists}
        if self.bookmark is not None:
            state = {"replication_key_value": self.bookmark, **state}
        return state


class KeptProgress:
    """A partition's progress kept in its state (the SDK's partition dict) as pages are
    written; `changed` is called after each change (to ask for a STATE)."""

    def __init__(self, state: dict[str, Any], changed: Callable[[], None]) -> None:
        self.state = state
        self.saved = PartitionProgress(state.get("progress"))
        self.changed = changed

    def note_written(self, mark: Mark) -> None:
        """Keep what the written pages completed, and the greatest bookmark value so far
        (the SDK's, for a list read newest first, is final only at the list's end)."""
        reached = self.state.get("progress_markers", {}).get("replication_key_value")
        self.saved.apply(mark, reached)
        self.state["progress"] = self.saved.as_state()
        self.changed()

    def finish(self) -> None:
        """The partition's lists are read: the bookmark alone says where the next run starts."""
        self.state.pop("progress", None)


def pages_kept(items: Iterable[Any], kept: KeptProgress) -> Iterator[Any]:
    """The pages of a partition's walks; each mark is kept once the page before it is
    written (the caller has come back for the next page), and once every page is, the
    progress is dropped."""
    for item in items:
        if isinstance(item, Mark):
            kept.note_written(item)
        else:
            yield item
    kept.finish()


def to_json(progress: ListProgress) -> dict[str, Any]:
    if progress.finished:
        return {"finished": True}
    entry: dict[str, Any] = {}
    if progress.head is not None:
        entry["head"] = progress.head
    if progress.days:
        entry["days"] = days_to_json(progress.days)
    if progress.walks:
        entry["walks"] = dict(progress.walks)
    if progress.stops:
        entry["stops"] = sorted(progress.stops)
    return entry


def list_key(url: str, params: Mapping[str, Any], host_url: str) -> str:
    """What names a list in the state: its path on the host and its query, sorted."""
    query = urlencode(sorted((str(k), str(v)) for k, v in params.items()))
    return f"{relative(url, host_url)}?{query}"


def relative(url: str, host_url: str) -> str:
    """A link on the API's host as its path (the state outlives a `base_url` change)."""
    return url[len(host_url):] if url.startswith(host_url + "/") else url


def absolute(link: str, host_url: str) -> str:
    return host_url + link if link.startswith("/") else link


def link_with(url: str, params: Mapping[str, Any]) -> str:
    """A page's URL with its query parameters, as a link to go on from."""
    return f"{url}?{urlencode(list(params.items()))}" if params else url


# --- day ranges ---------------------------------------------------------------------


def share_out(ranges: list[DayRange], count: int) -> list[DayRange]:
    """The ranges cut into about `count` slices in all, each in proportion to its days
    (at least one each), oldest first."""
    total = sum(days_in(a, b) for a, b in ranges)
    return [piece for a, b in ranges
            for piece in date_slices(a, b, math.ceil(count * days_in(a, b) / total))]


def days_from_json(saved: Iterable[Any]) -> list[DayRange]:
    """`[["2024-01-01", "2024-06-30"], ...]` as day ranges (a bad one raises ValueError)."""
    return [(dt.date.fromisoformat(a), dt.date.fromisoformat(b)) for a, b in saved]


def days_to_json(days: Iterable[DayRange]) -> list[list[str]]:
    return [[a.isoformat(), b.isoformat()] for a, b in days]


def days_name(days: DayRange) -> str:
    return f"{days[0]}..{days[1]}"


def named_days(name: str) -> DayRange | None:
    """The day range a slice's walk is named by; None for another walk."""
    first, sep, last = name.partition("..")
    try:
        return (dt.date.fromisoformat(first), dt.date.fromisoformat(last)) if sep else None
    except ValueError:
        return None
