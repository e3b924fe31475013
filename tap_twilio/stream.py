"""The stream: the SDK's hooks for one Twilio list, delegated to its reader.

A stream's list is read by a `twilio.reader.ListReader` made from the list's spec, the
settings and the run; this class hands it each partition (the SDK's context), its URL and
its bookmark's day, and gives the pages it reads to one of two paths: whole pages written
at once (`output.writer.PageOutput`) for a plain sync, or the SDK's own record loop. It also
makes the child contexts and has the first pages of the children's lists fetched ahead.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from functools import cached_property, partial
from itertools import chain
from typing import Any, ClassVar

import requests
from singer_sdk import RESTStream, SchemaDirectory, StreamSchema, Tap, metrics
from singer_sdk.helpers.conform import TypeConformanceLevel
from singer_sdk.helpers.types import Context
from singer_sdk.mapper import SameRecordTransform
from singer_sdk.singerlib.catalog import REPLICATION_INCREMENTAL

from tap_twilio import schemas, sdk_compat
from tap_twilio.output.progress import StreamProgress
from tap_twilio.output.transform import RecordTransformer, TransformError
from tap_twilio.output.writer import PageOutput
from tap_twilio.run import Run
from tap_twilio.twilio.bulkexport import jobs_pending, want_days, wanted_days
from tap_twilio.twilio.client import Partition, TwilioClient
from tap_twilio.twilio.concurrency import Fetches, FirstPagePrefetcher
from tap_twilio.twilio.families import API_2010
from tap_twilio.twilio.history import exported_pages
from tap_twilio.twilio.http import ResourceUnavailable
from tap_twilio.twilio.lists import ListSpec
from tap_twilio.twilio.progress import KeptProgress
from tap_twilio.twilio.reader import Ahead, ListReader


class TwilioStream(RESTStream[str]):
    """A Twilio list resource read page by page."""

    schema = StreamSchema(SchemaDirectory(schemas))
    # Records are converted by `RecordTransformer`, derived from the schema, so the SDK's
    # generic per-record conformance would only repeat that work.
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE
    is_sorted = False  # Twilio lists come newest first
    state_partitioning_keys: ClassVar[list[str] | None] = None
    list_spec: ClassVar[ListSpec]  # the list, from its row of the stream table
    child_keys: ClassVar[dict[str, str]] = {}  # child context key -> this record's field
    # `--test` asks for the children of a record even where the spec says it has none
    # (Twilio answers an empty list), so that the child stream's endpoint is tested too.
    asks_every_child = False
    skipped_accounts = 0  # partitions whose list Twilio refused (403/404)
    parent: TwilioStream | None = None  # the tap's instance of `parent_stream_type`
    page_arrived: dt.datetime | None = None  # when the page being handed over arrived
    # The first pages of the child lists of the records being emitted (see prefetch_children).
    children_ahead: FirstPagePrefetcher | None = None

    def __init__(self, tap: Tap, run: Run) -> None:
        self.run = run
        super().__init__(tap)
        self.spec = self.list_spec.for_settings(self.config)
        self.path = self.spec.path
        self.replication_key = self.spec.replication_key

    @property
    def emit_activate_version_messages(self) -> bool:
        """Not the SDK's, before the first record: the tap's, after the run (versions.py)."""
        return False

    @property
    def url_base(self) -> str:
        return self.reader.host_url

    @cached_property
    def reader(self) -> ListReader:
        def log_request(response: requests.Response, partition: Partition) -> None:
            sdk_compat.log_request_duration(self, response, dict(partition) or None)

        client = TwilioClient(self.name, self.config, self.run.twilio, self.http_headers,
                              self.spec.family is not API_2010, log_request, self.logger)
        return ListReader(self.spec, self.config, self.run.twilio, client, self.logger)

    def bookmark_day(self, context: Context | None) -> dt.date | None:
        """The day of this partition's bookmark, if a previous run left one."""
        if not self.replication_key:
            return None
        # Read from the state itself, not the SDK's starting value: that is written only
        # when the partition's sync begins, and the prefetcher plans before.
        value = self.get_context_state(context).get("replication_key_value")
        if not value:
            return None
        return dt.date.fromisoformat(str(value)[:10])

    @cached_property
    def progress(self) -> StreamProgress:
        """Records and pages read so far, logged every few seconds (see progress.py)."""
        return StreamProgress(self.name, self.logger)

    # --- a partition's sync ------------------------------------------------------------

    PER_PARTITION = ("writes_pages", "unmapped_alias", "syncs_children")

    def get_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
        # Called once per partition, when the catalog, the stream maps and `--test`'s
        # record limit are set: what the partition's sync can skip is decided anew here.
        for name in self.PER_PARTITION:
            self.__dict__.pop(name, None)
        self.page_arrived = None
        self.progress.start()
        try:
            if self.writes_pages:
                # Each page with the time it reached the tap: its records' time_extracted.
                self.page_output(context).write(
                    (page, self.page_arrived or dt.datetime.now(dt.timezone.utc))
                    for page in self.request_pages(context))
            else:  # the SDK's own record loop, record by record
                yield from super().get_records(context)
                sync_kept_children(self, context)
        finally:
            self.progress.stop()
            self.run.writer.flush()  # a failure still leaves what was read on stdout

    def request_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
        for page in self.request_pages(context):
            yield from page

    def request_pages(self, context: Context | None) -> Iterator[list[dict[str, Any]]]:
        """The partition's raw records, page by page, as they arrive."""
        partition = context or {}
        if not self.reader.has_credentials(partition):
            self.run.twilio.warn_once(
                "Twilio's newer APIs serve a subaccount's data only to its own credentials: "
                "with an API key, only the key's own account is read on them (give "
                "auth_token to read every account)"
            )
            return
        bookmark = self.bookmark_day(context)
        ahead = self.prefetched_first_pages(context)
        with self.get_http_request_counter() as counter:
            counter.with_context(context)
            try:
                exported = exported_pages(self.reader, partition, bookmark,
                                          self.get_context_state(context), self.tap_state,
                                          tuple(self.schema["properties"]),
                                          partial(progress_made, self))
                listed = (self.reader.pages(self.get_url(context), partition, bookmark, ahead,
                                            kept_progress(self, context))
                          if self.reader.lists(partition) else iter(()))
                for page in chain(exported, listed):
                    counter.increment()
                    self.page_arrived = dt.datetime.now(dt.timezone.utc)  # time_extracted
                    self.progress.page(len(page), partition.get("account_sid"))
                    self.prefetch_children(page, context)
                    yield page
            except ResourceUnavailable as exc:
                self.skip(context, exc)
            finally:
                self.stop_prefetching_children()

    def skip(self, context: Context | None, exc: ResourceUnavailable) -> None:
        """A list Twilio answers 403/404 for (a product the account does not use, a closed
        subaccount) is skipped: one warning per stream, the other accounts at INFO."""
        account = (context or {}).get("account_sid")
        self.skipped_accounts += 1
        if self.skipped_accounts == 1:
            self.logger.warning("%s: skipped for account %s: %s (Twilio answers so where an "
                                "account does not use the product; other accounts skipped "
                                "alike are logged at INFO)", self.name, account, exc)
        else:
            self.logger.info("%s: skipped for account %s: %s", self.name, account, exc)

    # --- records: the page path or the SDK's loop --------------------------------------

    @cached_property
    def transformer(self) -> RecordTransformer:
        return RecordTransformer(self.name, self.schema)

    def get_record_counter(self, **kwargs: Any) -> metrics.Counter:
        """The SDK's record counter, kept for the page path to count its pages' records."""
        self.record_counter = super().get_record_counter(**kwargs)
        return self.record_counter

    def post_process(
        self, row: dict[str, Any], context: Context | None = None
    ) -> dict[str, Any] | None:
        return self.transformer(row)

    @cached_property
    def writes_pages(self) -> bool:
        """Whether this partition's sync writes whole pages (`output.writer.PageOutput`)
        instead of going through the SDK's record loop: when nothing the loop does per record
        could change a record or add a message (nothing deselected, no type conformance, no
        stream map, no child synced, no `--test` record limit, no BATCH messages)."""
        return (
            self.selected
            and all(self.mask.values())
            and self.TYPE_CONFORMANCE_LEVEL == TypeConformanceLevel.NONE
            and self.unmapped_alias is not None
            and not self.syncs_children
            and self.ABORT_AT_RECORD_COUNT is None
            and not self.get_batch_config(self.config)
            and type(self).post_process is TwilioStream.post_process
        )

    @cached_property
    def unmapped_alias(self) -> str | None:
        """The stream's name when no stream map changes its records (no maps configured, no
        flattening), so records need not pass through the map; else None."""
        maps = self.stream_maps
        if len(maps) != 1 or type(maps[0]) is not SameRecordTransform:
            return None
        if maps[0].flattening_options and maps[0].flattening_enabled:
            return None
        return maps[0].stream_alias

    @cached_property
    def syncs_children(self) -> bool:
        """Whether any child stream is to be synced (else no child context is made)."""
        return any(child.selected or child.has_selected_descendents
                   for child in self.child_streams)

    def page_output(self, context: Context | None) -> PageOutput:
        """The page path for this partition, with the SDK's bookmark and STATE steps."""
        def records_written(count: int) -> None:
            self.record_counter.increment(count)
            self.state_manager.is_flushed = False

        return PageOutput(
            writer=self.run.writer,
            transform=self.transformer,
            stream=self.unmapped_alias or self.name,
            version=sdk_compat.stream_version(self),
            partition_keys=sdk_compat.partition_keys(self, context) or {},
            bookmark_key=(self.replication_key or None
                          if self.replication_method == REPLICATION_INCREMENTAL else None),
            keeps_greatest=not self.is_sorted and self.check_sorted,  # the SDK's rule
            advance_bookmark=partial(sdk_compat.advance_bookmark, self, context=context),
            records_written=records_written,
            write_state=partial(sdk_compat.write_state_message, self),
            state_every=self.STATE_MSG_FREQUENCY,
        )

    # --- children and their first pages fetched ahead ----------------------------------

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

    def get_child_context(self, record: dict[str, Any], context: Context | None) -> Context | None:
        has_children = self.spec.behaviour.has_children
        if not self.asks_every_child and has_children and not has_children(record):
            want_kept_children(self, record, context)
            return None  # no child list is asked for where the list shows none
        child = dict(context or {})
        child.update({key: record.get(field) for key, field in self.child_keys.items()})
        return child

    @property
    def synced_children(self) -> list[TwilioStream]:
        """The child streams to be synced (selected, or with a selected child)."""
        return [child for child in self.child_streams
                if isinstance(child, TwilioStream)
                and (child.selected or child.has_selected_descendents)]

    def prefetch_entry(self, context: Context) -> tuple[Any, Callable[[], Fetches]]:
        """The prefetcher's plan entry for this partition: its key (the stream and its
        whole context: a child's holds its parent record's key) and its fetches."""
        key = (self.name, tuple(sorted((k, str(v)) for k, v in context.items())))
        return key, lambda: self.reader.fetches_ahead(self.get_url(context), context,
                                                      self.bookmark_day(context))

    def prefetched_first_pages(self, context: Context | None) -> Ahead:
        """The first pages of this partition's walks already asked for (and pages after
        them, by URL): by the parent, for a child list, or by the run, for the next
        accounts' lists."""
        key, _ = self.prefetch_entry(context or {})
        ahead = self.parent.children_ahead if self.parent is not None else None
        fetched = ahead.take(key) if ahead is not None else {}
        return fetched or self.run.twilio.prefetcher.take(key)

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
        workers = self.reader.settings.workers
        if not self.syncs_children or self.ABORT_AT_RECORD_COUNT is not None or workers <= 1:
            return
        children = self.synced_children
        entries = [child.prefetch_entry(child_context)
                   for child_context in self.child_contexts_of(page, context)
                   for child in children]
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


# RECORD bytes since the last STATE for progress alone to ask for one (a stop loses less).
PROGRESS_STATE_BYTES = 64 * 1024


def want_kept_children(parent: TwilioStream, record: dict[str, Any],
                       context: Context | None) -> None:
    """Note, in each child's state, the days BulkExport keeps a record's children on where
    the list shows none (a completed conference's participants)."""
    for child in parent.synced_children:
        kept_days = child.spec.behaviour.kept_days_of_parent
        if kept_days:
            want_days(child.get_context_state(account_context(context)), kept_days(record))


def sync_kept_children(parent: TwilioStream, context: Context | None) -> None:
    """After a partition's records: the children Twilio keeps but no longer lists, read from
    BulkExport once for the account, on the days noted (`--test` reads none)."""
    if parent.ABORT_AT_RECORD_COUNT is not None:
        return
    for child in parent.synced_children:
        if child.spec.behaviour.kept_days_of_parent:
            account = account_context(context)
            state = child.get_context_state(account)
            if wanted_days(state) or jobs_pending(state):
                child.sync(account)


def progress_made(stream: TwilioStream) -> None:
    """A partition's state changed by work written (a walk's mark, a day read): a STATE
    once enough RECORD bytes were written since the last one."""
    stream.state_manager.is_flushed = False
    if stream.run.state_writer.record_bytes_since() >= PROGRESS_STATE_BYTES:
        sdk_compat.write_state_message(stream)


def account_context(context: Context | None) -> dict[str, Any]:
    """The context of a partition's account: a child list's state is kept per account."""
    return {"account_sid": (context or {}).get("account_sid")}


def kept_progress(stream: TwilioStream, context: Context | None) -> KeptProgress:
    """A partition's progress (twilio/progress.py), kept in its state as its pages are
    written; not kept for a child list, whose state its parent's other children share (the
    parent's progress keeps which parents' children are done). A resumed partition's
    bookmark starts at the greatest value the stopped run wrote."""
    if (sdk_compat.partition_keys(stream, context) or {}) != (context or {}):
        return KeptProgress({}, lambda: None)

    kept = KeptProgress(stream.get_context_state(context), partial(progress_made, stream))
    if kept.saved.bookmark is not None and stream.replication_key:  # the stopped run's
        sdk_compat.advance_bookmark(stream, {stream.replication_key: kept.saved.bookmark},
                                    context=context)
    return kept
