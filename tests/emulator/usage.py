"""Usage records: one row per category per period, newest period first.

Values are per-day pseudo-random amounts; a longer period's row is the sum of its days, so
Daily rows add up to Monthly / Yearly / AllTime rows.  With ``IncludeSubaccounts`` (default
true) the main account's rows also include its subaccounts' usage, as Twilio's do.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from functools import lru_cache
from typing import Any, ClassVar

from .errors import bad_request
from .values import DAY, date_of_day, day_of_date, iso_date, key_of, rnd

# category -> (count_unit, usage_unit, usage per count, price per usage unit, description)
CATEGORY_INFO = {
    "calls": ("calls", "minutes", 3, 0.014, "Voice Minutes"),
    "calls-inbound": ("calls", "minutes", 2, 0.0085, "Inbound Voice Minutes"),
    "sms": ("messages", "segments", 1, 0.0079, "SMS Messages"),
    "sms-outbound": ("messages", "segments", 1, 0.0079, "Outbound SMS Messages"),
    "mms": ("messages", "segments", 1, 0.02, "MMS Messages"),
    "recordings": ("recordings", "minutes", 2, 0.0025, "Recordings"),
    "phonenumbers": ("numbers", "numbers", 1, 1.15, "Phone Numbers"),
    "totalprice": ("", "usd", 0, 0.0, "Total Price"),
}
DEFAULT_INFO = ("", "", 1, 0.01, "Usage")

SUBLISTS = {
    "usage_records": "",
    "usage_records_daily": "Daily",
    "usage_records_monthly": "Monthly",
    "usage_records_yearly": "Yearly",
    "usage_records_all_time": "AllTime",
    "usage_records_today": "Today",
    "usage_records_yesterday": "Yesterday",
    "usage_records_this_month": "ThisMonth",
    "usage_records_last_month": "LastMonth",
}
SUBRESOURCE_KEYS = (
    ("all_time", "AllTime"),
    ("daily", "Daily"),
    ("last_month", "LastMonth"),
    ("monthly", "Monthly"),
    ("this_month", "ThisMonth"),
    ("today", "Today"),
    ("yearly", "Yearly"),
    ("yesterday", "Yesterday"),
)


def parse_usage_date(value: str, today: int) -> int:
    """'YYYY-MM-DD' or a relative offset like '-30days' / '+30days' -> day number."""
    s = value.strip()
    m = re.fullmatch(r"([+-])(\d+)days?", s)
    if m:
        n = int(m.group(2))
        return today - n if m.group(1) == "-" else today + n
    try:
        return day_of_date(date.fromisoformat(s))
    except ValueError:
        raise bad_request(20001, "Invalid date value.") from None


def _month_start(day: int) -> int:
    d = date_of_day(day)
    return day_of_date(d.replace(day=1))


def _month_end(day: int) -> int:
    d = date_of_day(day)
    nxt = (d.replace(day=28) + timedelta(days=4)).replace(day=1)
    return day_of_date(nxt) - 1


def _year_start(day: int) -> int:
    return day_of_date(date_of_day(day).replace(month=1, day=1))


def _year_end(day: int) -> int:
    return day_of_date(date_of_day(day).replace(month=12, day=31))


class UsageGenerator:
    """Rows of one usage sub-list for one account and one (StartDate, EndDate) window."""

    sort_fields = ("start_date",)
    ts_fields: ClassVar[dict[str, int]] = {}

    def __init__(self, ctx: Any, account: Any, resource: str, params: dict[str, str]) -> None:
        self.ctx = ctx
        self.account = account
        self.resource = resource
        self.sub = SUBLISTS[resource]
        self.categories = list(ctx.categories)
        today = ctx.now_ts // DAY
        self.today = today
        first = account.created_ts // DAY
        include = params.get("IncludeSubaccounts", "true").lower() != "false"
        self.members = [account] + (ctx.subaccounts if account.is_main and include else [])
        start = parse_usage_date(params["StartDate"], today) if "StartDate" in params else None
        end = parse_usage_date(params["EndDate"], today) if "EndDate" in params else None
        self.periods = self._periods(first, today, start, end)
        self.n = len(self.periods) * len(self.categories)
        self.as_of = f"{iso_date(ctx.now_ts // DAY)}T{ctx.now_ts % DAY // 3600:02d}:00:00+00:00"
        self.query = ""
        self.base = f"/2010-04-01/Accounts/{account.sid}/Usage/Records"

    def _periods(
        self, first: int, today: int, start: int | None, end: int | None
    ) -> list[tuple[int, int]]:
        """Periods (start_day, end_day) newest first, clipped to the account's life."""
        sub = self.sub
        if sub == "":
            lo = start if start is not None else first
            hi = end if end is not None else today
            return [(lo, hi)] if lo <= hi else []
        if sub == "AllTime":
            return [(first, today)]
        if sub == "Today":
            return [(today, today)]
        if sub == "Yesterday":
            return [(today - 1, today - 1)]
        if sub == "ThisMonth":
            return [(_month_start(today), today)]
        if sub == "LastMonth":
            prev_end = _month_start(today) - 1
            return [(_month_start(prev_end), prev_end)]
        lo = max(first, start) if start is not None else first
        hi = min(today, end) if end is not None else today
        out: list[tuple[int, int]] = []
        day = hi
        while day >= lo:
            if sub == "Daily":
                p = (day, day)
            elif sub == "Monthly":
                p = (max(_month_start(day), first), min(_month_end(day), today))
            else:
                p = (max(_year_start(day), first), min(_year_end(day), today))
            out.append(p)
            day = p[0] - 1
        return out

    # generator protocol ----------------------------------------------------------------
    def sort_ts(self, i: int) -> int:
        return self.periods[i // len(self.categories)][0] * DAY

    def index_of(self, sid: str) -> None:
        return None

    def record(self, i: int) -> dict:
        p0, p1 = self.periods[i // len(self.categories)]
        cat = self.categories[i % len(self.categories)]
        count, usage, price = self.ctx.usage_totals(tuple(a.sid for a in self.members), cat, p0, p1)
        count_unit, usage_unit, _, _, desc = CATEGORY_INFO.get(cat, DEFAULT_INFO)
        sid = self.account.sid
        uri_base = f"/2010-04-01/Accounts/{sid}/Usage/Records"
        return {
            "account_sid": sid,
            "api_version": "2010-04-01",
            "as_of": self.as_of,
            "category": cat,
            "count": None if cat == "totalprice" else str(count),
            "count_unit": count_unit,
            "description": desc,
            "end_date": iso_date(p1),
            "price": f"{price:.5f}",
            "price_unit": "usd",
            "start_date": iso_date(p0),
            "subresource_uris": {
                k: f"{uri_base}/{seg}.json?Category={cat}" for k, seg in SUBRESOURCE_KEYS
            },
            "uri": f"{uri_base}{'/' + self.sub if self.sub else ''}.json?Category={cat}"
            f"&StartDate={iso_date(p0)}&EndDate={iso_date(p1)}",
            "usage": f"{price:.5f}" if cat == "totalprice" else str(usage),
            "usage_unit": usage_unit,
        }


def daily_amount(
    seed: int, account_sid: str, created_day: int, cat: str, day: int
) -> tuple[int, int, float]:
    """(count, usage, price) of one account, category and day (0 outside its life)."""
    if day < created_day:
        return 0, 0, 0.0
    if cat == "totalprice":
        price = sum(
            daily_amount(seed, account_sid, created_day, c, day)[2]
            for c in CATEGORY_INFO
            if c != "totalprice"
        )
        return 0, 0, price
    _, _, per, rate, _ = CATEGORY_INFO.get(cat, DEFAULT_INFO)
    k = _cat_key(seed, account_sid, cat)
    count = rnd(k, day, 7) % 40 if cat != "phonenumbers" else 1 + k % 5
    usage = count * per + (rnd(k, day, 8) % 3 if count else 0)
    return count, usage, round(usage * rate, 5)


@lru_cache(maxsize=4096)
def _cat_key(seed: int, account_sid: str, cat: str) -> int:
    return key_of(seed, account_sid, "usage", cat)
