"""One list's reader: a partition's walks planned from the list's spec, the settings and the
run, walked, and handed over page by page; and what may be fetched ahead for it.

A stream (stream.py) has one reader and delegates its SDK hooks to it; the reader knows no
stream: a partition is the values of the list's path parameters (`account_sid`, ...), its
URL is given, and its bookmark's day is read from the state by the stream.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import Future
from functools import partial
from typing import Any

from tap_twilio.twilio.client import Partition, TwilioClient
from tap_twilio.twilio.concurrency import Fetches, PagesAhead, walk_in_parallel
from tap_twilio.twilio.families import API_2010
from tap_twilio.twilio.hosts import Hosts
from tap_twilio.twilio.lists import ListSpec
from tap_twilio.twilio.planning import (
    ListRules,
    ReadSettings,
    ask_for_everything,
    asked_one_by_one,
    plan_list,
)
from tap_twilio.twilio.progress import KeptProgress, PartitionProgress, pages_kept
from tap_twilio.twilio.run import TwilioRun
from tap_twilio.twilio.walking import ListShape, ListWalker, Page
from tap_twilio.twilio.walks import LinearWalk, Walk, first_request, follows_links_to_the_end
from tap_twilio.twilio.window import reading_window, today_utc

# Pages after a list's first one fetched ahead, for a list walked link by link: memory
# stays at this many pages more per list ahead.
FOLLOWING_PAGES = 4
Ahead = dict[Any, "Future[Any]"]  # pages fetched ahead: by first request, and by URL


class ListReader:
    """Reads one Twilio list, partition by partition."""

    def __init__(self, spec: ListSpec, config: Mapping[str, Any], run: TwilioRun,
                 client: TwilioClient, logger: logging.Logger) -> None:
        self.spec = spec
        self.config = config
        self.run = run
        self.client = client
        self.logger = logger
        self.settings = ReadSettings.from_config(config)
        self.hosts = Hosts.from_config(config)
        self.host_url = self.hosts.url(spec.host)
        self.own_credentials = spec.family is not API_2010  # see `Accounts.credentials`
        self.missing_days_said = 0  # partitions whose days with no export were said
        date_filter = spec.date_filter
        self.rules = ListRules(
            date_params=date_filter.params if date_filter else lambda start, end: {},
            slices=date_filter if date_filter and date_filter.sliceable else None,
            null_field=spec.replication_key if spec.behaviour.null_dates else None,
            retention_days=spec.retention_days,
            bounded_below=self.own_credentials and date_filter is not None,
        )
        self.shape = ListShape(spec.name, spec.family, self.host_url.rstrip("/"), self.hosts,
                               spec.list_key, date_filter, spec.replication_key)

    # --- what to ask for -------------------------------------------------------------

    def base_params(self) -> dict[str, Any]:
        """Every query's parameters: the page size, the settings the list filters on
        server-side, and what the list always needs sent."""
        params: dict[str, Any] = {"PageSize": self.config.get("page_size", 1000)}
        for setting, param in self.spec.options.items():
            value = self.config.get(setting)
            if value is not None:
                params[param] = log_level_param(value) if setting == "log" else str(value)
        return {**params, **self.spec.behaviour.fixed_params}

    def created(self, partition: Partition) -> dt.date | None:
        """When the partition's account was created, as read by the accounts stream."""
        account = partition.get("account_sid")
        return self.run.accounts.created.get(account) if account else None

    def lists(self, partition: Partition) -> bool:
        """Whether the partition names a list: a child's account partition, read for the
        records BulkExport keeps (history.py), names none."""
        return all(partition.get(key) for key in self.spec.context_fields)

    def has_credentials(self, partition: Partition) -> bool:
        return self.run.accounts.credentials(partition.get("account_sid"),
                                             self.own_credentials) is not None

    def plan(self, url: str, partition: Partition, bookmark: dt.date | None,
             planning: bool = False) -> list[Walk]:
        """The walks that together list a partition (see `planning.plan_list`).
        `planning`: asked ahead of the read (nothing is logged then)."""
        if self.spec.list_key is None:  # one object, not a list
            return [LinearWalk(url, {})]
        today = today_utc()
        window = reading_window(self.config, bookmark, self.settings.lookback, today)
        plan = plan_list(url, self.base_params(), self.rules, self.settings, window,
                         self.created(partition), today)
        if plan.clamped_to and window.start and not planning:  # said when the list is read
            self.logger.info("%s: Twilio keeps %d days; reading from %s instead of %s",
                             self.spec.name, self.spec.retention_days, plan.clamped_to,
                             window.start)
        return ask_for_everything(plan.walks, self.spec.narrowing)

    # --- reading pages ---------------------------------------------------------------

    def walker(self, partition: Partition, ahead: Ahead | None = None,
               saved: PartitionProgress | None = None) -> ListWalker:
        """A walker of a partition's walks; a next page fetched ahead (in `ahead` by its
        URL) is taken from there; `saved`: what a stopped run finished."""
        def fetch(url: str, params: dict[str, Any] | None) -> Any:
            fetched = ahead.pop(url, None) if ahead and params is None else None
            if fetched is not None:
                return fetched.result()
            return self.client.fetch(url, params, partition, self.own_credentials)

        return ListWalker(fetch, self.shape, self.settings.workers, self.logger, saved)

    def pages(self, url: str, partition: Partition, bookmark: dt.date | None,
              ahead: Ahead, kept: KeptProgress) -> Iterator[Page]:
        """The partition's raw records, page by page, as they arrive; first pages (and
        pages after them) may have been fetched ahead (`ahead`). What each written page
        completes is kept in the partition's progress (`kept`), and what a stopped run
        finished there is not read again."""
        walks = [(walk, ahead.get(first_request(walk)))
                 for walk in self.plan(url, partition, bookmark)]
        walker = self.walker(partition, ahead, kept.saved)
        # A record whose status changes between two walks (one per status) is emitted once.
        seen: set[tuple[Any, ...]] | None = (
            set() if asked_one_by_one(self.spec.narrowing) else None)
        for page in pages_kept(walk_in_parallel(walks, lambda walk: walker.walk(*walk),
                                                self.settings.workers), kept):
            page = first_sightings(page, self.spec.primary_keys, seen)
            fill_context_fields(page, partition, self.spec.context_fields)
            yield page

    # --- fetching ahead --------------------------------------------------------------

    def fetches_ahead(self, url: str, partition: Partition, bookmark: dt.date | None
                      ) -> Fetches:
        """What the prefetcher may fetch ahead for a partition: each walk's first page, and
        for a list walked link by link, up to `FOLLOWING_PAGES` pages after it."""
        if not self.has_credentials(partition) or (
            self.rules.bounded_below and self.created(partition) is None
        ):  # not known yet: the walk asked later would differ
            return {}
        # A list that can be sliced is read in slices or from seeds once its account's
        # creation day is known, and the main account's lists are planned before that: its
        # pages are not followed, or they would be read one after the other.
        settled = self.rules.slices is None or self.created(partition) is not None
        return {
            first_request(walk): partial(
                self.fetch_ahead, partition, walk.url, walk.params,
                FOLLOWING_PAGES if settled and follows_links_to_the_end(walk) else 0)
            for walk in self.plan(url, partition, bookmark, planning=True)
        }

    def fetch_ahead(self, partition: Partition, url: str, params: dict[str, Any] | None,
                    following: int, ahead: PagesAhead) -> Any:
        """A page fetched ahead; the page after it is asked for before this one is handed
        over, while `following` allows. The sync reads a list's pages one after the other
        (an account's daily usage records: several), and would wait a round trip for each
        while the workers, past the lists ahead, had nothing to do."""
        walker = self.walker(partition)
        body = walker.fetch(url, params)
        next_url = walker.next_url(body) if following > 0 else None
        if next_url:
            ahead.follow(next_url, partial(self.fetch_ahead, partition, next_url, None,
                                           following - 1))
        return body


def first_sightings(page: Page, keys: Iterable[str],
                    seen: set[tuple[Any, ...]] | None) -> Page:
    """The page's records not seen before (by primary key), which are remembered; the whole
    page where no record can be listed twice (`seen` None)."""
    if seen is None:
        return page
    fresh = []
    for record in page:
        key = tuple(record.get(k) for k in keys)
        if key not in seen:
            seen.add(key)
            fresh.append(record)
    return fresh


def fill_context_fields(page: Page, partition: Partition, keys: tuple[str, ...]) -> None:
    """The path's parameters a child's records lack, from the partition (a message's
    media do not name the message)."""
    for key in keys:
        if key in partition:
            for record in page:
                if key not in record:
                    record[key] = partition[key]


LOG_LEVELS = {"error": "0", "0": "0", "warning": "1", "1": "1"}  # `log` setting -> `Log`


def log_level_param(value: str | int) -> str:
    """The `Log` query value for a `log` setting."""
    return LOG_LEVELS[str(value).lower()]
