"""What every Twilio stream shares: auth, the list walk over `next_page_uri`, errors, retries.

The SDK's generic request loop is replaced by `request_records` here for three reasons that
its hooks cannot express: a page is decoded inside the retried call (a 200 with a cut-off
JSON body is retried, not fatal), a 403/404 on one subaccount is skipped with a warning, and
date slices of one list are read in parallel (see `concurrency.py`).
"""

from __future__ import annotations

import datetime as dt
import email.utils
import logging
import math
import random
import socket
import ssl
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, replace
from functools import cached_property, partial
from http import HTTPStatus
from typing import Any, ClassVar
from urllib.parse import urljoin, urlsplit

import backoff
import msgspec
import requests
from requests.auth import HTTPBasicAuth
from singer_sdk import RESTStream, SchemaDirectory, StreamSchema, metrics
from singer_sdk.exceptions import FatalAPIError, RetriableAPIError
from singer_sdk.helpers._state import increment_state
from singer_sdk.helpers.conform import TypeConformanceLevel
from singer_sdk.helpers.types import Context
from singer_sdk.mapper import SameRecordTransform
from singer_sdk.singerlib.catalog import REPLICATION_INCREMENTAL

from tap_twilio import schemas
from tap_twilio.concurrency import run_all, walk_in_parallel
from tap_twilio.progress import StreamProgress
from tap_twilio.settings import configured_end, configured_start, log_level_param, parse_last_n_days
from tap_twilio.transform import RecordTransformer, to_rfc3339

API_VERSION_PATH = "/2010-04-01"
RETRIED_EXCEPTIONS = (
    ConnectionResetError,
    RetriableAPIError,
    requests.exceptions.Timeout,
    requests.exceptions.ConnectionError,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)
_decode_json = msgspec.json.Decoder().decode


@dataclass(frozen=True)
class ListQuery:
    """The first page of one list walk; `only_null` keeps records whose field is null."""

    url: str
    params: dict[str, Any]
    only_null: str | None = None
    since: dt.date | None = None  # a sweep stops after the page reaching this date
    # A list longer than its first page is read on in day slices of this window, which
    # workers read in parallel: (first day, last day, open below, open above); an open end
    # leaves the outer slice unbounded there, as the user set no bound.
    split: tuple[dt.date, dt.date, bool, bool] | None = None
    # A full history that no date filter can slice (records with null dates) is read on
    # from several places of the one unfiltered list at once: records that date probes
    # between these days find start walks after them (see `walk_from_seeds`).
    seek: tuple[dt.date, dt.date] | None = None
    # A sweep read before the window it completes (see `sweep_then_window`): the
    # window's query, asked only if the list is longer than the sweep's first page, and its
    # days (first, last or None), to take the window from that page when it is the list.
    window: ListQuery | None = None
    days: tuple[dt.date, dt.date | None] | None = None

    @property
    def request(self) -> tuple[str, tuple]:
        """What identifies the first page's request (for pages fetched ahead)."""
        return self.url, tuple(sorted(self.params.items()))


def date_slices(first: dt.date, last: dt.date, count: int) -> list[tuple[dt.date, dt.date]]:
    """[first, last] cut into at most `count` contiguous whole-day ranges, oldest first."""
    days = (last - first).days + 1
    count = max(1, min(count, days))
    bounds = [first + dt.timedelta(days=days * i // count) for i in range(count + 1)]
    return [(bounds[i], bounds[i + 1] - dt.timedelta(days=1)) for i in range(count)]


def created_at(record: dict) -> dt.datetime | None:
    """A raw record's `date_created`, if it has one."""
    created = to_rfc3339(record.get("date_created"))
    return dt.datetime.fromisoformat(created) if created else None


def created_before(record: dict, day: dt.date) -> bool:
    """Whether a raw record was created before `day` (lists are newest first)."""
    created = created_at(record)
    return created is not None and created.date() < day


def null_or_within(value: Any, first: dt.date, last: dt.date | None) -> bool:
    """Whether Twilio's date filter for [first, last] lists a record with this raw date
    (its UTC calendar day within, both ends included), or the date is null."""
    if value in (None, ""):
        return True
    try:
        day = to_rfc3339(value)[:10]  # type: ignore[index]
    except ValueError:
        return True  # emitted, so the transform names the bad value
    return first.isoformat() <= day and (last is None or day <= last.isoformat())


class TwilioAPIError(FatalAPIError):
    """Twilio refused a request for a reason a retry cannot fix; the text is for the user."""


class ResourceUnavailable(TwilioAPIError):
    """403/404 on a subaccount's resource: that resource is skipped, the run goes on."""


class HostUnreachable(FatalAPIError):
    """The first request to a host found no server there (connection refused, unknown host,
    failed TLS): a wrong URL that no retry can fix, so the run stops at once."""


def url_origin(url: str) -> str:
    """`scheme://host:port` of a URL, all a message shows of it: its path and query may hold
    phone numbers, and its user part credentials."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"  # an IPv6 address
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    return f"{parts.scheme}://{host}:{port}"


def wrapped_exceptions(exc: BaseException) -> list[BaseException]:
    """`exc` and those it wraps: requests wraps urllib3's errors, which wrap the socket's."""
    found: list[BaseException] = []
    todo: list[Any] = [exc]
    while todo:
        item = todo.pop(0)
        if not isinstance(item, BaseException) or any(item is seen for seen in found):
            continue
        found.append(item)
        todo += [getattr(item, "reason", None), item.__cause__, item.__context__, *item.args]
    return found


def no_server_reason(exc: BaseException) -> str | None:
    """Why a request found no server at all, or None for failures a retry may fix
    (timeouts, dropped connections, errors after connecting)."""
    if isinstance(exc, requests.exceptions.Timeout) or not isinstance(
        exc, requests.exceptions.ConnectionError
    ):
        return None
    for cause in wrapped_exceptions(exc):
        if isinstance(cause, ssl.SSLError):
            reason = cause.reason or type(cause).__name__
            if reason == "WRONG_VERSION_NUMBER":
                return f"TLS failed ({reason}): the server may speak plain http://"
            return f"TLS failed ({reason})"
        if isinstance(cause, socket.gaierror):
            return f"host not found ({cause.strerror})"
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused"
    return None


def twilio_error_text(response: requests.Response) -> str:
    """`HTTP 404, Twilio code 20404: The requested resource ... was not found`."""
    try:
        body = _decode_json(response.content)
    except msgspec.DecodeError:
        body = None
    if isinstance(body, dict) and body.get("message"):
        return f"HTTP {response.status_code}, Twilio code {body.get('code')}: {body['message']}"
    return f"HTTP {response.status_code} {response.reason}"


def read_body(response: requests.Response) -> bytes:
    """The whole body of a streamed response in one read. `response.content` reads it in
    10 KiB chunks, each through urllib3's buffers: 4 ms of CPU per 1 MB page against 2
    (measured), in the threads that share the GIL with the one emitting records.
    `iter_content(None)` is requests' own read, with its own errors (ChunkedEncodingError
    for a cut-off body, ...), so retries see the same failures."""
    return b"".join(response.iter_content(chunk_size=None))


def retry_after_seconds(exc: BaseException) -> float | None:
    """Seconds from a 429/503 `Retry-After` header (seconds or an HTTP date), if any."""
    response = getattr(exc, "response", None)
    header = response.headers.get("Retry-After") if response is not None else None
    if not header:
        return None
    try:
        return max(0.0, float(header))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(header)
    except (TypeError, ValueError):
        return None  # unreadable: fall back to exponential backoff
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    return max(0.0, (when - dt.datetime.now(dt.timezone.utc)).total_seconds())


PAGES_PER_WALK = 2  # pages (of those after the first) per walk of a full history, at least


class TwilioStream(RESTStream[str]):
    """A Twilio list resource read page by page."""

    schema = StreamSchema(SchemaDirectory(schemas))
    # Records are converted by `RecordTransformer`, derived from the schema, so the SDK's
    # generic per-record conformance would only repeat that work.
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE
    is_sorted = False  # Twilio lists come newest first
    state_partitioning_keys: ClassVar[list[str] | None] = None

    list_key: ClassVar[str | None] = None  # key of the page's record array; None: one object
    date_filter: ClassVar[str | None] = None  # e.g. "DateSent": sent as `DateSent>`/`DateSent<`
    date_filter_upper_exclusive: ClassVar[bool] = False  # `StartTime<` means strictly before
    null_dates: ClassVar[bool] = False  # the filtered date is null until the record is sent
    retention_days: ClassVar[int | None] = None  # Twilio rejects date filters older than this
    options: ClassVar[dict[str, str]] = {}  # setting -> query parameter, e.g. {"to": "To"}
    child_keys: ClassVar[dict[str, str]] = {}  # child context key -> this record's field
    # Whether a record can have children at all; the children's list is not asked for where
    # it cannot (a message without media, a conference that has ended).
    has_children: ClassVar[Callable[[dict], bool] | None] = None

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
    def workers(self) -> int:
        """Requests of one stream in flight at once (`max_concurrency`)."""
        return int(self.config.get("max_concurrency", 8))

    @property
    def lookback(self) -> dt.timedelta:
        """How much before a bookmark is read again (`lookback_days`)."""
        return dt.timedelta(days=int(self.config.get("lookback_days", 3)))

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

    def window(self, context: Context | None) -> tuple[dt.date | None, dt.date | None]:
        """First and last day to read: settings, then the bookmark less the lookback."""
        today = dt.datetime.now(dt.timezone.utc).date()
        start = configured_start(self.config, today)
        bookmark = self.bookmark_day(context)
        if bookmark is not None:
            resume = bookmark - self.lookback
            start = max(start, resume) if start else resume
        return start, configured_end(self.config)

    def undated_params(self, params: dict[str, Any]) -> dict[str, Any]:
        """A query's parameters less its date filter (to set other bounds)."""
        assert self.date_filter
        return {k: v for k, v in params.items() if not k.startswith(self.date_filter)}

    def date_params(self, start: dt.date | None, end: dt.date | None) -> dict[str, str]:
        """Twilio's day-granular date filter for a window, e.g. `DateSent>=2024-05-01`."""
        if not self.date_filter:
            return {}
        params = {}
        if start:
            params[f"{self.date_filter}>"] = start.isoformat()
        if end:
            last = end + dt.timedelta(days=1) if self.date_filter_upper_exclusive else end
            params[f"{self.date_filter}<"] = last.isoformat()
        return params

    # --- reading pages ---------------------------------------------------------------

    def next_page_url(self, body: dict) -> str | None:
        """2010 API: `next_page_uri` relative to the host; it carries every filter."""
        uri = body.get("next_page_uri")
        return urljoin(self.config["api_url"], uri) if uri else None

    def page_records(self, body: Any) -> list[dict]:
        if self.list_key is None:
            return [body]
        return body.get(self.list_key) or []

    def list_queries(self, context: Context | None, planning: bool = False) -> list[ListQuery]:
        """The queries that together list this partition.

        The first lists the window; if it is longer than one page, the rest is read in day
        slices by `max_concurrency` workers (see `walk_pages`). Twilio's date
        filters never match a record whose date is still null (a queued message's
        `date_sent`, a call not yet dialled), so for such resources a read of the full
        history is one unfiltered walk, and a dated window adds a sweep that lists the last
        `lookback_days` without a date filter and keeps the records whose date is null. Unless
        `last_n_days` sets the window, the sweep is asked first, as its first page may be the
        whole list, window included (see `sweep_then_window`).
        `planning`: asked by the prefetcher ahead of the read (nothing is logged then).
        """
        url = self.get_url(context)
        base: dict[str, Any] = {"PageSize": self.config.get("page_size", 1000)}
        base.update(self.option_params())
        start, end = self.window(context)
        today = dt.datetime.now(dt.timezone.utc).date()
        by_option = self.starts_at_last_n_days(start, today)
        if start and self.retention_days:
            oldest = today - dt.timedelta(days=self.retention_days - 1)
            if start < oldest:
                if not planning:  # said once, when the list is read
                    self.logger.info("%s: Twilio keeps %d days; reading from %s instead of %s",
                                     self.name, self.retention_days, oldest, start)
                start = oldest
            if end and end < start:
                return []
        created = self.account_created(context)
        parallel = self.date_filter and self.workers > 1
        lower = start or (None if self.null_dates else created)
        split = seek = None
        if parallel and lower is not None and lower < (end or today):
            split = (lower, end or today, start is None, end is None)
        elif parallel and start is None and created is not None:
            if self.retention_days:
                created = max(created, today - dt.timedelta(days=self.retention_days - 1))
            if created < (end or today):
                seek = (created, end or today)
        window = ListQuery(url, {**base, **self.date_params(start, end)}, split=split, seek=seek)
        if not (self.null_dates and start is not None):
            return [window]
        horizon = max(start, today - self.lookback)
        sweep = ListQuery(url, base, only_null=self.replication_key, since=horizon)
        if by_option:
            return [window, sweep]  # the option is documented as Twilio's date filter
        return [replace(sweep, window=window, days=(start, end))]

    def starts_at_last_n_days(self, start: dt.date | None, today: dt.date) -> bool:
        """Whether `last_n_days`, one of the product's options, sets the window's first day
        (rather than `start_date` or a bookmark): then it always reaches Twilio as the date
        filter, as its documentation says, even where one unfiltered page would do."""
        days = self.config.get("last_n_days")
        return days is not None and start == today - dt.timedelta(days=parse_last_n_days(days))

    def account_created(self, context: Context | None) -> dt.date | None:
        """When the partition's account was created, as read by the accounts stream."""
        sid = (context or {}).get("account_sid")
        return getattr(self._tap, "account_created", {}).get(sid)

    def request_records(self, context: Context | None) -> Iterable[dict]:
        for page in self.request_pages(context):
            yield from page

    def request_pages(self, context: Context | None) -> Iterator[list[dict]]:
        """The partition's raw records, page by page, as they arrive."""
        # First pages fetched ahead, while an earlier list was read (see concurrency.py).
        fetched = self._tap.prefetcher.take(self.prefetch_key(context))
        walks = [(query, fetched.get(query.request)) for query in self.list_queries(context)]
        with self.get_http_request_counter() as counter:
            counter.with_context(context)
            try:
                for page in walk_in_parallel(
                    walks, lambda walk: self.walk_pages(walk[0], context, walk[1]), self.workers
                ):
                    counter.increment()
                    self.page_arrived = dt.datetime.now(dt.timezone.utc)  # time_extracted
                    self.progress.page(len(page), (context or {}).get("account_sid"))
                    yield page
            except ResourceUnavailable as exc:
                self.logger.warning(
                    "%s: skipped for account %s: %s", self.name,
                    (context or {}).get("account_sid"), exc,
                )

    def prefetch_key(self, context: Context | None) -> tuple[str, str | None]:
        return (self.name, (context or {}).get("account_sid"))

    def prefetch_entry(self, context: Context) -> tuple[Any, dict[Any, Callable[[], Any]]]:
        """What the prefetcher may fetch ahead for this partition: each query's first page."""
        return (self.prefetch_key(context), {
            query.request: partial(self.fetch_retried, query.url, query.params, context)
            for query in self.list_queries(context, planning=True)
        })

    def walk_pages(
        self, query: ListQuery, context: Context | None, first_page: Future | None = None
    ) -> Iterator[list[dict]]:
        """Every page of one query, following `next_page_uri` to the end, or, for a long
        list that may be split, its first page and then the window in parallel slices."""
        url, params = query.url, query.params
        while url:
            if first_page is not None:
                body, first_page = first_page.result(), None
            else:
                body = self.fetch_retried(url, params, context)
            records = self.page_records(body)
            if query.window is not None:
                yield from self.sweep_then_window(query, context, records, self.next_page_url(body))
                return
            if query.only_null:
                yield [r for r in records if r.get(query.only_null) in (None, "")]
                if records and query.since and created_before(records[-1], query.since):
                    return
            else:
                yield records
            url, params = (self.next_page_url(body) if self.list_key else None), None
            if url and query.split:
                yield from self.walk_slices(query, context, {r.get("sid") for r in records})
                return
            if url and query.seek:
                yield from self.walk_from_seeds(query, context, records, url)
                return

    def sweep_then_window(
        self, sweep: ListQuery, context: Context | None, records: list[dict],
        next_url: str | None,
    ) -> Iterator[list[dict]]:
        """A dated window over a list whose dates can be null, after the sweep's first page.

        That page has no next page for most lists of an incremental run (a subaccount's
        day of messages): it is the whole list, so the window's records are taken from it,
        as Twilio's day-granular filter would, and the window is not asked for (half the
        requests over many subaccounts). Otherwise the window is read by its own query (and
        slices), alongside the rest of the sweep. Not used for a window that `last_n_days`
        sets: that option is always sent to Twilio (see `starts_at_last_n_days`)."""
        assert sweep.window is not None and sweep.days is not None
        field = sweep.only_null
        if next_url is None:
            yield [r for r in records if null_or_within(r.get(field), *sweep.days)]
            return
        yield [r for r in records if r.get(field) in (None, "")]
        walks = [sweep.window]
        if not (records and sweep.since and created_before(records[-1], sweep.since)):
            walks.append(replace(sweep, url=next_url, params={}, window=None, days=None))
        yield from walk_in_parallel(walks, lambda q: self.walk_pages(q, context), self.workers)

    def walk_slices(
        self, query: ListQuery, context: Context | None, seen: set[str]
    ) -> Iterator[list[dict]]:
        """The window of `query` in day slices read in parallel, less the records of its
        first page (`seen`), which a slice lists again."""
        assert query.split is not None
        lower, upper, open_below, open_above = query.split
        slices = date_slices(lower, upper, self.workers * 2)
        base = self.undated_params(query.params)
        queries = [
            ListQuery(query.url, {**base, **self.date_params(
                # The outer slices stay open where the user set no bound: nothing is cut off.
                None if i == 0 and open_below else first,
                None if i == len(slices) - 1 and open_above else last,
            )})
            for i, (first, last) in enumerate(slices)
        ]
        for page in walk_in_parallel(
            queries, lambda q: self.walk_pages(q, context), self.workers
        ):
            yield [r for r in page if r.get("sid") not in seen]

    def walk_from_seeds(
        self, query: ListQuery, context: Context | None, first_page: list[dict], next_url: str
    ) -> Iterator[list[dict]]:
        """The rest of an unfiltered list after its first page, read from several places.

        Twilio's `next_page_uri` resumes a list with `PageToken=PA<SID of the page's last
        record>`; the same token built from any record's SID resumes after that record.
        Probes (one record each, newest on or before evenly spaced days) find such seed
        records; a walk starts after each seed, and the walk from the first page, and every
        walk stops at the first seed it meets. So each record is read once, whatever the
        order of the seeds in the list, and records whose date is null are read too. If
        Twilio refuses or ignores such a token, the list is read on in one walk.
        """
        assert query.seek is not None
        first_day = query.seek[0]
        oldest_seen = created_at(first_page[-1])
        last_day = oldest_seen.date() if oldest_seen else query.seek[1]
        # A walk costs a probe and a partial last page: worth it from two pages on.
        wanted = math.ceil(self.pages_to_come(first_day, first_page) / PAGES_PER_WALK)
        seen = {r.get("sid") for r in first_page}
        seeds = [sid for sid in self.probe_seeds(query, context, first_day, last_day, wanted)
                 if sid not in seen]
        seeded = self.fetch_seeded_first_pages(query, context, seeds, first_page)
        stops = frozenset(seeds if seeded is not None else ())
        walks = [(next_url, None)] + [(query.url, body) for body in seeded or ()]
        yield from walk_in_parallel(
            walks, lambda walk: self.walk_until(walk[0], walk[1], stops, context), self.workers
        )

    def pages_to_come(self, first_day: dt.date, first_page: list[dict]) -> int:
        """About how many pages follow the first, at its pace back to `first_day`: a short
        list is not worth many walks."""
        newest, oldest = created_at(first_page[0]), created_at(first_page[-1])
        if newest is None or oldest is None:
            return self.workers * PAGES_PER_WALK
        span = (newest - oldest).total_seconds()
        start = dt.datetime.combine(first_day, dt.time(), dt.timezone.utc)
        return math.ceil((oldest - start).total_seconds() / span) if span > 0 else 1

    def probe_seeds(
        self, query: ListQuery, context: Context | None, first: dt.date, last: dt.date,
        walks: int,
    ) -> list[str]:
        """SIDs of the newest record on or before each of `walks - 1` days spread over
        [first, last] (distinct, in no particular order); at most `max_concurrency - 1`.

        One walk per worker: then the probes take one round trip and the walks' first pages
        one more (twice as many walks, for balance, cost two more: 0.4 s at 200 ms)."""
        assert self.date_filter
        walks = max(1, min(walks, self.workers))
        days = [end for _, end in date_slices(first, last, walks)[:-1]]
        base = self.undated_params(query.params)
        probes = [
            partial(self.fetch_retried, query.url,
                    {**base, **self.date_params(None, day), "PageSize": 1}, context)
            for day in days
        ]
        found = (self.page_records(body) for body in run_all(probes, self.workers))
        return list(dict.fromkeys(records[0]["sid"] for records in found if records))

    def fetch_seeded_first_pages(
        self, query: ListQuery, context: Context | None, seeds: list[str], top: list[dict]
    ) -> list[Any] | None:
        """The first page after each seed, or None when Twilio does not seek that way."""
        pages = [
            partial(self.fetch_retried, query.url,
                    {**query.params, "Page": 1, "PageToken": "PA" + sid}, context)
            for sid in seeds
        ]
        try:
            bodies = run_all(pages, self.workers)
        except TwilioAPIError as exc:
            self.logger.warning("%s: a list cannot be resumed from a record (%s); reading "
                                "it in one walk", self.name, exc)
            return None
        for sid, body in zip(seeds, bodies, strict=True):
            records = self.page_records(body)
            if records and (records[0].get("sid") in (sid, top[0].get("sid"))):
                self.logger.warning("%s: Twilio ignored a PageToken; reading the list in one "
                                    "walk", self.name)
                return None
        return bodies

    def walk_until(
        self, url: str | None, first_body: Any, stops: frozenset[str], context: Context | None
    ) -> Iterator[list[dict]]:
        """Pages from `url` (or from an already fetched first page) up to and including
        the first record in `stops`."""
        while url:
            if first_body is not None:
                body, first_body = first_body, None
            else:
                body = self.fetch_retried(url, None, context)
            records = self.page_records(body)
            for i, record in enumerate(records):
                if record.get("sid") in stops:
                    yield records[: i + 1]
                    return
            yield records
            url = self.next_page_url(body)

    @cached_property
    def fetch_retried(self) -> Callable[[str, dict | None, Context | None], Any]:
        """`fetch_json` with the retries of `request_decorator`."""
        return self.request_decorator(self.fetch_json)

    def fetch_json(self, url: str, params: dict | None, context: Context | None) -> Any:
        """GET one page and decode it; a body that is not complete JSON is retried."""
        request = self.build_prepared_request(
            method="GET", url=url, params=params, headers=self.http_headers
        )
        try:
            response = self.requests_session.send(request, timeout=self.timeout, stream=True)
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
            return _decode_json(content)
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
        status = response.status_code
        if status == HTTPStatus.TOO_MANY_REQUESTS or status >= HTTPStatus.INTERNAL_SERVER_ERROR:
            raise RetriableAPIError(twilio_error_text(response), response)
        if status < HTTPStatus.BAD_REQUEST:
            return
        text = twilio_error_text(response)
        account = (context or {}).get("account_sid")
        if status == HTTPStatus.UNAUTHORIZED:
            raise TwilioAPIError(
                f"Twilio rejected the credentials ({text}); check account_sid and auth_token "
                "(or api_key_sid and api_key_secret)"
            )
        if status in (HTTPStatus.FORBIDDEN, HTTPStatus.NOT_FOUND):
            if account and account != self.config["account_sid"]:
                raise ResourceUnavailable(text)
            raise TwilioAPIError(
                f"{self.name}: {text}; check that these credentials may read this resource "
                "of account " + str(account or self.config["account_sid"])
            )
        raise TwilioAPIError(
            f"{self.name}: Twilio refused the request ({text}); check the settings this "
            "stream sends (start_date, last_n_days, end_date, to, from, status, log, category)"
        )

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
        """Retry-After when Twilio sends it, else 1, 2, 4 ... 60 s, each with jitter."""
        exc = yield  # type: ignore[misc]  # backoff primes the generator, then sends errors
        attempt = 0
        while True:
            wait = retry_after_seconds(exc)
            if wait is None:
                wait = min(2.0**attempt, 60.0) * random.uniform(0.5, 1.0)
            attempt += 1
            exc = yield wait

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
        if self.has_children and not self.has_children(record):
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


def describe_failure(exc: BaseException | None) -> str:
    """One line for a failed attempt, without URLs (they may carry phone numbers)."""
    if isinstance(exc, RetriableAPIError):
        return str(exc)
    if exc is None:
        return "an unknown error"
    reason = no_server_reason(exc)
    if reason is not None:  # a host that answered before: restarting, failing over
        return f"{reason} ({type(exc).__name__})"
    for kind, what in FAILURE_KINDS:
        if isinstance(exc, kind):
            return f"{what} ({type(exc).__name__})"
    return type(exc).__name__


FAILURE_KINDS = (  # most specific first: a ConnectTimeout is also a ConnectionError
    (requests.exceptions.Timeout, "no answer within request_timeout"),
    (requests.exceptions.ChunkedEncodingError, "answer cut off"),
    (requests.exceptions.ContentDecodingError, "answer cut off"),
    (requests.exceptions.ConnectionError, "connection failed or reset"),
    (ConnectionResetError, "connection failed or reset"),
)


logging.getLogger("backoff").setLevel(logging.CRITICAL)
