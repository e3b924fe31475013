"""Pages fetched before the SDK asks for them: the first page of each child list a page's
records will ask for (the SDK syncs children one record after the other), read by
`max_concurrency` workers while the parent's records are emitted. The threads are in
`concurrency.py` (`FirstPagePrefetcher`); this is the stream's side.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import Future
from functools import cached_property, partial
from typing import Any

from singer_sdk import RESTStream
from singer_sdk.helpers.types import Context

from tap_twilio import sdk_compat
from tap_twilio.concurrency import Fetches, FirstPagePrefetcher, PagesAhead
from tap_twilio.planning import ListQuery
from tap_twilio.transform import TransformError
from tap_twilio.walking import ListWalker

# Pages after a list's first one fetched ahead, for a list walked link by link: memory
# stays at this many pages more per list ahead.
FOLLOWING_PAGES = 4


class PrefetchHooks(RESTStream[str]):
    """Fetching ahead, for a stream (see client.TwilioStream, which provides the queries,
    the credentials and the fetch)."""

    tap: Any  # the TapTwilio that made the stream

    def prefetch_key(self, context: Context | None) -> tuple[str, tuple]:
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
        walker: ListWalker = self.walker(context)
        body = walker.fetch(url, params)
        next_url = walker.next_url(body) if following > 0 else None
        if next_url:
            ahead.follow(next_url, partial(self.fetch_ahead, context, next_url, None,
                                           following - 1))
        return body

    def prefetched_first_pages(self, context: Context | None) -> dict[Any, Future]:
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
        parent_type = self.parent_stream_type
        return self.tap.streams.get(parent_type.name) if parent_type else None  # type: ignore[return-value]

    # The first pages of the child lists of the records being emitted (see prefetch_children).
    children_ahead: FirstPagePrefetcher | None = None

    def prefetch_children(self, page: list[dict], context: Context | None) -> None:
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
        children = [c for c in self.child_streams if c.selected or c.has_selected_descendents]
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

    def child_contexts_of(self, page: list[dict], context: Context | None) -> Iterator[Context]:
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
                yield from self.generate_child_contexts(record, context)

    def stop_prefetching_children(self) -> None:
        if self.children_ahead is not None:
            self.children_ahead.close()
            self.children_ahead = None


def walks_link_by_link(query: ListQuery) -> bool:
    """Whether the walk of a query follows its next-page links from its first page to its
    end (not read on in slices or from seeds, nor a sweep that may stop early)."""
    return not (query.split or query.seek or query.window or query.only_null)
