"""A stream's children: the context each record gives its child streams, and the pages
fetched before the SDK asks for them: the first page of each child list a page's records
will ask for (the SDK syncs children one record after the other), read by `max_concurrency`
workers while the parent's records are emitted. The threads are in `concurrency.py`
(`FirstPagePrefetcher`); this is the stream's side.
"""

from __future__ import annotations

import datetime as dt
from abc import abstractmethod
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from functools import cached_property, partial
from typing import Any, ClassVar

from requests.auth import HTTPBasicAuth
from singer_sdk.helpers.types import Context

from tap_twilio import sdk_compat
from tap_twilio.concurrency import Fetches, FirstPagePrefetcher, PagesAhead
from tap_twilio.page_path import PagePathHooks
from tap_twilio.planning import ListQuery, ListRules, ReadSettings
from tap_twilio.transform import TransformError
from tap_twilio.walking import ListWalker

# Pages after a list's first one fetched ahead, for a list walked link by link: memory
# stays at this many pages more per list ahead.
FOLLOWING_PAGES = 4


class PrefetchHooks(PagePathHooks):
    """Fetching ahead, for a stream. It makes the child contexts as the SDK's record loop
    does (the page path's `post_process`); the stream (client.TwilioStream) provides
    the queries, the credentials and the fetch, declared below."""

    @abstractmethod
    def credentials(self, context: Context | None) -> HTTPBasicAuth | None: ...

    @abstractmethod
    def account_created(self, context: Context | None) -> dt.date | None: ...

    @abstractmethod
    def list_queries(self, context: Context | None, planning: bool = False) -> list[ListQuery]:
        ...

    @property
    @abstractmethod
    def list_rules(self) -> ListRules: ...

    @property
    @abstractmethod
    def read_settings(self) -> ReadSettings: ...

    @abstractmethod
    def walker(self, context: Context | None,
               ahead: dict[Any, Future[Any]] | None = None) -> ListWalker: ...

    @property
    def synced_children(self) -> list[PrefetchHooks]:
        """The child streams to be synced (selected, or with a selected child)."""
        return [child for child in self.child_streams
                if isinstance(child, PrefetchHooks)
                and (child.selected or child.has_selected_descendents)]

    def prefetch_key(self, context: Context | None) -> tuple[str, tuple[Any, ...]]:
        """What names a partition's prefetched pages: the stream and its whole context (a
        child's context holds its parent record's key, e.g. the message's SID)."""
        return (self.name, tuple(sorted((key, str(value))
                                        for key, value in (context or {}).items())))

    def prefetch_entry(self, context: Context) -> tuple[Any, Callable[[], Fetches]]:
        """The prefetcher's plan entry for this partition: its key and its fetches."""
        return (self.prefetch_key(context), partial(self.prefetch_fetches, context))

    def prefetch_fetches(self, context: Context) -> Fetches:
        """What the prefetcher may fetch ahead for this partition: each query's first page,
        and for a list walked link by link, up to `FOLLOWING_PAGES` pages after it."""
        if self.credentials(context) is None or (
            self.list_rules.bounded_below and self.account_created(context) is None
        ):  # not known yet: the query asked later would differ
            return {}
        # A list that can be sliced is read in slices or from seeds once its account's
        # creation day is known, and the main account's lists are planned before that: its
        # pages are not followed, or they would be read one after the other.
        settled = self.list_rules.slices is None or self.account_created(context) is not None
        return {
            query.request: partial(self.fetch_ahead, context, query.url, query.params,
                                   FOLLOWING_PAGES if settled and walks_link_by_link(query)
                                   else 0)
            for query in self.list_queries(context, planning=True)
        }

    def fetch_ahead(self, context: Context, url: str, params: dict[str, Any] | None,
                    following: int, ahead: PagesAhead) -> Any:
        """A page fetched ahead; the page after it is asked for before this one is handed
        over, while `following` allows. The sync reads a list's pages one after the other
        (an account's daily usage records: several), and would wait a round trip for each
        while the workers, past the lists ahead, had nothing to do."""
        walker = self.walker(context)
        body = walker.fetch(url, params)
        next_url = walker.next_url(body) if following > 0 else None
        if next_url:
            ahead.follow(next_url, partial(self.fetch_ahead, context, next_url, None,
                                           following - 1))
        return body

    def prefetched_first_pages(self, context: Context | None) -> dict[Any, Future[Any]]:
        """The first pages of this partition's queries already asked for, by request (and
        pages after them, by URL): by the parent, for a child list, or by the tap, for the
        next accounts' lists."""
        key = self.prefetch_key(context)
        parent = self.parent_stream
        ahead = parent.children_ahead if parent is not None else None
        fetched = ahead.take(key) if ahead is not None else {}
        return fetched or self.tap.prefetcher.take(key)

    @cached_property
    def parent_stream(self) -> PrefetchHooks | None:
        """The tap's instance of this stream's parent; None for a stream without one."""
        return next((stream for stream in self.tap.streams.values()
                     if isinstance(stream, PrefetchHooks)
                     and type(stream) is self.parent_stream_type), None)

    # The first pages of the child lists of the records being emitted (see prefetch_children).
    children_ahead: FirstPagePrefetcher | None = None

    def prefetch_children(self, page: list[dict[str, Any]], context: Context | None) -> None:
        """Start fetching the first page of each child list the page's records will ask for.

        The SDK syncs a record's children while it emits the record, one list after the
        other (a message's media: one round trip each). When a page arrives, the child
        lists its records will ask for are known: the first page of each is fetched ahead,
        in the SDK's order, up to `max_concurrency` lists past the one being read, so that
        the SDK finds it ready. Records go through the same steps as in the SDK's loop
        (`post_process`, the stream map's filter, `get_child_context`), so nothing is
        fetched for a record without children, nor for a child stream not selected.
        """
        workers = self.read_settings.workers
        if not self.syncs_children or self.ABORT_AT_RECORD_COUNT is not None or workers <= 1:
            return
        children = self.synced_children
        entries = [
            child.prefetch_entry(child_context)
            for child_context in self.child_contexts_of(page, context)
            for child in children
        ]
        if not entries:
            return
        if self.children_ahead is None:
            self.children_ahead = FirstPagePrefetcher(workers=workers, ahead=workers)
        self.children_ahead.plan(entries)

    def child_contexts_of(
        self, page: list[dict[str, Any]], context: Context | None
    ) -> Iterator[Context]:
        """The child contexts the SDK will make for a page's records, in its order."""
        partition = sdk_compat.partition_keys(self, context) or {}
        for row in page:
            try:
                record = self.post_process(dict(row), context)
            except TransformError:
                continue  # the SDK stops at this record when it reaches it
            if record is None:
                continue
            for key, value in partition.items():  # what _process_record adds
                record.setdefault(key, value)
            if self.stream_maps[0].get_filter_result(record):
                for child_context in self.generate_child_contexts(record, context):
                    if child_context is not None:  # the SDK syncs no child for it either
                        yield child_context

    def stop_prefetching_children(self) -> None:
        if self.children_ahead is not None:
            self.children_ahead.close()
            self.children_ahead = None

    # --- the child contexts ------------------------------------------------------------

    child_keys: ClassVar[dict[str, str]] = {}  # child context key -> this record's field
    # `--test` asks for the children of a record even where `has_children` says it has none
    # (Twilio answers an empty list), so that the child stream's endpoint is tested too.
    asks_every_child = False

    def generate_child_contexts(
        self, record: dict[str, Any], context: Context | None
    ) -> Iterator[Context]:
        # No context at all (not a None one) for a record without children: the SDK would
        # otherwise log "Context for child streams ... is null" once per such record (most
        # messages have no media), a cost even when a log filter drops the lines.
        if not self.syncs_children:
            return
        child = self.get_child_context(record, context)
        if child is not None:
            yield child

    def has_children(self, record: dict[str, Any]) -> bool:
        """Whether a record can have children at all; the children's list is not asked for
        where it cannot (a message without media, a conference that has ended)."""
        return True

    def get_child_context(self, record: dict[str, Any], context: Context | None) -> Context | None:
        if not self.asks_every_child and not self.has_children(record):
            return None
        child = dict(context or {})
        child.update({key: record.get(field) for key, field in self.child_keys.items()})
        return child


def walks_link_by_link(query: ListQuery) -> bool:
    """Whether the walk of a query follows its next-page links from its first page to its
    end (not read on in slices or from seeds, nor a sweep that may stop early)."""
    return not (query.split or query.seek or query.window or query.only_null)
