"""Walking Twilio lists: the pages of a planned walk (walks.py), by following links or in
parallel.

A `ListWalker` is handed a fetch function (URL and parameters to a decoded page, retried),
the list's shape and the number of workers; it knows nothing of streams or the SDK. There
is one method per kind of walk; `walk` picks it.
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
from tap_twilio.twilio.planning import DateFilter, slice_walks
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

Fetch = Callable[[str, "dict[str, Any] | None"], Any]
Page = list[dict[str, Any]]


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

    def __init__(self, fetch: Fetch, shape: ListShape, workers: int, logger: Logger) -> None:
        self.fetch = fetch
        self.shape = shape
        self.workers = workers
        self.logger = logger

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

    def walk(self, walk: Walk, first_page: Future[Any] | None = None) -> Iterator[Page]:
        """Every page of one walk; its first page may have been fetched ahead."""
        body = first_page.result() if first_page is not None else self.fetch(walk.url,
                                                                               walk.params)
        if isinstance(walk, LinearWalk):
            yield from self.linear(body)
        elif isinstance(walk, SlicedWalk):
            yield from self.sliced(walk, body)
        elif isinstance(walk, SeekingWalk):
            yield from self.sought(walk, body)
        elif isinstance(walk, NullSweep):
            yield from self.null_sweep(walk, body)
        else:
            yield from self.sweep_then_window(walk, body)

    def linear(self, body: Any) -> Iterator[Page]:
        """The page of `body` and every page after it, link by link."""
        while True:
            yield self.records(body)
            url = self.next_url(body)
            if url is None:
                return
            body = self.fetch(url, None)

    def sliced(self, walk: SlicedWalk, body: Any) -> Iterator[Page]:
        """The first page of a window; when the list goes on, the window in day slices read
        in parallel, less the first page's records, which a slice lists again."""
        records = self.records(body)
        yield records
        if self.next_url(body) is None:
            return
        assert self.shape.date_filter is not None
        seen = {r.get("sid") for r in records}
        slices = slice_walks(walk, self.shape.date_filter, self.workers)
        for page in walk_in_parallel(slices, self.walk, self.workers):
            yield [r for r in page if r.get("sid") not in seen]

    def sought(self, walk: SeekingWalk, body: Any) -> Iterator[Page]:
        """The first page of a full history; when the list goes on, the rest from seeds."""
        records = self.records(body)
        yield records
        next_url = self.next_url(body)
        if next_url is not None:
            yield from self.seek(walk, records, next_url)

    def null_sweep(self, walk: NullSweep, body: Any) -> Iterator[Page]:
        """The records whose date is null, page by page, up to the page reaching `since`."""
        while True:
            records = self.records(body)
            yield [r for r in records if r.get(walk.field) in (None, "")]
            url = self.next_url(body)
            if url is None or (records and created_before(records[-1], walk.since)):
                return
            body = self.fetch(url, None)

    def sweep_then_window(self, walk: SweepFirst, body: Any) -> Iterator[Page]:
        """A dated window over a list whose dates can be null, after the sweep's first page.

        That page has no next page for most lists of an incremental run (a subaccount's
        day of messages): it is the whole list, so the window's records are taken from it,
        as Twilio's day-granular filter would, and the window is not asked for (half the
        requests over many subaccounts). Otherwise the window is read by its own walk (and
        slices), alongside the rest of the sweep."""
        sweep, records, next_url = walk.sweep, self.records(body), self.next_url(body)
        if next_url is None:
            yield [r for r in records if null_or_within(r.get(sweep.field), walk.first_day,
                                                        walk.last_day)]
            return
        yield [r for r in records if r.get(sweep.field) in (None, "")]
        walks: list[Walk] = [walk.window]
        if not (records and created_before(records[-1], sweep.since)):
            walks.append(NullSweep(next_url, {}, sweep.field, sweep.since))
        yield from walk_in_parallel(walks, self.walk, self.workers)

    def seek(self, walk: SeekingWalk, first_page: Page, next_url: str) -> Iterator[Page]:
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
        stops = frozenset(seed.sid for seed in seeds) if seeded is not None else frozenset()
        starts: list[tuple[str | None, Any]] = [(next_url, None)]
        starts += [(walk.url, body) for body in seeded or ()]
        yield from walk_in_parallel(
            starts, lambda start: self.walk_until(start[0], start[1], stops), self.workers
        )

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
        pages = [
            partial(self.fetch, walk.url,
                    {**walk.params, "Page": 1, "PageToken": "PA" + seed.sid})
            for seed in seeds
        ]
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

    def walk_until(
        self, url: str | None, first_body: Any, stops: frozenset[str]
    ) -> Iterator[Page]:
        """Pages from `url` (or from an already fetched first page) up to and including
        the first record in `stops`."""
        while url:
            if first_body is not None:
                body, first_body = first_body, None
            else:
                body = self.fetch(url, None)
            records = self.records(body)
            for i, record in enumerate(records):
                if record.get("sid") in stops:
                    yield records[: i + 1]
                    return
            yield records
            url = self.next_url(body)
