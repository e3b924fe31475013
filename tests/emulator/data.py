"""The emulated account tree and its lazily generated lists, plus test-time mutations.

Every list is the merge, in API order, of
- the generated records (record i is a pure function of seed, account, resource and i), and
- "extras": records added with ``add`` or generated records changed with ``update`` (an
  updated record leaves the generated sequence and is re-inserted at its new sort position).

Order key of an item: ``(-sort_ts, kind, n)`` with kind 0 for extras (n = insertion number)
and 1 for generated records (n = index).  A page token names the last (next page) or first
(previous page) record served, so following ``next_page_uri`` resumes exactly after the
previous page even while records are being added.  As on Twilio, it is ``PA``/``PB`` + that
record's SID (``PageToken=PASMc262...``); lists whose records have no SID (usage records) get
an opaque token, as Twilio's do.
"""

from __future__ import annotations

import base64
import bisect
import heapq
import json
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any, ClassVar

from .errors import bad_request
from .filters import Query, compile_query
from .generators import CHILD_GENERATORS, GENERATORS, Generator
from .narrowing import narrowed_query
from .usage import SUBLISTS, UsageGenerator, daily_amount
from .values import (
    DAY,
    SidCodec,
    hex32,
    key_of,
    parse_record_ts,
    phone,
    rfc2822,
    to_ts,
)

SPEC_PATH = Path(__file__).with_name("spec.json")

# resources with their own size per account (others are derived)
SIZED_RESOURCES = (
    "calls",
    "messages",
    "conferences",
    "notifications",
    "recordings",
    "transcriptions",
    "incoming_phone_numbers",
    "outgoing_caller_ids",
    "addresses",
    "applications",
    "keys",
    "queues",
    "usage_triggers",
    "alerts",
)
DEFAULT_SIZES = {
    "messages": 300,
    "calls": 200,
    "conferences": 60,
    "notifications": 80,
    "recordings": 60,
    "transcriptions": 20,
    "incoming_phone_numbers": 8,
    "outgoing_caller_ids": 5,
    "addresses": 4,
    "applications": 6,
    "keys": 3,
    "queues": 4,
    "usage_triggers": 5,
    "alerts": 120,
}
DEFAULT_MAIN_AGE_DAYS = 1100
DEFAULT_SUB_AGES_DAYS = (420, 35, 7, 200, 90)
# How far back each list reaches (Twilio keeps calls "about 13 months": 395 days here).
RETENTION_DAYS = {"messages": 400, "calls": 395, "conferences": 395, "alerts": 30}
# Lists whose older records Twilio keeps, reachable through BulkExport (bulkexport.py).
EXPORTED_RESOURCES = ("messages", "calls", "conferences")
NUMBERS_PER_ACCOUNT = 5


@lru_cache(maxsize=1)
def load_spec() -> dict:
    return json.loads(SPEC_PATH.read_text(encoding="utf-8"))


@dataclass
class Account:
    sid: str
    auth_token: str
    friendly_name: str
    created_ts: int
    status: str
    is_main: bool
    owner_sid: str
    sizes: dict[str, int]
    numbers: list[str] = field(default_factory=list)
    number_sids: list[str] = field(default_factory=list)
    messaging_service_sid: str = ""

    def record(self) -> dict:
        base = f"/2010-04-01/Accounts/{self.sid}"
        subs = {
            "addresses": "Addresses",
            "applications": "Applications",
            "authorized_connect_apps": "AuthorizedConnectApps",
            "available_phone_numbers": "AvailablePhoneNumbers",
            "balance": "Balance",
            "calls": "Calls",
            "conferences": "Conferences",
            "connect_apps": "ConnectApps",
            "incoming_phone_numbers": "IncomingPhoneNumbers",
            "keys": "Keys",
            "messages": "Messages",
            "notifications": "Notifications",
            "outgoing_caller_ids": "OutgoingCallerIds",
            "queues": "Queues",
            "recordings": "Recordings",
            "short_codes": "SMS/ShortCodes",
            "signing_keys": "SigningKeys",
            "sip": "SIP",
            "transcriptions": "Transcriptions",
            "usage": "Usage",
        }
        return {
            "auth_token": self.auth_token,
            "date_created": rfc2822(self.created_ts),
            "date_updated": rfc2822(self.created_ts + 3600),
            "friendly_name": self.friendly_name,
            "owner_account_sid": self.owner_sid,
            "sid": self.sid,
            "status": self.status,
            "subresource_uris": {k: f"{base}/{v}.json" for k, v in subs.items()},
            "type": "Full",
            "uri": f"{base}.json",
        }


class StaticList:
    """A small materialised list (accounts) behind the generator protocol."""

    ts_fields: ClassVar[dict[str, int]] = {"date_created": 0}
    sort_fields = ("date_created",)

    def __init__(self, records: list[dict]) -> None:
        self.records = sorted(records, key=lambda r: -parse_record_ts(r["date_created"]))
        self.n = len(self.records)

    def sort_ts(self, i: int) -> int:
        return parse_record_ts(self.records[i]["date_created"])

    def record(self, i: int) -> dict:
        return dict(self.records[i])

    def index_of(self, sid: str) -> int | None:
        for i, r in enumerate(self.records):
            if r["sid"] == sid:
                return i
        return None


PAGE_TOKEN_MODES = ("sid", "opaque", "issued")


def link_query(params: list[tuple[str, str]]) -> tuple:
    """What a page link fixes besides its position: the filters and the page size."""
    return tuple(sorted((k, v) for k, v in params if k not in ("Page", "PageToken")))
SID_TOKEN = re.compile(r"P[AB]([A-Z]{2}[0-9a-fA-F]{32})")


def page_token(prefix: str, item: tuple[tuple[int, int, int], dict], by_sid: bool) -> str:
    """Twilio's token for a page boundary: the prefix + the record's SID, else opaque."""
    okey, rec = item
    sid = rec.get("sid")
    if by_sid and isinstance(sid, str) and SID_TOKEN.fullmatch("PA" + sid):
        return prefix + sid
    return encode_token(prefix, okey)


def encode_token(prefix: str, okey: tuple[int, int, int]) -> str:
    raw = f"{okey[0]}:{okey[1]}:{okey[2]}".encode()
    return prefix + base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(token: str) -> tuple[str, tuple[int, int, int]]:
    try:
        body = token[2:]
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode()
        a, b, c = (int(x) for x in raw.split(":"))
        if token[:2] not in ("PA", "PB"):
            raise ValueError
        return token[:2], (a, b, c)
    except (ValueError, UnicodeDecodeError):
        raise bad_request(20001, f"Invalid PageToken: {token}") from None


class DataStore:
    """Accounts, generators, extras/overlays, and the list engine shared by server and truth."""

    def __init__(
        self,
        seed: int = 7,
        subaccounts: int = 2,
        sizes: dict | None = None,
        subaccount_sizes: list[dict] | None = None,
        account_ages_days: list[float] | None = None,
        subaccount_statuses: list[str] | None = None,
        now: datetime | None = None,
        page_tokens: str = "sid",
        full_history: bool = False,
    ) -> None:
        self.seed = seed
        # Messages, calls and conferences made over each account's whole life, the lists
        # showing only their retention (else only the retention's records are made).
        self.full_history = full_history
        if page_tokens not in PAGE_TOKEN_MODES:
            raise ValueError(f"page_tokens: one of {PAGE_TOKEN_MODES}, not {page_tokens!r}")
        # "opaque": a PageToken made from a SID is refused with a 400; "issued": such a token
        # is honoured only if it came in one of this server's links, and silently ignored
        # otherwise. Both test a client that must not trust a token it built itself.
        self.sid_page_tokens = page_tokens != "opaque"
        self.only_issued_tokens = page_tokens == "issued"
        self._issued_tokens: set[tuple[str, str, tuple, str]] = set()
        self.spec = load_spec()
        self.categories = tuple(self.spec["_meta"]["usage_categories"])
        if now is None:
            now = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)
        self.now_ts = to_ts(now)  # data anchor: generated records end here
        self.clock_ts = self.now_ts  # "current time" for retention checks (set_now)
        self.base_url = "http://127.0.0.1"
        self._lock = threading.RLock()
        self._gens: dict[tuple, Any] = {}
        self._extras: dict[tuple[str, str], list[tuple[tuple[int, int, int], dict]]] = {}
        self._moved: dict[tuple[str, str], set[int]] = {}
        self._seq = 0
        self._usage_cache: dict[tuple, tuple[int, int, float]] = {}
        self._build_accounts(
            subaccounts, sizes, subaccount_sizes, account_ages_days, subaccount_statuses
        )

    # --- accounts ------------------------------------------------------------------------
    def _build_accounts(self, n_sub, sizes, sub_sizes, ages, statuses) -> None:
        main_sizes = {**DEFAULT_SIZES, **(sizes or {})}
        ages = list(ages or [])
        accounts: list[Account] = []
        for k in range(n_sub + 1):
            is_main = k == 0
            if is_main:
                acct_sizes = main_sizes
            else:
                given = (sub_sizes[k - 1] if sub_sizes and k - 1 < len(sub_sizes) else None) or {}
                factor = (0.35, 0.08, 0.02, 0.15, 0.05)[(k - 1) % 5]
                acct_sizes = {r: max(1, int(v * factor)) for r, v in main_sizes.items()}
                acct_sizes["alerts"] = 0  # alerts belong to the authenticated (main) account
                acct_sizes.update(given)
            age = (
                ages[k]
                if k < len(ages)
                else (DEFAULT_MAIN_AGE_DAYS if is_main else DEFAULT_SUB_AGES_DAYS[(k - 1) % 5])
            )
            key = key_of(self.seed, "account", k)
            sid = "AC" + hex32(key, k, 1)
            status = "active"
            if not is_main and statuses and k - 1 < len(statuses):
                status = statuses[k - 1]
            acct = Account(
                sid=sid,
                auth_token=hex32(key, k, 2),
                friendly_name="Emulated Main Account" if is_main else f"Subaccount {k}",
                created_ts=self.now_ts - int(age * DAY),
                status=status,
                is_main=is_main,
                owner_sid=accounts[0].sid if accounts else sid,
                sizes=acct_sizes,
                messaging_service_sid="MG" + hex32(key, k, 3),
            )
            acct.numbers = [phone(k * 10 + j) for j in range(NUMBERS_PER_ACCOUNT)]
            pn = SidCodec(key_of(self.seed, sid, "incoming_phone_numbers", ""))
            acct.number_sids = ["PN" + pn.encode(j) for j in range(NUMBERS_PER_ACCOUNT)]
            acct.sizes["incoming_phone_numbers"] = max(
                acct.sizes.get("incoming_phone_numbers", 0), NUMBERS_PER_ACCOUNT
            )
            accounts.append(acct)
        self.accounts = accounts
        self.main = accounts[0]
        self.subaccounts = accounts[1:]
        self.by_sid = {a.sid: a for a in accounts}
        self.api_key_sid = "SK" + hex32(key_of(self.seed, "apikey"), 0, 1)
        self.api_key_secret = hex32(key_of(self.seed, "apikey"), 0, 2)

    def account(self, sid: str) -> Account | None:
        return self.by_sid.get(sid)

    # --- generators ----------------------------------------------------------------------
    def generator(
        self,
        resource: str,
        account: Account,
        parent: str | None = None,
        params: dict[str, str] | None = None,
        visible: tuple[str, ...] | None = None,
    ):
        if resource == "accounts":
            sids = visible or tuple(a.sid for a in self.accounts)
            return StaticList([self.by_sid[s].record() for s in sids])
        if resource in SUBLISTS:
            return UsageGenerator(self, account, resource, params or {})
        if resource in CHILD_GENERATORS:
            return self._child_generator(resource, account, parent)
        key = (resource, account.sid)
        gen = self._gens.get(key)
        if gen is None:
            end = self.now_ts
            start = account.created_ts
            kept = self.full_history and resource in EXPORTED_RESOURCES
            if resource in RETENTION_DAYS and not kept:
                start = max(start, end - RETENTION_DAYS[resource] * DAY + DAY)
            n = account.sizes.get(resource, 0)
            gen = GENERATORS[resource](self, account, n, start, end)
            self._gens[key] = gen
        return gen

    def _child_generator(self, resource: str, account: Account, parent: str | None):
        parent_resource = "messages" if resource == "message_media" else "conferences"
        prec = self.lookup(parent_resource, account.sid, parent) if parent else None
        if prec is None:
            return None
        if resource == "conference_participants":
            # The list shows the participants of live conferences only: Twilio keeps no
            # participant log there (a completed conference's are in BulkExport).
            return self.participants(account, prec, live=True)
        created = parse_record_ts(prec.get("date_created")) or self.now_ts
        n = int(prec.get("num_media") or 0)
        return CHILD_GENERATORS[resource](self, account, n, created, created, parent)

    def participants(self, account: Account, conference: dict, live: bool) -> Any:
        """A conference's participants: those the list shows while it is in progress
        (`live`), or those Twilio keeps of a completed one (made with `full_history` only),
        with status `complete`. sizes["conference_participants"]: the most per conference."""
        status = conference.get("status")
        kept = status == "in-progress" if live else (self.full_history and status == "completed")
        most = max(1, account.sizes.get("conference_participants", 5))
        n = 1 + key_of(conference["sid"]) % most if kept else 0
        created = parse_record_ts(conference.get("date_created")) or self.now_ts
        end = parse_record_ts(conference.get("date_updated")) or created
        gen = CHILD_GENERATORS["conference_participants"](
            self, account, n, created, max(end, created), conference["sid"])
        gen.live = live
        return gen

    def kept_participants(self, account: Account) -> Iterator[dict]:
        """Every participant of the account's completed conferences (none without
        `full_history`), as the list would show them had it kept them."""
        if not self.full_history:
            return
        gen = self.generator("conferences", account)
        older = range(first_below(gen, self.retention_floor("conferences")), gen.n)
        listed = self.truth("conferences", account.sid)  # as changed by tests
        for conference in [*listed, *(gen.record(i) for i in older)]:
            kept = self.participants(account, conference, live=False)
            yield from (kept.record(j) for j in range(kept.n))

    @property
    def changes(self) -> int:
        """How many records tests added or changed: what is derived from the records stays
        valid while this does."""
        return self._seq

    def lookup(self, resource: str, account_sid: str, sid: str) -> dict | None:
        """One record by SID (what the single-object endpoints return)."""
        account = self.by_sid.get(account_sid)
        if account is None or not isinstance(sid, str):
            return None
        with self._lock:
            for _, rec in self._extras.get((resource, account_sid), ()):
                if rec.get("sid") == sid:
                    return dict(rec)
            gen = self.generator(resource, account)
            i = gen.index_of(sid)
            if i is None or i in self._moved.get((resource, account_sid), ()):
                return None
            rec = gen.record(i)
            return rec if rec.get("sid") == sid else None

    # --- mutations -----------------------------------------------------------------------
    def _sort_ts_of(self, gen: Any, rec: dict) -> int:
        for f in gen.sort_fields:
            ts = parse_record_ts(rec.get(f))
            if ts is not None:
                return ts
        return self.clock_ts

    def _insert_extra(self, resource: str, account_sid: str, gen: Any, rec: dict) -> None:
        self._seq += 1
        okey = (-self._sort_ts_of(gen, rec), 0, self._seq)
        bisect.insort(
            self._extras.setdefault((resource, account_sid), []),
            (okey, rec),
            key=lambda item: item[0],
        )

    def add(self, resource: str, account_sid: str, records: list[dict] | int) -> list[dict]:
        """Add new records (completed from a generated template); returns them in full.

        Dates may be given as datetimes or strings; missing dates default to the clock
        ("now", see ``set_now``).  ``records`` may also be a count of new default records.
        """
        account = self.by_sid[account_sid]
        if isinstance(records, int):
            records = [{} for _ in range(records)]
        out = []
        with self._lock:
            gen = self.generator(resource, account)
            if not isinstance(gen, Generator):
                raise ValueError(f"add() supports generated top-level lists, not {resource}")
            for given in records:
                seq = self._seq + 1
                vi = gen.n + (1 << 40) + seq
                template = gen.complete(gen.build(vi, self.clock_ts, gen.virtual_sid(seq)), vi)
                rec = {**template, **_normalise(given, gen)}
                self._insert_extra(resource, account_sid, gen, rec)
                out.append(dict(rec))
        return out

    def update(self, resource: str, account_sid: str, sid: str, **changes: Any) -> dict:
        """Overlay changes on an existing record (it moves to its new sort position)."""
        account = self.by_sid[account_sid]
        key = (resource, account_sid)
        with self._lock:
            gen = self.generator(resource, account)
            extras = self._extras.setdefault(key, [])
            for j, (_, rec) in enumerate(extras):
                if rec.get("sid") == sid:
                    del extras[j]
                    new = {**rec, **_normalise(changes, gen)}
                    self._insert_extra(resource, account_sid, gen, new)
                    return dict(new)
            i = gen.index_of(sid)
            if i is None or i in self._moved.get(key, ()):
                raise KeyError(f"{resource} {sid} not found in {account_sid}")
            new = {**gen.record(i), **_normalise(changes, gen)}
            self._moved.setdefault(key, set()).add(i)
            self._insert_extra(resource, account_sid, gen, new)
            return dict(new)

    def set_now(self, dt: datetime) -> None:
        """Move the clock used for retention windows and added records' default dates.

        Generated data stays anchored at the emulator's initial ``now``.
        """
        self.clock_ts = to_ts(dt)

    # --- usage ----------------------------------------------------------------------------
    def usage_totals(
        self, sids: tuple[str, ...], cat: str, d0: int, d1: int
    ) -> tuple[int, int, float]:
        key = (sids, cat, d0, d1)
        hit = self._usage_cache.get(key)
        if hit is None:
            count = usage = 0
            price = 0.0
            for sid in sids:
                created = self.by_sid[sid].created_ts // DAY
                for day in range(max(d0, created), min(d1, self.now_ts // DAY) + 1):
                    c, u, p = daily_amount(self.seed, sid, created, cat, day)
                    count += c
                    usage += u
                    price += p
            hit = self._usage_cache[key] = (count, usage, round(price, 5))
        return hit

    # --- listing -------------------------------------------------------------------------
    def compile(self, resource: str, params: list[tuple[str, str]]) -> Query:
        return compile_query(resource, self.spec["resources"][resource], params, self.clock_ts)

    def iterate(
        self,
        resource: str,
        account: Account,
        query: Query,
        gen: Any,
        after: tuple | None = None,
        before: tuple | None = None,
    ) -> Iterator[tuple[tuple[int, int, int], dict]]:
        """Matching items in API order after ``after`` (or, reversed, before ``before``)."""
        key = (resource, account.sid)
        with self._lock:
            extras = list(self._extras.get(key, ()))
            moved = frozenset(self._moved.get(key, ()))
        if gen is None:
            return iter(())
        tmin, tmax = query.window(gen.ts_fields)
        lo = 0 if tmax is None else first_below(gen, tmax)
        hi = gen.n if tmin is None else first_below(gen, tmin)
        if resource in EXPORTED_RESOURCES:  # older records are kept but not listed
            hi = min(hi, first_below(gen, self.retention_floor(resource)))
        keys = [k for k, _ in extras]
        match = query.matches if not query.empty else None

        if before is None:
            if after is None:
                g, e = lo, 0
            else:
                g = after[2] + 1 if after[1] == 1 else first_below(gen, -after[0] + 1)
                g = max(g, lo)
                e = bisect.bisect_right(keys, after)

            def gen_items():
                for i in range(g, hi):
                    if i in moved:
                        continue
                    rec = gen.record(i)
                    if match is None or match(rec):
                        yield (-gen.sort_ts(i), 1, i), rec

            def extra_items():
                for k, rec in extras[e:]:
                    if match is None or match(rec):
                        yield k, dict(rec)

            if not extras:
                return gen_items()
            return heapq.merge(gen_items(), extra_items(), key=lambda item: item[0])

        g_end = before[2] if before[1] == 1 else first_below(gen, -before[0] + 1)
        g_end = min(g_end, hi)
        e_end = bisect.bisect_left(keys, before)

        def gen_items_rev():
            for i in range(g_end - 1, lo - 1, -1):
                if i in moved:
                    continue
                rec = gen.record(i)
                if match is None or match(rec):
                    yield (-gen.sort_ts(i), 1, i), rec

        def extra_items_rev():
            for k, rec in reversed(extras[:e_end]):
                if match is None or match(rec):
                    yield k, dict(rec)

        return heapq.merge(
            gen_items_rev(), extra_items_rev(), key=lambda item: item[0], reverse=True
        )

    def retention_floor(self, resource: str) -> int:
        """The start of the oldest UTC day a list still shows (today counts as one day)."""
        return (self.clock_ts // DAY - RETENTION_DAYS[resource] + 1) * DAY

    def page(
        self,
        resource: str,
        account: Account,
        params: list[tuple[str, str]],
        page_size: int,
        page: int,
        token: str | None,
        gen: Any,
    ) -> tuple[list[dict], str | None, str | None]:
        """One page: (records, next PageToken or None, previous PageToken or None)."""
        query = narrowed_query(resource, self.compile(resource, params), params, self.clock_ts)
        if token and self.only_issued_tokens and not self._was_issued(
            resource, account, params, token
        ):
            token = None  # as a server that pages by `Page` and only trusts its own links
        if token:
            kind, okey = self._token_position(resource, account, gen, token)
            if kind == "PA":
                items = _take(
                    self.iterate(resource, account, query, gen, after=okey), page_size + 1
                )
            else:
                # a previous page: the records just before the token, in API order
                items = _take(self.iterate(resource, account, query, gen, before=okey), page_size)[
                    ::-1
                ]
                by_sid = self.sid_page_tokens
                nxt = page_token("PA", items[-1], by_sid) if items else None
                prv = page_token("PB", items[0], by_sid) if items and page > 0 else None
                return [r for _, r in items], *self._issue(resource, account, params, nxt, prv)
        else:
            skip = page * page_size
            key = (resource, account.sid)
            if (
                skip
                and query.empty
                and gen is not None
                and not self._extras.get(key)
                and not self._moved.get(key)
            ):
                after = (-gen.sort_ts(skip - 1), 1, skip - 1) if skip <= gen.n else None
                it = self.iterate(resource, account, query, gen, after=after) if after else iter(())
            else:
                it = self.iterate(resource, account, query, gen)
                for _ in range(skip):
                    if next(it, None) is None:
                        break
            items = _take(it, page_size + 1)
        more = len(items) > page_size
        items = items[:page_size]
        recs = [r for _, r in items]
        nxt = page_token("PA", items[-1], self.sid_page_tokens) if more else None
        prv = page_token("PB", items[0], self.sid_page_tokens) if items and page > 0 else None
        return recs, *self._issue(resource, account, params, nxt, prv)

    def _issue(
        self, resource: str, account: Account, params: list[tuple[str, str]],
        nxt: str | None, prv: str | None,
    ) -> tuple[str | None, str | None]:
        """A page's next and previous tokens, remembered as issued for the links' query (its
        filters and page size) when only issued tokens are honoured."""
        if self.only_issued_tokens:
            link = link_query(params)
            with self._lock:
                self._issued_tokens.update(
                    (resource, account.sid, link, t) for t in (nxt, prv) if t is not None
                )
        return nxt, prv

    def _was_issued(
        self, resource: str, account: Account, params: list[tuple[str, str]], token: str
    ) -> bool:
        with self._lock:
            return (resource, account.sid, link_query(params), token) in self._issued_tokens

    def issued_tokens(self) -> set[str]:
        """Every PageToken put in a link so far (`page_tokens="issued"` only)."""
        with self._lock:
            return {token for *_, token in self._issued_tokens}

    def _token_position(
        self, resource: str, account: Account, gen: Any, token: str
    ) -> tuple[str, tuple[int, int, int]]:
        """(PA or PB, order key of the record the token names); 400 for an unknown one."""
        named = SID_TOKEN.fullmatch(token) if self.sid_page_tokens else None
        if named is None:
            return decode_token(token)
        sid = named.group(1)
        key = (resource, account.sid)
        with self._lock:
            for okey, rec in self._extras.get(key, ()):
                if rec.get("sid") == sid:
                    return token[:2], okey
            moved = self._moved.get(key, ())
        i = gen.index_of(sid) if gen is not None else None
        if i is None or i in moved or gen.record(i).get("sid") != sid:
            raise bad_request(20001, f"Invalid PageToken: {token}")
        return token[:2], (-gen.sort_ts(i), 1, i)

    def truth(self, resource: str, account_sid: str | None = None, **filters: Any) -> list[dict]:
        """Every record the API would list for this query (all pages), in API order."""
        params = [(_filter_name(k), _filter_value(v)) for k, v in filters.items()]
        parent = None
        for name in ("ConferenceSid", "MessageSid"):
            parent = next((v for k, v in params if k == name), parent)
        params = [(k, v) for k, v in params if k not in ("ConferenceSid", "MessageSid")]
        if resource == "account_balance":
            sids = [account_sid] if account_sid else [a.sid for a in self.accounts]
            return [self.balance(s) for s in sids]
        if resource == "accounts":
            gen = self.generator("accounts", self.main)
            return [
                r
                for _, r in self.iterate(
                    "accounts", self.main, self.compile("accounts", params), gen
                )
            ]
        if resource == "alerts":
            accounts = [self.main] if account_sid is None else [self.by_sid[account_sid]]
        else:
            accounts = self.accounts if account_sid is None else [self.by_sid[account_sid]]
        out: list[dict] = []
        for acct in accounts:
            if resource in CHILD_GENERATORS:
                parent_res = "messages" if resource == "message_media" else "conferences"
                parents = (
                    [parent] if parent else [r["sid"] for r in self.truth(parent_res, acct.sid)]
                )
                for p in parents:
                    if parent and self.lookup(parent_res, acct.sid, p) is None:
                        continue
                    gen = self.generator(resource, acct, parent=p)
                    out.extend(
                        r
                        for _, r in self.iterate(
                            resource, acct, self.compile(resource, params), gen
                        )
                    )
                continue
            gen = self.generator(resource, acct, params=dict(params))
            out.extend(
                r for _, r in self.iterate(resource, acct, self.compile(resource, params), gen)
            )
        return out

    def balance(self, account_sid: str) -> dict:
        key = key_of(self.seed, "balance")
        return {
            "account_sid": account_sid,
            "balance": f"{(key % 100000) / 100:.2f}",
            "currency": "USD",
        }


def first_below(gen: Any, t: int) -> int:
    """Smallest index i with gen.sort_ts(i) < t (sort_ts is non-increasing)."""
    lo, hi = 0, gen.n
    while lo < hi:
        mid = (lo + hi) // 2
        if gen.sort_ts(mid) < t:
            hi = mid
        else:
            lo = mid + 1
    return lo


def _take(it: Iterator, n: int) -> list:
    out = []
    for item in it:
        out.append(item)
        if len(out) >= n:
            break
    return out


def _filter_name(name: str) -> str:
    if name.endswith("_gt"):
        return name[:-3] + ">"
    if name.endswith("_lt"):
        return name[:-3] + "<"
    return name


def _filter_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v.isoformat() if hasattr(v, "isoformat") else v)


def _normalise(values: dict, gen: Any) -> dict:
    """datetimes -> the resource's date format (RFC 2822, or ISO 8601 for alerts)."""
    from .values import iso8601

    out = {}
    for k, v in values.items():
        if isinstance(v, datetime):
            ts = to_ts(v)
            v = iso8601(ts) if gen.__class__.__name__ == "AlertsGenerator" else rfc2822(ts)
        out[k] = v
    return out


__all__ = ["DataStore", "timedelta"]
