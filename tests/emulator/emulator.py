"""``Emulator``: Twilio's REST APIs (2010-04-01, Monitor alerts, and every other list of
Twilio's specs, on each Twilio host) on 127.0.0.1 for tests."""

from __future__ import annotations

import threading
from datetime import datetime, timezone
from typing import Any

from .bulkexport import BulkExport
from .data import DataStore
from .faults import ConcurrencyLimit, FaultInjector
from .platform import Platform
from .server import App, EmulatorHTTPServer, RequestRecord


class Emulator:
    """A real HTTP server serving deterministic, lazily generated Twilio data.

    Args:
        seed: data seed (same seed, sizes and ``now`` -> identical data).
        subaccounts: number of subaccounts of the main account.
        sizes: per-resource record counts for the main account (defaults: tens to hundreds).
        subaccount_sizes: one dict per subaccount overriding its sizes (default: smaller,
            different fractions of the main account's sizes).
        account_ages_days: ages in days, main account first, then each subaccount.
        subaccount_statuses: e.g. ["active", "suspended"]; a non-active subaccount's lists
            answer 404 and its credentials 401.
        now: data anchor (aware or naive-UTC datetime); default: current UTC hour.
        latency: seconds slept per request (settable at run time: ``emu.latency = 0.2``).
        host, port: listen address (port 0 = a free port).
        api_key_kind: "main" (reads everything) or "standard" (401 on Accounts.json / Keys).
        page_tokens: how the server treats a PageToken. "sid" (default): tokens are PA/PB +
            a record's SID, as in Twilio's links, and any such token is honoured. "opaque":
            tokens are opaque, so a token built from a SID is refused (400). "issued": tokens
            look like Twilio's but are valid only inside the server's own links; any other
            token is ignored and the page is chosen by `Page` alone (no error).
        max_in_flight: Twilio's concurrency limit: at most this many requests of one account
            in flight at once, the others answered 429 / 20429 (default None: no limit;
            settable at run time). ``emu.concurrency.rejected`` counts those 429s.
        retry_after: seconds sent as ``Retry-After`` with such a 429 (default: no header).
        platform_sizes: records per list of the specs' other lists, by host and path
            (``"studio.twilio.com/v2/Flows"``, as in ``lists.json``), for every account and
            every parent (default: 2-7 per top-level list of the main account, 0-4 of a
            subaccount, 0-3 per parent record of a child list).
        platform_subaccount_sizes: one dict per subaccount overriding ``platform_sizes``.
        unused_products: hosts or APIs (``"taskrouter.twilio.com"``, ``"taskrouter_v1"``) that
            answer 404, as for an account that does not use the product: ``"all"`` accounts,
            a list of account SIDs, or an HTTP status (404 or 403) for every account.
        full_history: messages, calls and conferences are made over each account's whole
            life; their lists show the last 400 days (messages) and 395 days (calls,
            conferences), the older ones are reachable through BulkExport
            (``emu.bulkexport``: see bulkexport.py), as are the participants of completed
            conferences (the list shows only those of conferences in progress). Off: only
            the lists' records are made.
    """

    def __init__(
        self,
        seed: int = 7,
        subaccounts: int = 2,
        sizes: dict[str, int] | None = None,
        subaccount_sizes: list[dict[str, int]] | None = None,
        account_ages_days: list[float] | None = None,
        subaccount_statuses: list[str] | None = None,
        now: datetime | None = None,
        latency: float = 0.0,
        host: str = "127.0.0.1",
        port: int = 0,
        api_key_kind: str = "main",
        page_tokens: str = "sid",
        max_in_flight: int | None = None,
        retry_after: float | None = None,
        platform_sizes: dict[str, int] | None = None,
        platform_subaccount_sizes: list[dict[str, int]] | None = None,
        unused_products: dict[str, Any] | None = None,
        full_history: bool = False,
    ) -> None:
        if now is not None and now.tzinfo is None:
            now = now.replace(tzinfo=timezone.utc)
        self.data = DataStore(
            seed=seed,
            subaccounts=subaccounts,
            sizes=sizes,
            subaccount_sizes=subaccount_sizes,
            account_ages_days=account_ages_days,
            subaccount_statuses=subaccount_statuses,
            now=now,
            page_tokens=page_tokens,
            full_history=full_history,
        )
        self.faults = FaultInjector()
        self.concurrency = ConcurrencyLimit(max_in_flight, retry_after)
        self._app = App(self.data, self.faults, latency=latency, api_key_kind=api_key_kind,
                        concurrency=self.concurrency)
        self.platform = Platform(
            self.data, self.faults, platform_sizes, platform_subaccount_sizes, unused_products
        )
        self._app.platform = self.platform
        self.bulkexport = BulkExport(self.data)
        self._app.bulkexport = self.bulkexport
        self._host, self._port = host, port
        self._server: EmulatorHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle -----------------------------------------------------------------------
    def start(self) -> Emulator:
        if self._server is None:
            self._server = EmulatorHTTPServer((self._host, self._port), self._app)
            self.data.base_url = self.url
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                kwargs={"poll_interval": 0.05},
                name="twilio-emulator",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def serve_forever(self) -> None:
        """Run in the foreground (used by ``python -m tests.emulator``)."""
        self.start()
        assert self._thread is not None
        self._thread.join()

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # --- connection facts ------------------------------------------------------------------
    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("emulator not started")
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://{self._host}:{self.port}"

    @property
    def account_sid(self) -> str:
        return self.data.main.sid

    @property
    def auth_token(self) -> str:
        return self.data.main.auth_token

    @property
    def api_key_sid(self) -> str:
        return self.data.api_key_sid

    @property
    def api_key_secret(self) -> str:
        return self.data.api_key_secret

    @property
    def subaccount_sids(self) -> list[str]:
        return [a.sid for a in self.data.subaccounts]

    @property
    def auth_tokens(self) -> dict[str, str]:
        """Auth token of every account (main and subaccounts) by SID."""
        return {a.sid: a.auth_token for a in self.data.accounts}

    @property
    def now(self) -> datetime:
        return datetime.fromtimestamp(self.data.now_ts, timezone.utc)

    def config(self, **overrides: Any) -> dict[str, Any]:
        """A tap config pointing at this emulator (main account SID + auth token)."""
        return {
            "account_sid": self.account_sid,
            "auth_token": self.auth_token,
            "base_url": self.url,
            **overrides,
        }

    # --- behaviour knobs -------------------------------------------------------------------
    @property
    def latency(self) -> float:
        return self._app.latency

    @latency.setter
    def latency(self, seconds: float) -> None:
        self._app.latency = float(seconds)

    @property
    def max_in_flight(self) -> int | None:
        return self.concurrency.max_in_flight

    @max_in_flight.setter
    def max_in_flight(self, limit: int | None) -> None:
        self.concurrency.max_in_flight = limit

    # --- request log -----------------------------------------------------------------------
    @property
    def requests(self) -> list[RequestRecord]:
        """A snapshot of the requests served so far (oldest first)."""
        with self._app.log_lock:
            return list(self._app.log)

    def clear_requests(self) -> None:
        with self._app.log_lock:
            self._app.log.clear()

    # --- ground truth ------------------------------------------------------------------------
    def truth(self, resource: str, account_sid: str | None = None, **filters: Any) -> list[dict]:
        """Every record the API lists for this query (all pages), in API order.

        ``filters`` use Twilio's parameter names: ``**{"DateSent>": "2024-01-01"}``, or the
        aliases ``DateSent_gt`` / ``DateSent_lt``.  For account-scoped resources
        ``account_sid=None`` means every account (main first, then subaccounts).  Child lists
        take ``MessageSid`` / ``ConferenceSid`` to select one parent.  The stream table's other
        streams: see ``platform_truth``.
        """
        if resource in self.platform.streams:
            return self.platform.truth(resource, account_sid, **filters)
        return self.data.truth(resource, account_sid, **filters)

    def history(self, resource: str, account_sid: str) -> list[dict]:
        """Every message, call, conference or conference participant the account has (as
        the list shows it), listed or older (a completed conference's participants: kept, never
        listed)."""
        account = self.data.by_sid[account_sid]
        if resource == "conference_participants":
            return [*self.truth(resource, account_sid), *self.data.kept_participants(account)]
        gen = self.data.generator(resource, account)
        return [gen.record(i) for i in range(gen.n)]

    def platform_truth(self, stream: str, account_sid: str | None = None, **query: Any) -> list:
        """Every record a list of the specs (``"studio.twilio.com/v2/Flows"``) holds for the
        account (every account when None; all parents, all pages), in API order.  ``query``:
        the list's date parameters (``DateCreatedFrom="2024-05-01"``) and path parameters to
        keep one parent's list (``FlowSid="FW..."``).  A product the account does not use lists
        nothing."""
        return self.platform.truth(stream, account_sid, **query)

    def mark_unused(self, product: str, account_sid: str | None = None, status: int = 404) -> None:
        """Make a host or API answer ``status`` (404 or 403) for one account, or for all."""
        self.platform.mark_unused(product, account_sid, status)
