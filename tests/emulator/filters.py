"""Query filters: Twilio's query parameters -> a record predicate plus a time window.

Date filters compare the record's UTC calendar date (day granularity): ``X>`` date >= D,
``X<`` date <= D (``StartTime<`` / ``EndTime<``: strictly before D), bare ``X`` date == D.
A record whose filtered field is null never matches a date filter.  Alerts (Monitor v1)
compare ``date_generated`` to the second, and a date more than 30 days back (whole days, as
the spec's text says) is refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .errors import bad_request
from .table import ALERTS, refused_older_than
from .values import DAY, parse_filter_value, parse_record_ts

PAGING_PARAMS = frozenset({"PageSize", "Page", "PageToken"})
# parameters that select data rather than filter records
NON_FILTER_PARAMS = frozenset({"IncludeSoftDeleted", "IncludeSubaccounts", "StartDate", "EndDate"})
STRICT_BEFORE = frozenset({"StartTime<", "EndTime<"})
MESSAGE_RETENTION_DAYS = 400


def snake(name: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()


@dataclass
class DateCond:
    field: str
    lo: int | None = None  # inclusive epoch seconds
    hi: int | None = None  # exclusive epoch seconds


@dataclass
class Query:
    eq: list[tuple[str, str]] = field(default_factory=list)
    dates: list[DateCond] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.eq and not self.dates

    def matches(self, rec: dict) -> bool:
        for name, want in self.eq:
            v = rec.get(name)
            if v is None:
                return False
            if isinstance(v, bool):
                if want.lower() != ("true" if v else "false"):
                    return False
            elif str(v) != want:
                return False
        for c in self.dates:
            ts = parse_record_ts(rec.get(c.field))
            if ts is None or (c.lo is not None and ts < c.lo) or (c.hi is not None and ts >= c.hi):
                return False
        return True

    def window(self, ts_fields: dict[str, int]) -> tuple[int | None, int | None]:
        """Bounds [tmin, tmax) on a generator's sort_ts implied by the date conditions."""
        tmin = tmax = None
        for c in self.dates:
            if c.field not in ts_fields:
                continue
            lag = ts_fields[c.field]
            if c.lo is not None:
                lo = c.lo - lag
                tmin = lo if tmin is None else max(tmin, lo)
            if c.hi is not None:
                tmax = c.hi if tmax is None else min(tmax, c.hi)
        return tmin, tmax


def _date(name: str, value: str) -> tuple[int, int]:
    parsed = parse_filter_value(value)
    if parsed is None:
        raise bad_request(20001, "Invalid date value.")
    return parsed


def compile_query(
    resource: str,
    spec: dict,
    params: list[tuple[str, str]],
    clock_ts: int,
) -> Query:
    """Build the Query for a resource's list parameters (unknown parameters are ignored)."""
    q = Query()
    known = spec["query_params"]
    for name, value in params:
        if name in PAGING_PARAMS or name not in known:
            continue
        if resource == "alerts" and name in ("StartDate", "EndDate"):
            day, ts = _date(name, value)
            date_only = len(value.strip()) == 10
            limit = refused_older_than(ALERTS, name)
            if limit is not None and day < clock_ts // DAY - limit:
                raise bad_request(
                    20001, f"{name}: Queries for alerts older than {limit} days are not supported"
                )
            if name == "StartDate":
                q.dates.append(DateCond("date_generated", lo=ts))
            else:
                q.dates.append(
                    DateCond("date_generated", hi=(day + 1) * DAY if date_only else ts + 1)
                )
            continue
        if name in NON_FILTER_PARAMS:
            continue
        fmt = known[name].get("format")
        if fmt in ("date", "date-time"):
            base = name.rstrip("<>")
            op = name[len(base) :]
            day, _ = _date(name, value)
            fld = snake(base)
            if op == ">":
                q.dates.append(DateCond(fld, lo=day * DAY))
            elif op == "<":
                q.dates.append(DateCond(fld, hi=(day if name in STRICT_BEFORE else day + 1) * DAY))
            else:
                q.dates.append(DateCond(fld, lo=day * DAY, hi=(day + 1) * DAY))
            too_old = day < clock_ts // DAY - MESSAGE_RETENTION_DAYS
            if resource in ("messages", "message_media") and op != "<" and too_old:
                raise bad_request(
                    20004,
                    "Date range specified in query is partially or entirely outside of "
                    "retention window of 400 days",
                )
            continue
        q.eq.append((snake(name), value))
    return q
