"""The stream: the glue between the SDK's hooks and the layers that read Twilio.

`planning.py` decides what to ask for, `walking.py` walks the pages, `http.py` knows Twilio's
errors (`retries.py` the SDK's retry hooks), `output.py` writes a plain sync's pages; this
class hands them the settings, the partition's state and a fetch function. The SDK's
generic request loop is replaced by `request_records` for what its hooks cannot express: a
page decoded inside the retried call (a 200 with a cut-off JSON body is retried), a 403/404
on one subaccount skipped with a warning, and parts of one list read in parallel.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from functools import cached_property
from itertools import chain
from typing import Any, ClassVar

import msgspec
import requests
from requests.auth import HTTPBasicAuth
from singer_sdk import SchemaDirectory, StreamSchema
from singer_sdk.exceptions import RetriableAPIError
from singer_sdk.helpers.conform import TypeConformanceLevel
from singer_sdk.helpers.types import Context

from tap_twilio import schemas, sdk_compat
from tap_twilio.concurrency import walk_in_parallel
from tap_twilio.families import API_2010, ApiFamily
from tap_twilio.history import exported_pages
from tap_twilio.hosts import Hosts
from tap_twilio.http import (
    HostUnreachable,
    ResourceUnavailable,
    decode_json,
    no_server_reason,
    read_body,
    response_error,
    url_origin,
)
from tap_twilio.planning import (
    DateFilter,
    ListQuery,
    ListRules,
    ReadSettings,
    ask_for_everything,
    asked_one_by_one,
    plan_list,
    reading_window,
)
from tap_twilio.prefetching import PrefetchHooks
from tap_twilio.progress import StreamProgress
from tap_twilio.retries import RetryHooks
from tap_twilio.settings import log_level_param
from tap_twilio.walk_progress import KeptProgress, pages_kept
from tap_twilio.walking import ListShape, ListWalker


class TwilioStream(PrefetchHooks, RetryHooks):
    """A Twilio list resource read page by page."""

    schema = StreamSchema(SchemaDirectory(schemas))
    # Records are converted by `RecordTransformer`, derived from the schema, so the SDK's
    # generic per-record conformance would only repeat that work.
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE
    is_sorted = False  # Twilio lists come newest first
    state_partitioning_keys: ClassVar[list[str] | None] = None

    family: ClassVar[ApiFamily] = API_2010  # how the API pages its lists
    product_host: ClassVar[str] = "api.twilio.com"  # where the API lives (see hosts.py)
    list_key: ClassVar[str | None] = None  # key of the page's record array; None: one object
    # The list's server-side day filter (e.g. `DateSent>`/`DateSent<`), by which a long
    # window is cut into slices read in parallel.
    date_filter: ClassVar[DateFilter | None] = None
    null_dates: ClassVar[bool] = False  # the filtered date is null until the record is sent
    retention_days: ClassVar[int | None] = None  # Twilio rejects date filters older than this
    options: ClassVar[dict[str, str]] = {}  # setting -> query parameter, e.g. {"to": "To"}
    # The table's `narrowing`: parameters whose default hides records, with every value.
    narrowing: ClassVar[tuple[tuple[str, tuple[str, ...]], ...]] = ()
    missing_days_said = 0  # partitions whose days with no export were said (history.py)
    # Context keys (the path's parameters) that the records must carry: filled from the
    # context where Twilio's records leave one out.
    context_fields: ClassVar[tuple[str, ...]] = ()

    def __init__(self, tap: Any, *args: Any, **kwargs: Any) -> None:
        self.tap = tap  # the TapTwilio that made this stream: its writer, limiter, prefetcher
        super().__init__(tap, *args, **kwargs)

    @property
    def emit_activate_version_messages(self) -> bool:
        """Not the SDK's, before the first record: the tap's, after the run (versions.py)."""
        return False

    @property
    def url_base(self) -> str:
        return self.host_url

    @cached_property
    def host_url(self) -> str:
        """The URL of the API's host (region, edge and `base_url` applied); the stream's
        path and a page's relative links are appended to it."""
        return Hosts.from_config(self.config).url(self.product_host)

    @cached_property
    def authenticator(self) -> HTTPBasicAuth:
        if self.config.get("api_key_sid"):
            return HTTPBasicAuth(self.config["api_key_sid"], self.config["api_key_secret"])
        return HTTPBasicAuth(self.config["account_sid"], self.config["auth_token"])

    def credentials(self, context: Context | None, newer_api: bool = False) -> HTTPBasicAuth | None:
        """Who asks for a partition's pages: the main account's credentials on the 2010 API;
        on the newer APIs (and BulkExport) a subaccount's own SID and the Auth Token the
        Accounts list gave (memory only). None: no credentials can (an API key's run)."""
        account = (context or {}).get("account_sid")
        old_api = self.family is API_2010 and not newer_api
        if old_api or not account or account == self.config["account_sid"]:
            return self.authenticator
        token = self.tap.account_tokens.get(account)
        return HTTPBasicAuth(account, token) if token else None

    @property
    def timeout(self) -> int:
        return int(self.config.get("request_timeout", 120))

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
        newer_api = self.family is not API_2010
        sliceable = self.date_filter is not None and self.date_filter.sliceable
        return ListRules(
            date_params=self.date_params,
            slices=self.date_filter if sliceable else None,
            null_field=self.replication_key if self.null_dates else None,
            retention_days=self.retention_days,
            bounded_below=newer_api and self.date_filter is not None,
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
        if plan.clamped_to and window.start and not planning:  # said when the list is read
            self.logger.info("%s: Twilio keeps %d days; reading from %s instead of %s",
                             self.name, self.retention_days, plan.clamped_to, window.start)
        return ask_for_everything(plan.queries, self.narrowing)

    def account_created(self, context: Context | None) -> dt.date | None:
        """When the partition's account was created, as read by the accounts stream."""
        sid = (context or {}).get("account_sid")
        created: dict[str, dt.date] = getattr(self.tap, "account_created", {})
        return created.get(sid) if sid else None

    # --- reading pages ---------------------------------------------------------------

    @cached_property
    def list_shape(self) -> ListShape:
        return ListShape(self.name, self.family, self.host_url.rstrip("/"),
                         Hosts.from_config(self.config), self.list_key, self.date_filter,
                         self.replication_key)

    def walker(self, context: Context | None,
               ahead: dict[Any, Future[Any]] | None = None) -> ListWalker:
        """A walker of this partition's lists, fetching with the partition's context; a
        next page fetched ahead (in `ahead` by its URL) is taken from there."""
        def fetch(url: str, params: dict[str, Any] | None) -> Any:
            fetched = ahead.pop(url, None) if ahead and params is None else None
            if fetched is not None:
                return fetched.result()
            return self.fetch_retried(url, params, context)

        return ListWalker(fetch, self.list_shape, self.read_settings.workers, self.logger)

    def request_records(self, context: Context | None) -> Iterable[dict[str, Any]]:
        for page in self.request_pages(context):
            yield from page

    def request_pages(self, context: Context | None) -> Iterator[list[dict[str, Any]]]:
        """The partition's raw records, page by page, as they arrive."""
        if self.credentials(context) is None:
            self.tap.say_once(
                "Twilio's newer APIs serve a subaccount's data only to its own credentials: "
                "with an API key, only the key's own account is read on them (give "
                "auth_token to read every account)"
            )
            return
        # First pages fetched ahead, while an earlier list was read (see concurrency.py).
        fetched = self.prefetched_first_pages(context)
        walks = [(query, fetched.get(query.request)) for query in self.list_queries(context)]
        walker = self.walker(context, fetched)
        # A record whose status changes between two queries (one per status) is emitted once.
        seen: set[tuple[Any, ...]] | None = set() if asked_one_by_one(self.narrowing) else None
        with self.get_http_request_counter() as counter:
            counter.with_context(context)
            try:
                for page in pages_kept(chain(exported_pages(self, context), walk_in_parallel(
                    walks, lambda walk: walker.walk(*walk), self.read_settings.workers
                )), kept_progress(self, context, walker)):
                    counter.increment()
                    page = first_sightings(page, self.primary_keys, seen)
                    self.fill_context_fields(page, context)
                    self.page_arrived = dt.datetime.now(dt.timezone.utc)  # time_extracted
                    self.progress.page(len(page), (context or {}).get("account_sid"))
                    self.prefetch_children(page, context)
                    yield page
            except ResourceUnavailable as exc:
                self.skip(context, exc)
            finally:
                self.stop_prefetching_children()

    def fill_context_fields(self, page: list[dict[str, Any]], context: Context | None) -> None:
        """The parent's keys a child's records lack (its path named them)."""
        for key in self.context_fields:
            if context and key in context:
                for record in page:
                    if key not in record:
                        record[key] = context[key]

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

    skipped_accounts = 0

    @cached_property
    def fetch_retried(self) -> Callable[[str, dict[str, Any] | None, Context | None], Any]:
        """`fetch_json` with the retries of `request_decorator`."""
        retried: Callable[[str, dict[str, Any] | None, Context | None], Any] = (
            self.request_decorator(self.fetch_json))
        return retried

    def fetch_json(self, url: str, params: dict[str, Any] | None, context: Context | None) -> Any:
        """GET one page and decode it; a body that is not complete JSON is retried."""
        auth = self.credentials(context)
        if auth is None:  # never the main account's credentials for another's data
            raise ResourceUnavailable(f"no credentials for account {context}")
        request = self.build_prepared_request(
            method="GET", url=url, params=params, headers=self.http_headers, auth=auth
        )
        account = (context or {}).get("account_sid") or self.config["account_sid"]
        with self.tap.limiter.slot(account):  # Twilio limits requests in flight per account
            try:
                response = self.requests_session.send(request, timeout=self.timeout,
                                                      stream=True)
            except requests.exceptions.ConnectionError as exc:
                self.stop_if_no_server(request.url or url, exc)
                raise
            self.tap.answered_origins.add(url_origin(request.url or url))
            sdk_compat.log_request_duration(self, response, context)
            self.validate_response(response, context)
            content = read_body(response)
        try:
            return decode_json(content)
        except msgspec.DecodeError as exc:
            raise RetriableAPIError(
                f"incomplete JSON in a {response.status_code} answer ({exc})", response
            ) from None

    @cached_property
    def progress(self) -> StreamProgress:
        """Records and pages read so far, logged every few seconds (see progress.py)."""
        return StreamProgress(self.name, self.logger)

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
        finally:
            self.progress.stop()
            self.tap.message_writer.flush()  # a failure still leaves what was read on stdout

    @cached_property
    def thread_local(self) -> threading.local:
        return threading.local()

    @property
    def requests_session(self) -> requests.Session:
        """One session per thread, so parallel slices never share a connection pool."""
        session: requests.Session | None = getattr(self.thread_local, "session", None)
        if session is None:
            session = self.thread_local.session = requests.Session()
        return session

    # --- errors and retries ----------------------------------------------------------

    def validate_response(
        self, response: requests.Response, context: Context | None = None
    ) -> None:
        error = response_error(response, self.name, (context or {}).get("account_sid"),
                               self.config["account_sid"], optional=self.family is not API_2010)
        if error is not None:
            raise error

    def stop_if_no_server(self, url: str, exc: BaseException) -> None:
        """Raise `HostUnreachable` when a request to a host that has not answered yet in
        this run found no server; once it has answered, the same failure is transient and
        retried (a restart, a failover)."""
        origin, reason = url_origin(url), no_server_reason(exc)
        if reason is None or origin in self.tap.answered_origins:
            return
        raise HostUnreachable(
            f"could not connect to {origin}: {reason}; check base_url, region, edge and the "
            "network"
        ) from None


def first_sightings(page: list[dict[str, Any]], keys: Iterable[str],
                    seen: set[tuple[Any, ...]] | None) -> list[dict[str, Any]]:
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


# RECORD bytes since the last STATE for progress alone to ask for one (a stop loses less).
PROGRESS_STATE_BYTES = 64 * 1024


def kept_progress(stream: TwilioStream, context: Context | None,
                  walker: ListWalker) -> KeptProgress:
    """A partition's progress (walk_progress.py), kept in its state as its pages are written
    and given to its walker; not kept for a child list, whose state its parent's other
    children share (the parent's progress keeps which parents' children are done)."""
    if (sdk_compat.partition_keys(stream, context) or {}) != (context or {}):
        return KeptProgress({}, lambda: None)

    def changed() -> None:
        stream.state_manager.is_flushed = False
        if stream.tap.encoded_state_writer.record_bytes_since() >= PROGRESS_STATE_BYTES:
            sdk_compat.write_state_message(stream)

    kept = KeptProgress(stream.get_context_state(context), changed)
    walker.saved = kept.saved
    if kept.saved.bookmark is not None and stream.replication_key:  # the stopped run's
        sdk_compat.advance_bookmark(stream, {stream.replication_key: kept.saved.bookmark},
                                    context=context)
    return kept
