"""The stream: the glue between the SDK's hooks and the layers that read Twilio.

`planning.py` decides what to ask for, `walking.py` walks the pages, `http.py` knows Twilio's
errors and retries; this class hands them the settings, the partition's state and a fetch
function, and gives the SDK the records. The SDK's generic request loop is replaced by
`request_records` for three reasons that its hooks cannot express: a page is decoded inside
the retried call (a 200 with a cut-off JSON body is retried, not fatal), a 403/404 on one
subaccount is skipped with a warning, and parts of one list are read in parallel.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from functools import cached_property, partial
from typing import Any, ClassVar

import backoff
import msgspec
import requests
from requests.auth import HTTPBasicAuth
from singer_sdk import RESTStream, SchemaDirectory, StreamSchema, metrics
from singer_sdk.exceptions import RetriableAPIError
from singer_sdk.helpers._state import increment_state
from singer_sdk.helpers.conform import TypeConformanceLevel
from singer_sdk.helpers.types import Context
from singer_sdk.mapper import SameRecordTransform
from singer_sdk.singerlib.catalog import REPLICATION_INCREMENTAL

from tap_twilio import schemas
from tap_twilio.concurrency import FirstPagePrefetcher, walk_in_parallel
from tap_twilio.families import API_2010, ApiFamily
from tap_twilio.hosts import Hosts
from tap_twilio.http import (
    RETRIED_EXCEPTIONS,
    HostUnreachable,
    ResourceUnavailable,
    backoff_waits,
    decode_json,
    describe_failure,
    no_server_reason,
    read_body,
    response_error,
    retry_after_seconds,
    url_origin,
)
from tap_twilio.planning import (
    DateFilter,
    ListQuery,
    ListRules,
    ReadSettings,
    plan_list,
    reading_window,
)
from tap_twilio.progress import StreamProgress
from tap_twilio.settings import log_level_param
from tap_twilio.transform import RecordTransformer, TransformError
from tap_twilio.walking import ListShape, ListWalker

API_VERSION_PATH = "/2010-04-01"


class TwilioStream(RESTStream[str]):
    """A Twilio list resource read page by page."""

    schema = StreamSchema(SchemaDirectory(schemas))
    # Records are converted by `RecordTransformer`, derived from the schema, so the SDK's
    # generic per-record conformance would only repeat that work.
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE
    is_sorted = False  # Twilio lists come newest first
    state_partitioning_keys: ClassVar[list[str] | None] = None

    family: ClassVar[ApiFamily] = API_2010  # how the API pages its lists
    list_key: ClassVar[str | None] = None  # key of the page's record array; None: one object
    # The list's server-side day filter (e.g. `DateSent>`/`DateSent<`), by which a long
    # window is cut into slices read in parallel.
    date_filter: ClassVar[DateFilter | None] = None
    null_dates: ClassVar[bool] = False  # the filtered date is null until the record is sent
    retention_days: ClassVar[int | None] = None  # Twilio rejects date filters older than this
    options: ClassVar[dict[str, str]] = {}  # setting -> query parameter, e.g. {"to": "To"}
    child_keys: ClassVar[dict[str, str]] = {}  # child context key -> this record's field
    # Whether a record can have children at all; the children's list is not asked for where
    # it cannot (a message without media, a conference that has ended).
    has_children: ClassVar[Callable[[dict], bool] | None] = None
    # `--test` asks for the children of a record even where `has_children` says it has none
    # (Twilio answers an empty list), so that the child stream's endpoint is tested too.
    asks_every_child = False

    @property
    def url_base(self) -> str:
        return self.config["api_url"].rstrip("/") + API_VERSION_PATH

    @cached_property
    def authenticator(self) -> HTTPBasicAuth:
        if self.config.get("api_key_sid"):
            return HTTPBasicAuth(self.config["api_key_sid"], self.config["api_key_secret"])
        return HTTPBasicAuth(self.config["account_sid"], self.config["auth_token"])

    @cached_property
    def transformer(self) -> RecordTransformer:
        return RecordTransformer(self.name, self.schema)

    @property
    def timeout(self) -> int:
        return int(self.config.get("request_timeout", 120))

    @property
    def host_url(self) -> str:
        """The API's base URL, against which its relative page links resolve."""
        return str(self.config["api_url"])

    @cached_property
    def read_settings(self) -> ReadSettings:
        return ReadSettings.from_config(self.config)

    # --- what to ask for -------------------------------------------------------------

    def option_params(self) -> dict[str, str]:
        """The settings this resource filters on server-side, as Twilio query parameters."""
        params = {}
        for setting, param in self.options.items():
            value = self.config.get(setting)
            if value is not None:
                params[param] = log_level_param(value) if setting == "log" else str(value)
        return params

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

    def date_params(self, start: dt.date | None, end: dt.date | None) -> dict[str, str]:
        """The list's date filter for a window, e.g. `DateSent>=2024-05-01`."""
        return self.date_filter.params(start, end) if self.date_filter else {}

    @cached_property
    def list_rules(self) -> ListRules:
        return ListRules(
            date_params=self.date_params,
            slices=self.date_filter,
            null_field=self.replication_key if self.null_dates else None,
            retention_days=self.retention_days,
        )

    def list_queries(self, context: Context | None, planning: bool = False) -> list[ListQuery]:
        """The queries that together list this partition (see `planning.plan_list`).
        `planning`: asked by the prefetcher ahead of the read (nothing is logged then)."""
        today = dt.datetime.now(dt.timezone.utc).date()
        settings = self.read_settings
        window = reading_window(self.config, self.bookmark_day(context), settings.lookback,
                                today)
        base: dict[str, Any] = {"PageSize": self.config.get("page_size", 1000)}
        base.update(self.option_params())
        plan = plan_list(self.get_url(context), base, self.list_rules, settings, window,
                         self.account_created(context), today)
        if plan.clamped_to and not planning:  # said once, when the list is read
            self.logger.info("%s: Twilio keeps %d days; reading from %s instead of %s",
                             self.name, self.retention_days, plan.clamped_to, window.start)
        return plan.queries

    def account_created(self, context: Context | None) -> dt.date | None:
        """When the partition's account was created, as read by the accounts stream."""
        sid = (context or {}).get("account_sid")
        created: dict[str, dt.date] = getattr(self._tap, "account_created", {})
        return created.get(sid) if sid else None

    # --- reading pages ---------------------------------------------------------------

    @cached_property
    def list_shape(self) -> ListShape:
        return ListShape(self.name, self.family, self.host_url.rstrip("/"),
                         Hosts.from_config(self.config), self.list_key, self.date_filter,
                         self.replication_key)

    def walker(self, context: Context | None) -> ListWalker:
        """A walker of this partition's lists, fetching with the partition's context."""
        def fetch(url: str, params: dict[str, Any] | None) -> Any:
            return self.fetch_retried(url, params, context)

        return ListWalker(fetch, self.list_shape, self.read_settings.workers, self.logger)

    def request_records(self, context: Context | None) -> Iterable[dict]:
        for page in self.request_pages(context):
            yield from page

    def request_pages(self, context: Context | None) -> Iterator[list[dict]]:
        """The partition's raw records, page by page, as they arrive."""
        # First pages fetched ahead, while an earlier list was read (see concurrency.py).
        fetched = self.prefetched_first_pages(context)
        walks = [(query, fetched.get(query.request)) for query in self.list_queries(context)]
        walker = self.walker(context)
        with self.get_http_request_counter() as counter:
            counter.with_context(context)
            try:
                for page in walk_in_parallel(
                    walks, lambda walk: walker.walk(*walk), self.read_settings.workers
                ):
                    counter.increment()
                    self.page_arrived = dt.datetime.now(dt.timezone.utc)  # time_extracted
                    self.progress.page(len(page), (context or {}).get("account_sid"))
                    self.prefetch_children(page, context)
                    yield page
            except ResourceUnavailable as exc:
                self.logger.warning(
                    "%s: skipped for account %s: %s", self.name,
                    (context or {}).get("account_sid"), exc,
                )
            finally:
                self.stop_prefetching_children()

    def prefetch_key(self, context: Context | None) -> tuple[str, tuple]:
        """What names a partition's prefetched pages: the stream and its whole context (a
        child's context holds its parent record's key, e.g. the message's SID)."""
        return (self.name, tuple(sorted((key, str(value))
                                        for key, value in (context or {}).items())))

    def prefetch_entry(self, context: Context) -> tuple[Any, dict[Any, Callable[[], Any]]]:
        """What the prefetcher may fetch ahead for this partition: each query's first page."""
        return (self.prefetch_key(context), {
            query.request: partial(self.fetch_retried, query.url, query.params, context)
            for query in self.list_queries(context, planning=True)
        })

    def prefetched_first_pages(self, context: Context | None) -> dict[Any, Future]:
        """The first pages of this partition's queries already asked for, by request: by
        the parent, for a child list, or by the tap, for the next accounts' lists."""
        key = self.prefetch_key(context)
        parent = self.parent_stream
        ahead = parent.children_ahead if parent is not None else None
        fetched = ahead.take(key) if ahead is not None else {}
        return fetched or self._tap.prefetcher.take(key)

    @cached_property
    def parent_stream(self) -> TwilioStream | None:
        parent_type = self.parent_stream_type
        return self._tap.streams.get(parent_type.name) if parent_type else None  # type: ignore[return-value]

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
        partition = self._get_state_partition_context(context) or {}
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

    @cached_property
    def fetch_retried(self) -> Callable[[str, dict | None, Context | None], Any]:
        """`fetch_json` with the retries of `request_decorator`."""
        return self.request_decorator(self.fetch_json)

    def fetch_json(self, url: str, params: dict | None, context: Context | None) -> Any:
        """GET one page and decode it; a body that is not complete JSON is retried."""
        request = self.build_prepared_request(
            method="GET", url=url, params=params, headers=self.http_headers
        )
        account = (context or {}).get("account_sid") or self.config["account_sid"]
        with self._tap.limiter.slot(account):  # Twilio limits requests in flight per account
            try:
                response = self.requests_session.send(request, timeout=self.timeout,
                                                      stream=True)
            except requests.exceptions.ConnectionError as exc:
                self.stop_if_no_server(request.url or url, exc)
                raise
            self._tap.answered_origins.add(url_origin(request.url or url))
            self._write_request_duration_log(
                endpoint=self.path, response=response, context=context, extra_tags=None
            )
            self.validate_response(response, context)
            content = read_body(response)
        try:
            return decode_json(content)
        except msgspec.DecodeError as exc:
            raise RetriableAPIError(
                f"incomplete JSON in a {response.status_code} answer ({exc})", response
            ) from None

    def get_record_counter(self, **kwargs: Any) -> metrics.Counter:
        """The SDK's record counter (its metric and tags), as a RecordCounter."""
        sdk = super().get_record_counter(**kwargs)
        self.record_counter = RecordCounter(sdk.metric, sdk.tags, log_interval=sdk.log_interval)
        return self.record_counter

    @cached_property
    def progress(self) -> StreamProgress:
        """Records and pages read so far, logged every few seconds (see progress.py)."""
        return StreamProgress(self.name, self.logger)

    def get_records(self, context: Context | None) -> Iterable[dict]:
        self.progress.start()
        try:
            if self.writes_pages:
                self.write_pages(context)  # yields nothing: see writes_pages
            else:
                yield from super().get_records(context)
        finally:
            self.progress.stop()

    @cached_property
    def _thread_local(self) -> threading.local:
        return threading.local()

    @property
    def requests_session(self) -> requests.Session:
        """One session per thread, so parallel slices never share a connection pool."""
        local = self._thread_local
        if not hasattr(local, "session"):
            local.session = requests.Session()
        return local.session

    # --- errors and retries ----------------------------------------------------------

    def validate_response(  # type: ignore[override]
        self, response: requests.Response, context: Context | None = None
    ) -> None:
        error = response_error(response, self.name, (context or {}).get("account_sid"),
                               self.config["account_sid"])
        if error is not None:
            raise error

    def stop_if_no_server(self, url: str, exc: BaseException) -> None:
        """Raise `HostUnreachable` when a request to a host that has not answered yet in
        this run found no server; once it has answered, the same failure is transient and
        retried (a restart, a failover)."""
        origin, reason = url_origin(url), no_server_reason(exc)
        if reason is None or origin in self._tap.answered_origins:
            return
        settings = [name for name in ("api_url", "monitor_api_url")
                    if url_origin(str(self.config.get(name, ""))) == origin]
        raise HostUnreachable(
            f"could not connect to {origin}: {reason}; check {', '.join(settings) or 'api_url'}"
            " and the network"
        ) from None

    def request_decorator(self, func: Any) -> Any:
        return backoff.on_exception(
            self.backoff_wait_generator,
            RETRIED_EXCEPTIONS,
            max_tries=int(self.config.get("max_retries", 8)) + 1,
            max_time=int(self.config.get("max_retry_seconds", 600)),
            on_backoff=self.backoff_handler,
            on_giveup=self.giveup_handler,
            jitter=None,  # the generator adds its own, after honouring Retry-After
            logger=None,
        )(func)

    def backoff_wait_generator(self) -> Iterator[float]:  # type: ignore[override]
        return backoff_waits()

    def backoff_handler(self, details: Any) -> None:  # type: ignore[override]
        exc = details.get("exception")
        self.logger.warning(
            "%s: retry %d in %.1fs%s after %s",
            self.name,
            details["tries"],
            details["wait"],
            " (Retry-After)" if exc is not None and retry_after_seconds(exc) is not None else "",
            describe_failure(exc),
        )

    def giveup_handler(self, details: Any) -> None:
        self.logger.error(
            "%s: giving up after %d tries in %.0fs: %s",
            self.name,
            details["tries"],
            details["elapsed"],
            describe_failure(details.get("exception")),
        )

    # --- records ---------------------------------------------------------------------

    def post_process(self, row: dict, context: Context | None = None) -> dict | None:
        return self.transformer(row)

    def _increment_stream_state(
        self, latest_record: dict, *, context: Context | None = None
    ) -> None:
        # singer-sdk 0.54.9's StreamStateManager.increment_state looks the partition's state
        # up for every record (a context dict filtered, the partitions list searched). The
        # records of one partition come with one context object, so here the lookup is
        # made once per partition; the bookmark update itself is the SDK's, and it is only
        # asked when it can change something.
        key = self.bookmark_key
        if key is None:
            super()._increment_stream_state(latest_record, context=context)
            return
        value = latest_record.get(key)
        if value is None:
            return  # what the SDK does too, after building a warning we drop (~3% of CPU)
        cached = self.__dict__.get("partition_state")
        if cached is None or cached[0] is not context:
            cached = [context, self.state_manager.get_context_state(context), None]
            self.__dict__["partition_state"] = cached
        if self.keeps_greatest and type(value) is str:
            # Unsorted, the SDK keeps the greatest value it is given (RFC 3339 strings in
            # UTC compare as the times do): a value not above the greatest given is a no-op.
            if cached[2] is not None and value <= cached[2]:
                return
            cached[2] = value
        increment_state(cached[1], latest_record=latest_record, replication_key=key,
                        is_sorted=self.is_sorted, check_sorted=self.check_sorted)

    @cached_property
    def bookmark_key(self) -> str | None:
        """The replication key when records advance a bookmark (incremental), else None."""
        if self.replication_method != REPLICATION_INCREMENTAL:
            return None
        return self.replication_key or None

    @cached_property
    def keeps_greatest(self) -> bool:
        """Whether the SDK's bookmark is the greatest value seen (an unsorted stream)."""
        return not self.is_sorted and self.check_sorted

    def _process_record(
        self, record: dict, child_context: Context | None = None,
        partition_context: Context | None = None,
    ) -> None:
        # The SDK's step adds the partition's keys a record lacks and syncs its children:
        # with no child synced and the keys there (Twilio records carry `account_sid`), it
        # has nothing to do (~2% of the main thread).
        if self.syncs_children or (partition_context and
                                   not partition_context.keys() <= record.keys()):
            super()._process_record(record, child_context=child_context,
                                    partition_context=partition_context)

    # --- the per-record fast path -----------------------------------------------------
    # singer-sdk 0.54.9 does generic work for every record that changes nothing in the usual
    # case. What can be skipped is decided once per sync of a partition (the catalog and the
    # stream maps are fixed by then; `--test` selects streams just before it syncs them).
    PER_SYNC = ("fast_record_writer", "unmapped_alias", "syncs_children", "partition_state",
                "bookmark_key", "keeps_greatest", "writes_pages")

    page_arrived: dt.datetime | None = None  # when the page being emitted was handed over

    def sync(self, context: Context | None = None) -> None:
        for name in self.PER_SYNC:
            self.__dict__.pop(name, None)
        self.page_arrived = None
        super().sync(context)

    @cached_property
    def fast_record_writer(self) -> Callable[..., None] | None:
        """The writer's `write_record` when records can skip the SDK's generic steps.

        The SDK's `_write_record_message` walks every property of every record
        (`pop_deselected_record_properties`, ~20% of the CPU per record; it changes nothing
        when nothing is deselected), conforms types (nothing to do at level NONE), and builds
        a RecordMessage dataclass and its dict (~15% of the main thread) to encode it. With
        nothing deselected, this path writes the same bytes straight from the record.
        A catalog that deselects any property takes the SDK's path.
        """
        if not all(self.mask.values()) or self.TYPE_CONFORMANCE_LEVEL != TypeConformanceLevel.NONE:
            return None
        return getattr(self._tap.message_writer, "write_record", None)

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
        return any(c.selected or c.has_selected_descendents for c in self.child_streams)

    def _write_record_message(self, record: dict) -> None:
        write_record = self.fast_record_writer
        if write_record is None:
            super()._write_record_message(record)
            return
        # time_extracted: when the record's page reached the tap (the SDK reads the clock
        # for every record, ~5% of the main thread).
        extracted = self.page_arrived or dt.datetime.now(dt.timezone.utc)
        alias = self.unmapped_alias
        if alias is not None:
            write_record(alias, record, self._stream_version, extracted)
        else:
            for stream_map in self.stream_maps:
                mapped_record = stream_map.transform(record)
                if mapped_record is not None:
                    write_record(stream_map.stream_alias, mapped_record, self._stream_version,
                                 extracted)
        self.state_manager.is_flushed = False

    @cached_property
    def writes_pages(self) -> bool:
        """Whether this sync writes whole pages itself instead of record by record.

        The SDK's `_sync_records` loop runs a dozen steps per record (limit check,
        `post_process`, `_process_record`, writing, state, counter) that, for a plain
        sync, do the same for every record of a page: ~25% of the main thread. With
        nothing they could change (nothing deselected, no stream map, no child synced, no
        `--test` record limit, no BATCH messages), `write_pages` does them once per page
        and the SDK's loop, which still begins and ends the partition, sees no record.
        """
        return (
            self.selected
            and self.fast_record_writer is not None
            and self.unmapped_alias is not None
            and not self.syncs_children
            and self.ABORT_AT_RECORD_COUNT is None
            and not self.get_batch_config(self.config)
            and type(self).post_process is TwilioStream.post_process
        )

    def write_pages(self, context: Context | None) -> None:
        """Each page's records converted, written, counted and given to the bookmark, and
        the STATE written at the SDK's cadence: what `_sync_records` does per record."""
        write_records = self._tap.message_writer.write_records
        transform = self.transformer
        alias, version = self.unmapped_alias, self._stream_version
        missing_keys = self._get_state_partition_context(context) or {}
        every = self.STATE_MSG_FREQUENCY
        written = 0
        for page in self.request_pages(context):
            records = [transform(row) for row in page]
            for key, value in missing_keys.items():  # what _process_record adds
                for record in records:
                    if key not in record:
                        record[key] = value
            extracted = self.page_arrived or dt.datetime.now(dt.timezone.utc)
            write_records(alias, records, version, extracted)
            self.state_manager.is_flushed = False
            for record in records:  # the bookmark: the SDK's step, per record
                self._increment_stream_state(record, context=context)
            self.record_counter.increment(len(records))
            if (written + len(records)) // every > written // every:
                self._write_state_message()
            written += len(records)

    def generate_child_contexts(self, record: dict, context: Context | None) -> Iterator[Context]:
        # No context at all (not a None one) for a record without children: the SDK would
        # otherwise log "Context for child streams ... is null" once per such record (85% of
        # messages; measured: 85,000 stderr lines per 100,000 messages, and ~0.3 s of CPU,
        # ~10% of the run, even when a log filter drops them).
        if not self.syncs_children:
            return
        child = self.get_child_context(record, context)
        if child is not None:
            yield child

    def get_child_context(self, record: dict, context: Context | None) -> Context | None:
        if self.has_children and not self.has_children(record) and not self.asks_every_child:
            return None
        child = dict(context or {})
        child.update({key: record[field] for key, field in self.child_keys.items()})
        return child


class RecordCounter(metrics.Counter):
    """The SDK's record counter (the `record_count` METRIC lines), reading the clock every
    100 records (or every page) instead of at every record (~3% of the main thread)."""

    CHECK_EVERY = 100

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.unchecked = 0

    def increment(self, value: int = 1) -> None:
        self.value += value
        self.unchecked += value
        if self.unchecked >= self.CHECK_EVERY:
            self.unchecked = 0
            if self._ready_to_log():
                self._pop()


logging.getLogger("backoff").setLevel(logging.CRITICAL)
