"""Walking Twilio lists: the pages of a planned walk (walks.py), by following links or in
parallel, each page followed by the `Mark` of what writing it completes (progress.py).

A `ListWalker` is handed a fetch function (URL and parameters to a decoded page, retried),
the list's shape, the number of workers and what a stopped run finished; it knows nothing
of streams or the SDK. There is one method per kind of walk; `walk` picks it. A list a
stopped run finished is not read again; one it left unfinished is read on from where its
written pages end (its first page is read again, for what is newer).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from functools import partial
from logging import Logger
from typing import Any

from tap_twilio.twilio.concurrency import run_all, walk_in_parallel
from tap_twilio.twilio.families import ApiFamily, page_records
from tap_twilio.twilio.hosts import Hosts
from tap_twilio.twilio.http import TwilioAPIError
from tap_twilio.twilio.planning import DateFilter, day_slice
from tap_twilio.twilio.progress import (
    HEAD,
    ListProgress,
    Mark,
    PartitionProgress,
    absolute,
    days_name,
    link_with,
    list_key,
    named_days,
    relative,
    share_out,
)
from tap_twilio.twilio.seeking import (
    Seed,
    created_at,
    created_before,
    lands_after_seed,
    null_or_within,
    probe_days,
    seed_walks,
)
from tap_twilio.twilio.walks import (
    LinearWalk,
    NullSweep,
    SeekingWalk,
    SlicedWalk,
    SweepFirst,
    Walk,
)
from tap_twilio.twilio.window import DayRange, days_left

Fetch = Callable[[str, "dict[str, Any] | None"], Any]
Page = list[dict[str, Any]]
Item = Page | Mark  # a walk hands over pages, each followed by what writing it completes


@dataclass(frozen=True)
class ListShape:
    """What a walker needs to know of a list."""

    name: str  # for log lines
    family: ApiFamily
    host_url: str  # the API's URL, to which a next-page path is appended
    hosts: Hosts  # how absolute next-page links are followed (through `base_url`)
    list_key: str | None  # None: the body is one object
    date_filter: DateFilter | None = None  # the day filter of slices and probes
    date_field: str | None = None  # the record field that filter applies to


class ListWalker:
    """The pages of one partition's planned walks."""

    def __init__(self, fetch: Fetch, shape: ListShape, workers: int, logger: Logger,
                 saved: PartitionProgress | None = None) -> None:
        self.fetch = fetch
        self.shape = shape
        self.workers = workers
        self.logger = logger
        self.saved = saved or PartitionProgress()  # what a stopped run finished

    def records(self, body: Any) -> Page:
        return page_records(body, self.shape.list_key)

    def next_url(self, body: Any) -> str | None:
        if self.shape.list_key is None:
            return None  # a single object has no pages
        link = self.shape.family.next_link(body)
        if link is None:
            return None
        if link.startswith("/"):
            return self.shape.host_url + link
        return self.shape.hosts.follow(link)

    def walk(self, walk: Walk, first_page: Future[Any] | None = None) -> Iterator[Item]:
        """Every page of one walk, each followed by its mark, and at the end that the list
        is finished; its first page may have been fetched ahead."""
        key = list_key(walk.url, walk.params, self.shape.host_url)
        saved = self.saved.saved_list(key)
        if saved.finished:
            return
        body = first_page.result() if first_page is not None else self.fetch(walk.url,
                                                                               walk.params)
        records, next_url = self.records(body), self.next_url(body)
        if isinstance(walk, SweepFirst):
            yield from self.sweep_then_window(walk, records, next_url)
        else:
            sweep = walk if isinstance(walk, NullSweep) else None
            yield kept(sweep, records)
            if next_url and not swept(sweep, records):
                yield from self.rest(walk, key, saved, records, next_url)
        yield Mark(key, finished=True)

    def rest(self, walk: LinearWalk | SlicedWalk | SeekingWalk | NullSweep, key: str,
             saved: ListProgress, first_page: Page, next_url: str) -> Iterator[Item]:
        """The pages after a list's first one: in day slices, from where a stopped run's
        walks end, from seeds, or link by link."""
        if isinstance(walk, SlicedWalk):
            yield from self.slices(walk, key, saved, {r.get("sid") for r in first_page})
            return
        sweep = walk if isinstance(walk, NullSweep) else None
        if saved.head:  # a stopped run began this list's walks (and seeks)
            yield from self.resume(sweep, key, saved, first_page, next_url)
        elif isinstance(walk, SeekingWalk):
            yield from self.seek(walk, key, first_page, next_url)
        else:
            head = first_page[0].get("sid") if first_page else None
            name = HEAD if head else None  # a list without SIDs cannot find its old head
            if name:
                yield Mark(key, HEAD, self.link(next_url), head=head)
            yield from self.follow(key, name, next_url, sweep=sweep)

    def resume(self, sweep: NullSweep | None, key: str, saved: ListProgress,
               first_page: Page, next_url: str) -> Iterator[Item]:
        """A list a stopped run left unfinished: from the new first page down to the
        record the stopped run's first page began with (what is newer), and each of its
        unfinished walks from where it stopped."""
        walks = [partial(self.follow, key, name, link, sweep=sweep, stops=saved.stops)
                 for name, link in saved.walks.items()]
        if saved.head and saved.head not in {r.get("sid") for r in first_page}:
            walks.insert(0, partial(self.follow, key, None, next_url, sweep=sweep,
                                    stops=saved.stops | {saved.head}))
        yield from walk_in_parallel(walks, call, self.workers)

    def follow(self, key: str, name: str | None, url: str | None,
               params: dict[str, Any] | None = None, sweep: NullSweep | None = None,
               stops: frozenset[Any] = frozenset(), first_body: Any = None,
               days: DayRange | None = None) -> Iterator[Item]:
        """Pages from `url` (or from an already fetched first page) to the list's end, or
        up to and including the first record in `stops`, each followed by where walk `name`
        goes on (None: no marks), and at its end that it, and the `days` it read, are done."""
        while url:
            body = first_body if first_body is not None else self.fetch(
                absolute(url, self.shape.host_url), params)
            first_body, params = None, None
            records = self.records(body)
            page, stopped = until_stop(records, stops)
            yield kept(sweep, page)
            url = None if stopped or swept(sweep, records) else self.next_url(body)
            if name is not None:
                yield Mark(key, name, self.link(url) if url else None,
                           days=None if url else days)

    def link(self, url: str) -> str:
        return relative(url, self.shape.host_url)

    def sweep_then_window(self, walk: SweepFirst, records: Page,
                          next_url: str | None) -> Iterator[Item]:
        """A dated window over a list whose dates can be null, after the sweep's first page.

        That page has no next page for most lists of an incremental run (a subaccount's
        day of messages): it is the whole list, so the window's records are taken from it,
        as Twilio's day-granular filter would, and the window is not asked for (half the
        requests over many subaccounts). Otherwise the window is read by its own walk (and
        slices), alongside the rest of the sweep."""
        sweep = walk.sweep
        if next_url is None:
            yield [r for r in records if null_or_within(r.get(sweep.field), walk.first_day,
                                                        walk.last_day)]
            return
        yield kept(sweep, records)
        walks: list[Walk] = [walk.window]
        if not swept(sweep, records):
            walks.append(NullSweep(next_url, {}, sweep.field, sweep.since))
        yield from walk_in_parallel(walks, self.walk, self.workers)

    def slices(self, walk: SlicedWalk, key: str, saved: ListProgress,
               seen: set[Any]) -> Iterator[Item]:
        """The window of a walk in day slices read in parallel, less the records of its
        first page (`seen`), which a slice lists again. A stopped run's unfinished slices
        go on from where they stopped; its finished days are not read again."""
        date_filter = self.shape.date_filter
        assert date_filter is not None
        under_way = {name: named_days(name) for name in saved.walks}
        taken = saved.days + [days for days in under_way.values() if days]
        walks = [partial(self.follow, key, name, link, days=under_way[name])
                 for name, link in saved.walks.items() if under_way[name]]
        for days in share_out(days_left(walk.span.first, walk.span.last, taken),
                              self.workers * 2):
            part = day_slice(walk, date_filter, days)
            walks.append(partial(self.follow, key, days_name(days), part.url, part.params,
                                 days=days))
        for item in walk_in_parallel(walks, call, self.workers):
            yield item if isinstance(item, Mark) else [r for r in item
                                                       if r.get("sid") not in seen]

    def seek(self, walk: SeekingWalk, key: str, first_page: Page,
             next_url: str) -> Iterator[Item]:
        """The rest of an unfiltered list after its first page, read from several places.

        Twilio's next-page link resumes a list with `PageToken=PA<SID of the page's last
        record>`. Probes (the two newest records on or before evenly spaced days) find seed
        records and the record that follows each; a walk starts after each seed with such a
        token, built here, so it is trusted only once its first page proves it (see
        `seeking.lands_after_seed`). Every walk, the one from the first page included,
        stops at the first seed it meets, so each record is read once, whatever the order of
        the seeds, and records whose date is null are read too. The first failed proof sends
        the list on in one walk over Twilio's own links, before any seeded record is used.
        """
        first_day = walk.first_day
        oldest_seen = created_at(first_page[-1])
        last_day = oldest_seen.date() if oldest_seen else walk.last_day
        walks = seed_walks(first_day, first_page, self.workers)
        seen = {r.get("sid") for r in first_page}
        seeds = [seed for seed in self.probe_seeds(walk, probe_days(first_day, last_day, walks))
                 if seed.sid not in seen]
        seeded = self.seeded_first_pages(walk, seeds)
        if seeded is None:
            seeds, seeded = [], []
        stops = frozenset(seed.sid for seed in seeds)
        starts = [(HEAD, self.link(next_url), None)] + [
            (f"after {seed.sid}", self.link(link_with(walk.url, seeded_params(walk, seed))),
             body) for seed, body in zip(seeds, seeded, strict=True)]
        yield Mark(key, head=first_page[0].get("sid"),
                   started={name: link for name, link, _ in starts}, stops=tuple(stops))
        yield from walk_in_parallel(
            [partial(self.follow, key, name, link, stops=stops, first_body=body)
             for name, link, body in starts], call, self.workers)

    def probe_seeds(self, walk: SeekingWalk, days: list[Any]) -> list[Seed]:
        """The newest record on or before each day, with the record after it (distinct, in
        no particular order). A probe that finds no record after its seed gives none."""
        date_filter = self.shape.date_filter
        assert date_filter is not None
        base = date_filter.strip(walk.params)
        probes = [
            partial(self.fetch, walk.url, {**base, **date_filter.params(None, day), "PageSize": 2})
            for day in days
        ]
        seeds: dict[str, Seed] = {}
        for day, body in zip(days, run_all(probes, self.workers), strict=True):
            records = self.records(body)
            if len(records) == 2 and records[0]["sid"] not in seeds:
                seeds[records[0]["sid"]] = Seed(records[0]["sid"], records[1]["sid"], day)
        return list(seeds.values())

    def seeded_first_pages(self, walk: SeekingWalk, seeds: list[Seed]) -> list[Any] | None:
        """The first page after each seed, each proven to start right after its seed; None
        when Twilio refuses such a token or a page fails its proof."""
        if not seeds:
            return []
        pages = [partial(self.fetch, walk.url, seeded_params(walk, seed)) for seed in seeds]
        name = self.shape.name
        try:
            bodies = run_all(pages, self.workers)
        except TwilioAPIError as exc:
            self.logger.warning("%s: a list cannot be resumed from a record (%s); reading "
                                "it in one walk", name, exc)
            return None
        firsts = [self.records(body)[:1] for body in bodies]
        distinct = len({page[0]["sid"] for page in firsts if page}) == len(seeds)
        field = self.shape.date_field
        assert field is not None
        if not distinct or not all(
            lands_after_seed(self.records(body), seed, field)
            for seed, body in zip(seeds, bodies, strict=True)
        ):
            self.logger.warning("%s: Twilio did not resume the list right after a record "
                                "named in a PageToken; reading it in one walk over Twilio's "
                                "own page links", name)
            return None
        return bodies


def seeded_params(walk: SeekingWalk, seed: Seed) -> dict[str, Any]:
    """The query of the page right after a seed record."""
    return {**walk.params, "Page": 1, "PageToken": "PA" + seed.sid}


def kept(sweep: NullSweep | None, records: Page) -> Page:
    """A page's records a walk keeps: a sweep keeps those whose date is null."""
    if sweep is None:
        return records
    return [r for r in records if r.get(sweep.field) in (None, "")]


def swept(sweep: NullSweep | None, records: Page) -> bool:
    """Whether a sweep is over: its page reached the day it sweeps back to."""
    return bool(sweep and records and created_before(records[-1], sweep.since))


def until_stop(records: Page, stops: frozenset[Any]) -> tuple[Page, bool]:
    """A page's records up to and including the first in `stops`, and whether one was."""
    for i, record in enumerate(records):
        if record.get("sid") in stops:
            return records[: i + 1], True
    return records, False


def call(walk: Callable[[], Iterator[Item]]) -> Iterator[Item]:
    return walk()
