"""Twilio's platform beyond the hand-written lists: every other stream of the stream table.

Routing: the tap reaches every Twilio host through one base URL, so
``https://studio.twilio.com/v2/Flows`` arrives as ``GET /studio.twilio.com/v2/Flows``.  2010
lists also answer at the root (``/2010-04-01/...``), as today's routes do; host-prefixed
requests for today's routes (``/api.twilio.com/2010-04-01/...``, ``/monitor.twilio.com/v1/
Alerts``) reach today's handlers.

Credentials, as Twilio's newer APIs behave: a request is served the data of the account its
credentials belong to (an account's own SID and auth token, or an API key made in it), so the
main account's credentials never see a subaccount's data there.  2010 lists keep the 2010
rule: the main account reads its subaccounts under ``/Accounts/{sid}/``.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import datetime
from functools import partial
from typing import Any

from .errors import ApiError, bad_request, forbidden, not_found
from .narrowing import narrow
from .pages import PAGING, cut, meta_envelope, v2010_envelope
from .records import ListBuilder, ListSpec
from .table import LEGACY_STREAMS, StreamDef, hosts, load_streams, platform_streams
from .usage import SUBLISTS
from .values import DAY, key_of, parse_filter_value, parse_record_ts

API_HOST = "api.twilio.com"
MONITOR_HOST = "monitor.twilio.com"
TOP_LEVEL_SPAN_DAYS = 90


class Platform:
    """Serves the table's streams from lazily built, cached, deterministic lists."""

    def __init__(
        self,
        store: Any,
        faults: Any,
        sizes: dict[str, int] | None = None,
        subaccount_sizes: list[dict[str, int]] | None = None,
        unused_products: dict[str, Any] | None = None,
    ) -> None:
        self.store = store
        self.faults = faults
        self.all_streams = load_streams()
        self.streams = platform_streams()
        self.hosts = hosts()
        self.sizes = dict(sizes or {})
        self.subaccount_sizes = [dict(s or {}) for s in subaccount_sizes or []]
        unknown = set(self.sizes).union(*self.subaccount_sizes) - set(self.streams)
        if unknown:
            raise ValueError(f"platform sizes name no stream of the table: {sorted(unknown)}")
        self.unused: dict[tuple[str, str | None], int] = {}
        for product, which in (unused_products or {}).items():
            self._mark_configured(product, which)
        self._lists: dict[tuple, list[dict] | None] = {}
        self._lock = threading.RLock()

    # --- products an account does not use -------------------------------------------------
    def _mark_configured(self, product: str, which: Any) -> None:
        if which == "all":
            self.mark_unused(product)
        elif isinstance(which, int):
            self.mark_unused(product, status=which)
        else:
            for account_sid in which:
                self.mark_unused(product, account_sid)

    def mark_unused(self, product: str, account_sid: str | None = None, status: int = 404) -> None:
        """Make a host or API (``"taskrouter.twilio.com"``, ``"taskrouter_v1"``) answer
        ``status`` (404 or 403) for one account, or for every account."""
        self.unused[(product, account_sid)] = status
        # today's hand-written lists answer 403/404 through the fault injector's denials
        accounts = [account_sid] if account_sid else [a.sid for a in self.store.accounts]
        for stream in self.all_streams.values():
            if stream.name in LEGACY_STREAMS and product in (stream.host, stream.api):
                for resource in legacy_resources(stream.name):
                    for sid in accounts:
                        self.faults.deny(sid, resource, status)

    def unused_status(self, stream: StreamDef, account_sid: str) -> int | None:
        for product in (stream.host, stream.api):
            for who in (account_sid, None):
                if (product, who) in self.unused:
                    return self.unused[(product, who)]
        return None

    # --- lists ------------------------------------------------------------------------------
    def size(self, account: Any, stream: StreamDef, params: dict[str, str]) -> int:
        index = self.store.accounts.index(account)
        if (
            0 < index <= len(self.subaccount_sizes)
            and stream.name in self.subaccount_sizes[index - 1]
        ):
            return self.subaccount_sizes[index - 1][stream.name]
        if stream.name in self.sizes:
            return self.sizes[stream.name]
        k = key_of(self.store.seed, account.sid, stream.name, sorted(params.items()))
        if not is_top_level(stream):
            return k % 4
        return 2 + k % 6 if account.is_main else k % 5

    def records(self, account: Any, stream: StreamDef, params: dict[str, str]) -> list[dict] | None:
        """The whole list in API order; None when its parent does not exist (404)."""
        key = (account.sid, stream.name, tuple(sorted(params.items())))
        with self._lock:
            if key not in self._lists:
                self._lists[key] = self._build(account, stream, params)
            return self._lists[key]

    def _build(self, account: Any, stream: StreamDef, params: dict[str, str]) -> list[dict] | None:
        hi = self.store.now_ts
        lo = max(account.created_ts, hi - TOP_LEVEL_SPAN_DAYS * DAY)
        if not is_top_level(stream):
            parent = self.parent_record(account, stream, params)
            if parent is None:
                return None
            lo = max(lo, record_time(parent) or lo)
        spec = ListSpec(
            stream, account.sid, params, self.size(account, stream, params), lo, hi, self.store.seed
        )
        return ListBuilder(spec).build()

    def parent_record(self, account: Any, stream: StreamDef, params: dict[str, str]) -> dict | None:
        """The record of the parent stream this list hangs under (its path names it)."""
        parent = self.all_streams[stream.parent]
        if parent.name in LEGACY_STREAMS:
            sid_param = next(p for p, f in stream.parent_keys.items() if f == "sid")
            return self.store.lookup(parent.name, account.sid, params[sid_param])
        siblings = self.records(account, parent, {p: params[p] for p in parent.params}) or []
        for rec in siblings:
            if all(str(rec.get(f)) == params[p] for p, f in stream.parent_keys.items()):
                return rec
        return None

    def lists(self, account: Any, stream: StreamDef) -> Iterator[dict[str, str]]:
        """Path parameters of every list of the stream in the account, in API order."""
        if is_top_level(stream):
            yield {"AccountSid": account.sid} if stream.under_account else {}
            return
        parent = self.all_streams[stream.parent]
        if parent.name in LEGACY_STREAMS:
            parents: Iterator[dict] = iter(self.store.truth(parent.name, account.sid))
        else:
            parents = (
                rec
                for params in self.lists(account, parent)
                for rec in self.records(account, parent, params) or []
            )
        for rec in parents:
            yield {p: str(rec.get(f)) for p, f in stream.parent_keys.items()}

    # --- truth ------------------------------------------------------------------------------
    def truth(self, name: str, account_sid: str | None = None, **query: Any) -> list[dict]:
        """Every record the API lists for the stream and account (all pages, all parents), in
        API order.  ``query``: the stream's date filter parameters (Twilio's names), and path
        parameters (``FlowSid="FW..."``) to keep one parent's list."""
        stream = self.streams[name]
        chosen = {k: str(v) for k, v in query.items() if k in stream.params}
        filters = [(k, query_value(v)) for k, v in query.items() if k not in stream.params]
        window = date_window(stream, filters)
        accounts = (
            [self.store.by_sid[account_sid]]
            if account_sid
            else [a for a in self.store.accounts if a.status == "active"]
        )
        out: list[dict] = []
        for account in accounts:
            if account.status != "active" or self.unused_status(stream, account.sid):
                continue
            for params in self.lists(account, stream):
                if all(params.get(k) == v for k, v in chosen.items()):
                    out.extend(
                        in_window(self.records(account, stream, params) or [], stream, window)
                    )
        return out

    # --- HTTP -------------------------------------------------------------------------------
    def serve(self, app: Any, h: Any, path: str, pairs: list, rec: Any) -> tuple | None:
        """The answer to a request for a table stream or a host-prefixed route; None when the
        path is one of today's root routes (or unknown), for ``App.route`` to answer."""
        host, rest = split_host(path, self.hosts)
        if host is None and not path.startswith("/2010-04-01/"):
            return None
        for stream in self.streams.values():
            if stream.host != (host or API_HOST):
                continue
            m = stream.pattern.match(rest)
            if m:
                return self._serve_list(app, h, stream, m.groupdict(), pairs, rec)
        if host == API_HOST:
            return app.route(h, rest, pairs, rec)
        if host == MONITOR_HOST:
            return on_twilio_host(app.route(h, rest, pairs, rec), h, MONITOR_HOST)
        return None

    def _serve_list(self, app, h, stream: StreamDef, params: dict, pairs: list, rec) -> tuple:
        principal = app.authenticate(h.headers.get("Authorization"))
        rec.auth_user, rec.resource = principal.user, stream.name
        if h.command not in ("GET", "HEAD"):
            raise ApiError(405, 20004, "Method not allowed")
        if stream.under_account:
            account = self.store.account(params["AccountSid"])
            if account is None or not app.can_access(principal, account.sid):
                raise not_found(h.path.partition("?")[0])
        else:
            account = self.store.account(principal.account_sid)
        rec.account_sid = account.sid
        status = self.unused_status(stream, account.sid)
        if account.status != "active" or status == 404:
            raise not_found(h.path.partition("?")[0])
        if status == 403:
            raise forbidden()
        records = self.records(account, stream, params)
        if records is None:
            raise not_found(h.path.partition("?")[0])
        records = narrow(stream.host, stream.path, records, dict(pairs), partial(
            self.parent_record, account, stream, params), self.store.clock_ts, record_time)
        filters = [(k, v) for k, v in pairs if k not in PAGING]
        size, number, token = app._paging(pairs)
        page = cut(in_window(records, stream, date_window(stream, filters)), size, number, token)
        if stream.family == "meta":
            body = meta_envelope(stream.list_key, stream.public_url(params), filters, page)
        else:
            body = v2010_envelope(stream.list_key, stream.fill(params), filters, page)
        return 200, app._json(body), {}


def legacy_resources(name: str) -> tuple[str, ...]:
    """The resource names data.py serves a stream under (usage records: one per period)."""
    return tuple(SUBLISTS) if name == "usage_records" else (name,)


def is_top_level(stream: StreamDef) -> bool:
    return stream.parent in (None, "accounts")


def record_time(rec: dict) -> int | None:
    """When a parent record was created (its first date field), to start its children after."""
    for name in ("date_created", "create_time", "start_time", "date_updated"):
        ts = parse_record_ts(rec.get(name))
        if ts is not None:
            return ts
    return None


def split_host(path: str, known: frozenset[str]) -> tuple[str | None, str]:
    """'/studio.twilio.com/v2/Flows' -> ('studio.twilio.com', '/v2/Flows')."""
    first, _, rest = path[1:].partition("/")
    if first in known:
        return first, "/" + rest
    return None, path


def on_twilio_host(answer: tuple, h: Any, host: str) -> tuple:
    """Today's Monitor handler links to the emulator's root; asked through Twilio's host
    name, its ``meta`` links are on that host, as Twilio's."""
    status, body, headers = answer
    served_from = f"http://{h.headers.get('Host')}"
    data = json.loads(body)
    meta = data.get("meta") if isinstance(data, dict) else None
    if not meta:
        return answer
    for name, url in meta.items():
        if isinstance(url, str) and url.startswith(served_from):
            meta[name] = f"https://{host}{url[len(served_from) :]}"
    return status, json.dumps(data, ensure_ascii=False).encode("utf-8"), headers


def query_value(value: Any) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value)


def date_window(stream: StreamDef, filters: list[tuple[str, str]]) -> tuple[int | None, int | None]:
    """[lower, upper) in epoch seconds from the stream's date filter parameters.

    A date (``2024-05-01``) means whole UTC days, both ends included; a date-time is an
    instant, both ends included.  Twilio answers 400 / 20001 to a value that is not a date.
    """
    lo = hi = None
    df = stream.date_filter
    if not df or not stream.replication_key:
        return lo, hi
    for name, value in filters:
        if name not in (df["lower"], df["upper"]):
            continue
        parsed = parse_filter_value(value)
        if parsed is None:
            raise bad_request(20001, f"Invalid {name}: {value}")
        day, ts = parsed
        whole_days = df.get("format") == "date" or len(value.strip()) == 10
        if name == df["lower"]:
            lo = day * DAY if whole_days else ts
        else:
            hi = (day + 1) * DAY if whole_days else ts + 1
    return lo, hi


def in_window(records: list[dict], stream: StreamDef, window: tuple) -> list[dict]:
    lo, hi = window
    if lo is None and hi is None:
        return records
    out = []
    for rec in records:
        ts = parse_record_ts(rec.get(stream.replication_key))
        if ts is not None and (lo is None or ts >= lo) and (hi is None or ts < hi):
            out.append(rec)
    return out
