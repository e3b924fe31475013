"""The days a run reads: `start_date`, `end_date` and `last_n_days` as people type them
(read with pendulum), a partition's window (from its bookmark less the lookback), and the
ranges of whole days the window is cut into and a stopped run keeps (pendulum's days too).

Every check here raises `SettingError` with one line that names the setting and what was
expected, so a user sees what to fix without a stack trace.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pendulum

LAST_N_DAYS_PATTERN = re.compile(r"^\s*([0-9]+)\s*(days?)?\s*$", re.IGNORECASE)


class SettingError(ValueError):
    """A setting has a value the tap cannot use; the message is one line for the user."""


def shown(value: Any) -> str:
    """A setting's value as the user wrote it: numbers bare (JSON's 2.5 arrives as a
    Decimal), strings quoted."""
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return str(value)
    return repr(value)


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise SettingError(message)


def parse_last_n_days(value: str | int) -> int:
    """`30`, `30Day`, `30Days` (any case) -> 30."""
    match = LAST_N_DAYS_PATTERN.match(str(value))
    if not match or int(match.group(1)) < 1:
        raise SettingError(
            f"last_n_days: got {shown(value)}, expected a positive number of days such as "
            "'30', '30Day' or '30Days'"
        )
    return int(match.group(1))


def parse_date_setting(name: str, value: str) -> pendulum.DateTime:
    """An ISO 8601 date or date-time setting, in UTC (a date or a time without an offset
    is taken as UTC)."""
    try:
        parsed = pendulum.parse(str(value), tz="UTC")
    except (ValueError, TypeError):  # pendulum's ParserError is a ValueError
        parsed = None
    if not isinstance(parsed, pendulum.DateTime):  # a bare time or a duration
        raise SettingError(
            f"{name}: got {value!r}, expected an ISO 8601 date such as '2024-01-31' or "
            "'2024-01-31T00:00:00Z'"
        )
    return parsed.in_timezone("UTC")


def today_utc() -> dt.date:
    """Today's date in UTC, the calendar Twilio's day filters use."""
    return pendulum.today("UTC").date()


def configured_start(config: Mapping[str, Any], today: dt.date) -> dt.date | None:
    """The first day to read: the later of `last_n_days` back from today and `start_date`."""
    starts = []
    if config.get("last_n_days") is not None:
        days = parse_last_n_days(config["last_n_days"])
        starts.append(pendulum.Date(today.year, today.month, today.day).subtract(days=days))
    if config.get("start_date"):
        starts.append(parse_date_setting("start_date", config["start_date"]).date())
    return max(starts) if starts else None


def configured_end(config: Mapping[str, Any]) -> dt.date | None:
    """The last day to read, if the user bounded the window."""
    if config.get("end_date"):
        return parse_date_setting("end_date", config["end_date"]).date()
    return None


@dataclass(frozen=True)
class Window:
    """First and last day to read (None: unbounded), and whether `last_n_days` set the first:
    then it always reaches Twilio as the date filter, as its documentation says, even where
    one unfiltered page would do."""

    start: dt.date | None
    end: dt.date | None
    by_last_n_days: bool = False


def reading_window(
    config: Mapping[str, Any], bookmark: dt.date | None, lookback: dt.timedelta,
    today: dt.date,
) -> Window:
    """The settings' window, started at the bookmark less the lookback when there is one."""
    start = configured_start(config, today)
    if bookmark is not None:
        resume = bookmark - lookback
        start = max(start, resume) if start else resume
    days = config.get("last_n_days")
    by_option = days is not None and start == today - dt.timedelta(days=parse_last_n_days(days))
    return Window(start, configured_end(config), by_option)


# --- ranges of whole days -------------------------------------------------------------------

DayRange = tuple[dt.date, dt.date]  # first and last day, both read


def as_day(day: dt.date) -> pendulum.Date:
    return pendulum.Date(day.year, day.month, day.day)


def days_between(first: dt.date, last: dt.date) -> list[dt.date]:
    """Every day of [first, last], oldest first."""
    return [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]


def days_in(first: dt.date, last: dt.date) -> int:
    return as_day(first).diff(as_day(last)).in_days() + 1


def date_slices(first: dt.date, last: dt.date, count: int) -> list[DayRange]:
    """[first, last] cut into at most `count` contiguous whole-day ranges, oldest first."""
    days = days_in(first, last)
    count = max(1, min(count, days))
    bounds = [as_day(first).add(days=days * i // count) for i in range(count + 1)]
    return [(bounds[i], bounds[i + 1].subtract(days=1)) for i in range(count)]


def merge_days(ranges: list[DayRange]) -> list[DayRange]:
    """Day ranges as the fewest ranges covering the same days (overlapping or adjacent
    ranges joined), oldest first."""
    merged: list[DayRange] = []
    for first, last in sorted(ranges):
        if merged and first <= as_day(merged[-1][1]).add(days=1):
            merged[-1] = (merged[-1][0], max(merged[-1][1], last))
        else:
            merged.append((first, last))
    return merged


def days_left(first: dt.date, last: dt.date, done: list[DayRange]) -> list[DayRange]:
    """The days of [first, last] in none of the `done` ranges, as ranges."""
    left: list[DayRange] = []
    day = first
    for a, b in merge_days(done):
        if b < day:
            continue
        if a > last:
            break
        if a > day:
            left.append((day, as_day(a).subtract(days=1)))
        day = max(day, as_day(b).add(days=1))
    if day <= last:
        left.append((day, last))
    return left
