"""The HTTP side: auth, routing, Twilio envelopes and errors, faults, latency, request log."""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import re
import socket
import struct
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode

from .data import DataStore
from .errors import TRANSIENT, ApiError, bad_request, forbidden, not_found, unauthorized
from .faults import ConcurrencyLimit, FaultInjector
from .usage import SUBLISTS

API = "/2010-04-01"
MAX_PAGE_SIZE = 1000
DEFAULT_PAGE_SIZE = 50

COLLECTIONS = {
    "Calls": "calls",
    "Messages": "messages",
    "Conferences": "conferences",
    "Notifications": "notifications",
    "Recordings": "recordings",
    "Transcriptions": "transcriptions",
    "IncomingPhoneNumbers": "incoming_phone_numbers",
    "OutgoingCallerIds": "outgoing_caller_ids",
    "Addresses": "addresses",
    "Applications": "applications",
    "Keys": "keys",
    "Queues": "queues",
    "Usage/Triggers": "usage_triggers",
}
USAGE_PATHS = {("Usage/Records" + (f"/{seg}" if seg else "")): res for res, seg in SUBLISTS.items()}
ACCOUNT_PATH = re.compile(r"^/2010-04-01/Accounts/(AC[0-9a-fA-F]{32})(?:\.json|/(.+)\.json)$")
CHILD_PATH = re.compile(r"^(Messages|Conferences)/([A-Z]{2}[0-9a-fA-F]{32})/(Media|Participants)$")
SINGLE_PATH = re.compile(r"^(.+)/([A-Z]{2}[0-9a-fA-F]{32})$")
ALERT_PATH = re.compile(r"^/v1/Alerts(?:/(NO[0-9a-fA-F]{32}))?$")
PAGING = ("PageSize", "Page", "PageToken")


@dataclass
class RequestRecord:
    """One served request (``emu.requests``); also readable as a mapping: ``r["query"]``."""

    method: str
    path: str
    query: dict[str, str]
    raw_query: str
    status: int | None = None
    account_sid: str | None = None
    resource: str | None = None
    fault: str | None = None
    auth_user: str | None = None
    client: str | None = None  # "host:port" of the connection (keep-alive reuses it)
    started: float = field(default_factory=time.time)
    duration: float = 0.0

    def __getitem__(self, key: str) -> Any:
        return getattr(self, key)

    def get(self, key: str, default: Any = None) -> Any:
        return getattr(self, key, default)


@dataclass
class Principal:
    kind: str  # "main", "sub" or "key"
    account_sid: str
    user: str


class App:
    """Request handling shared by all connections of one emulator."""

    platform: Any = None  # a platform.Platform, set by Emulator
    bulkexport: Any = None  # a bulkexport.BulkExport, set by Emulator

    def __init__(
        self,
        store: DataStore,
        faults: FaultInjector,
        latency: float = 0.0,
        api_key_kind: str = "main",
        concurrency: ConcurrencyLimit | None = None,
    ) -> None:
        self.store = store
        self.faults = faults
        self.concurrency = concurrency or ConcurrencyLimit()
        self.latency = latency
        self.api_key_kind = api_key_kind
        self.log: list[RequestRecord] = []
        self.log_lock = threading.Lock()
        self._request_counter = 0

    # --- auth ----------------------------------------------------------------------------
    def authenticate(self, header: str | None) -> Principal:
        if not header or not header.startswith("Basic "):
            raise unauthorized()
        try:
            user, _, password = base64.b64decode(header[6:].strip()).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise unauthorized() from None
        store = self.store
        if user == store.api_key_sid and password == store.api_key_secret:
            return Principal("key", store.main.sid, user)
        acct = store.account(user)
        if acct is not None and password == acct.auth_token and acct.status == "active":
            return Principal("main" if acct.is_main else "sub", acct.sid, user)
        raise unauthorized()

    def can_access(self, principal: Principal, account_sid: str) -> bool:
        if principal.kind == "sub":
            return account_sid == principal.account_sid
        return self.store.account(account_sid) is not None

    # --- entry point ---------------------------------------------------------------------
    def handle(self, h: BaseHTTPRequestHandler) -> None:
        # Start and duration from one instant: a thread paused between two clock reads
        # (a loaded machine) would otherwise shift the request's interval by the pause.
        t0, started = time.monotonic(), time.time()
        raw_path, _, raw_query = h.path.partition("?")
        path = unquote(raw_path)
        pairs = parse_qsl(raw_query, keep_blank_values=True)
        rec = RequestRecord(
            h.command,
            path,
            dict(pairs),
            raw_query,
            client=f"{h.client_address[0]}:{h.client_address[1]}",
            started=started,
        )
        length = int(h.headers.get("Content-Length") or 0)
        h.request_body = h.rfile.read(length) if length else b""  # type: ignore[attr-defined]
        limited = self.limited_account(path, h.headers.get("Authorization"))
        if not self.concurrency.enter(limited):
            self._refuse_over_limit(h, rec, limited, t0)
            return
        in_flight = True

        def logged() -> None:  # the log entry exists before the client sees the response
            nonlocal in_flight
            rec.duration = time.monotonic() - t0
            with self.log_lock:
                self.log.append(rec)
            # Out of the account's in-flight count before the client sees the answer, so a
            # client that waits for it to send the next request is never over the limit.
            if in_flight:
                in_flight = False
                self.concurrency.leave(limited)

        try:
            self._answer(h, path, pairs, rec, logged)
        finally:
            if in_flight:  # the connection broke before an answer
                in_flight = False
                self.concurrency.leave(limited)

    def limited_account(self, path: str, authorization: str | None) -> str:
        """The account whose concurrency limit a request counts against: the account in
        its path, else the account of its credentials (Accounts.json, Monitor alerts)."""
        m = ACCOUNT_PATH.match(path)
        if m:
            return m.group(1)
        try:
            user = base64.b64decode((authorization or "")[6:].strip()).decode().partition(":")[0]
        except (binascii.Error, UnicodeDecodeError):
            user = ""
        account = self.store.account(user)
        return account.sid if account is not None else self.store.main.sid

    def _refuse_over_limit(
        self, h: BaseHTTPRequestHandler, rec: RequestRecord, account_sid: str, t0: float
    ) -> None:
        """Twilio's 429 for a request over the account's concurrency limit (not processed)."""
        if self.latency:
            time.sleep(self.latency)
        code, message = TRANSIENT[429]
        retry_after = self.concurrency.retry_after
        headers = {"Retry-After": f"{retry_after:g}"} if retry_after is not None else {}
        rec.status, rec.fault, rec.account_sid = 429, "concurrency-limit", account_sid
        rec.duration = time.monotonic() - t0
        with self.log_lock:
            self.log.append(rec)
        self._send(h, 429, ApiError(429, code, message).body(), headers)

    def _answer(
        self, h: BaseHTTPRequestHandler, path: str, pairs: list[tuple[str, str]],
        rec: RequestRecord, logged: Callable[[], None],
    ) -> None:
        """Latency, an injected fault or the routed answer; `logged()` just before sending."""
        if self.latency:
            time.sleep(self.latency)
        fault = self.faults.next_fault()
        rec.fault = fault
        if fault == "reset":
            logged()
            self._reset(h)
            return
        if fault in ("429", "429-retry-after", "500", "502", "503", "504"):
            status = int(fault[:3])
            code, message = TRANSIENT[status]
            headers = {"Retry-After": "1"} if fault == "429-retry-after" else {}
            rec.status = status
            logged()
            self._send(h, status, ApiError(status, code, message).body(), headers)
            return
        try:
            status, body, headers = self.route(h, path, pairs, rec)
        except ApiError as e:
            status, body, headers = e.status, e.body(), e.headers
        except Exception:  # an emulator bug: answer like Twilio's 500 and say why
            traceback.print_exc()
            status, body, headers = 500, ApiError(500, 20500, "Internal Server Error").body(), {}
        rec.status = status
        logged()
        if fault == "truncated":
            self._send_truncated(h, status, body)
        elif fault == "truncated-json":
            self._send(h, status, body[: len(body) // 2], headers)
        else:
            self._send(h, status, body, headers)

    # --- responses -----------------------------------------------------------------------
    def _send(
        self, h: BaseHTTPRequestHandler, status: int, body: bytes, headers: dict | None = None
    ) -> None:
        headers = {"Content-Type": "application/json; charset=utf-8", **(headers or {})}
        h.send_response(status)
        h.send_header("Content-Length", str(len(body)))
        h.send_header("Twilio-Request-Id", "RQ" + f"{time.time_ns():032x}"[-32:])
        for k, v in headers.items():
            h.send_header(k, v)
        h.end_headers()
        if h.command != "HEAD":
            h.wfile.write(body)

    def _send_truncated(self, h: BaseHTTPRequestHandler, status: int, body: bytes) -> None:
        h.send_response(status)
        h.send_header("Content-Type", "application/json; charset=utf-8")
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body[: len(body) // 2])
        h.wfile.flush()
        h.close_connection = True
        with contextlib.suppress(OSError):
            h.connection.shutdown(socket.SHUT_RDWR)

    def _reset(self, h: BaseHTTPRequestHandler) -> None:
        h.close_connection = True
        try:
            h.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            h.connection.close()
        except OSError:
            pass

    @staticmethod
    def _json(obj: Any) -> bytes:
        return json.dumps(obj, ensure_ascii=False, separators=(", ", ": ")).encode("utf-8")

    # --- routing -------------------------------------------------------------------------
    def route(
        self, h: BaseHTTPRequestHandler, path: str, pairs: list[tuple[str, str]], rec: RequestRecord
    ) -> tuple[int, bytes, dict]:
        if self.bulkexport is not None:
            answer = self.bulkexport.serve(self, h, path, pairs, rec)
            if answer is not None:
                return answer
        if self.platform is not None:  # the stream table's lists and host-prefixed paths
            answer = self.platform.serve(self, h, path, pairs, rec)
            if answer is not None:
                return answer
        principal = self.authenticate(h.headers.get("Authorization"))
        rec.auth_user = principal.user
        if h.command not in ("GET", "HEAD"):
            raise ApiError(405, 20004, "Method not allowed")
        store = self.store

        if path == f"{API}/Accounts.json":
            rec.resource = "accounts"
            if principal.kind == "key" and self.api_key_kind == "standard":
                raise unauthorized()
            visible = (
                tuple(a.sid for a in store.accounts)
                if principal.kind != "sub"
                else (principal.account_sid,)
            )
            gen = store.generator("accounts", store.main, visible=visible)
            return self._list_2010(path, "accounts", "accounts", store.main, pairs, gen)

        m = ACCOUNT_PATH.match(path)
        if m:
            account_sid, rest = m.group(1), m.group(2)
            rec.account_sid = account_sid
            account = store.account(account_sid)
            if account is None or not self.can_access(principal, account_sid):
                raise not_found(path)
            if rest is None:
                rec.resource = "accounts"
                return 200, self._json(account.record()), {}
            if account.status != "active":
                raise not_found(path)
            return self._account_route(path, rest, account, principal, pairs, rec)

        m = ALERT_PATH.match(path)
        if m:
            rec.resource = "alerts"
            account = store.account(principal.account_sid)
            rec.account_sid = account.sid
            self._check_denied(account.sid, "alerts", path)
            gen = store.generator("alerts", account)
            if m.group(1):
                found = store.lookup("alerts", account.sid, m.group(1))
                if found is None:
                    raise not_found(path)
                return 200, self._json(found), {}
            return self._list_v1(h, path, account, pairs, gen)
        raise not_found(path)

    def _check_denied(self, account_sid: str, resource: str, path: str) -> None:
        status = self.faults.denied(account_sid, resource)
        if status == 404:
            raise not_found(path)
        if status == 403:
            raise forbidden()

    def _account_route(self, path, rest, account, principal, pairs, rec):
        store = self.store
        if rest == "Balance":
            rec.resource = "account_balance"
            self._check_denied(account.sid, "account_balance", path)
            return 200, self._json(store.balance(account.sid)), {}
        resource = COLLECTIONS.get(rest) or USAGE_PATHS.get(rest)
        if resource:
            rec.resource = resource
            self._check_denied(account.sid, resource, path)
            if resource == "keys" and principal.kind == "key" and self.api_key_kind == "standard":
                raise unauthorized()
            gen = store.generator(resource, account, params=dict(pairs))
            list_key = store.spec["resources"][resource]["list_key"]
            return self._list_2010(path, resource, list_key, account, pairs, gen)
        m = CHILD_PATH.match(rest)
        if m:
            resource = "message_media" if m.group(3) == "Media" else "conference_participants"
            if (m.group(1), m.group(3)) not in (
                ("Messages", "Media"),
                ("Conferences", "Participants"),
            ):
                raise not_found(path)
            rec.resource = resource
            self._check_denied(account.sid, resource, path)
            gen = store.generator(resource, account, parent=m.group(2))
            if gen is None:
                raise not_found(path)
            list_key = store.spec["resources"][resource]["list_key"]
            return self._list_2010(path, resource, list_key, account, pairs, gen)
        m = SINGLE_PATH.match(rest)
        if m and m.group(1) in COLLECTIONS:
            resource = COLLECTIONS[m.group(1)]
            rec.resource = resource
            self._check_denied(account.sid, resource, path)
            found = store.lookup(resource, account.sid, m.group(2))
            if found is None:
                raise not_found(path)
            return 200, self._json(found), {}
        raise not_found(path)

    # --- lists ---------------------------------------------------------------------------
    @staticmethod
    def _paging(pairs: list[tuple[str, str]]) -> tuple[int, int, str | None]:
        q = dict(pairs)
        raw = q.get("PageSize")
        size = DEFAULT_PAGE_SIZE
        if raw is not None:
            try:
                size = int(raw)
            except ValueError:
                raise bad_request(20001, f"Invalid PageSize: {raw}") from None
            if size < 1:
                raise bad_request(20001, f"Invalid PageSize: {raw}")
            if size > MAX_PAGE_SIZE:
                raise bad_request(
                    20007, f"Page size too large: {size}. The maximum page size is {MAX_PAGE_SIZE}"
                )
        page = 0
        if q.get("Page") not in (None, ""):
            try:
                page = int(q["Page"])
            except ValueError:
                raise bad_request(20001, f"Invalid Page: {q['Page']}") from None
            if page < 0:
                raise bad_request(20001, f"Invalid Page: {page}")
        return size, page, q.get("PageToken") or None

    def _list_2010(self, path, resource, list_key, account, pairs, gen):
        size, page, token = self._paging(pairs)
        records, nxt, prv = self.store.page(resource, account, pairs, size, page, token, gen)
        filters = [(k, v) for k, v in pairs if k not in PAGING]

        def uri(p: int, tok: str | None) -> str:
            q = [*filters, ("PageSize", str(size)), ("Page", str(p))]
            if tok:
                q.append(("PageToken", tok))
            return f"{path}?{urlencode(q)}"

        start = page * size
        body = {
            list_key: records,
            "end": start + len(records) - 1 if records else 0,
            "first_page_uri": uri(0, None),
            "next_page_uri": uri(page + 1, nxt) if nxt else None,
            "page": page,
            "page_size": size,
            "previous_page_uri": uri(page - 1, prv) if prv and page > 0 else None,
            "start": start,
            "uri": uri(page, token),
        }
        return 200, self._json(body), {}

    def _list_v1(self, h, path, account, pairs, gen):
        size, page, token = self._paging(pairs)
        records, nxt, prv = self.store.page("alerts", account, pairs, size, page, token, gen)
        filters = [(k, v) for k, v in pairs if k not in PAGING]
        host = h.headers.get("Host")
        base = f"http://{host}" if host else self.store.base_url

        def url(p: int, tok: str | None) -> str:
            q = [*filters, ("PageSize", str(size)), ("Page", str(p))]
            if tok:
                q.append(("PageToken", tok))
            return f"{base}{path}?{urlencode(q)}"

        body = {
            "alerts": records,
            "meta": {
                "first_page_url": url(0, None),
                "key": "alerts",
                "next_page_url": url(page + 1, nxt) if nxt else None,
                "page": page,
                "page_size": size,
                "previous_page_url": url(page - 1, prv) if prv and page > 0 else None,
                "url": url(page, token),
            },
        }
        return 200, self._json(body), {}


class TwilioHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "TwilioEmulator/1.0"
    timeout = 120  # idle keep-alive connections are dropped after this many seconds
    disable_nagle_algorithm = True  # headers and body are separate writes: avoid 40 ms stalls

    def do_GET(self) -> None:
        self.server.app.handle(self)  # type: ignore[attr-defined]

    do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = do_GET

    def log_message(self, format: str, *args: Any) -> None:
        pass


class EmulatorHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], app: App) -> None:
        self.app = app
        super().__init__(address, TwilioHandler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # dropped connections (injected or from clients) are normal here; anything else is not
        import sys

        exc = sys.exc_info()[1]
        if not isinstance(exc, (ConnectionError, TimeoutError, OSError)):
            super().handle_error(request, client_address)
