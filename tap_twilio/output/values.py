"""Twilio's values as the tap writes them: dates and date-times (RFC 2822 of the 2010 API,
ISO 8601 of the newer APIs) to RFC 3339 in UTC, exact decimals, integers. Each converter
raises ValueError for a value that does not parse (see transform.py, which names the
field)."""

from __future__ import annotations

import math
import re
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from email.utils import parsedate_tz
from typing import Any, cast

_UTC = timezone.utc


# ---------------------------------------------------------------------------------------------
# date-time
# ---------------------------------------------------------------------------------------------

MONTHS = {
    name: f"{number:02d}"
    for number, name in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1
    )
}
_DAYS_IN_MONTH = {
    "01": "31",
    "02": "29",
    "03": "31",
    "04": "30",
    "05": "31",
    "06": "30",
    "07": "31",
    "08": "31",
    "09": "30",
    "10": "31",
    "11": "30",
    "12": "31",
}
# Twilio's own layout, "Tue, 31 Aug 2010 20:36:28 +0000": one regex does the whole validation
# except the day-of-month range, faster than email.utils + datetime.
RFC2822_TWILIO = re.compile(
    r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), (\d\d) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
    r"(\d{4}) ((?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d) ([+-](?:[01]\d|2[0-3])[0-5]\d|GMT|UTC?|Z)\Z",
    re.ASCII,
)
# The rest of Twilio's usual layout after its 17-character day part ("Tue, 31 Aug 2010 "):
# a valid clock in UTC. The transformer checks this and looks the day part up (it repeats).
CLOCK_UTC = re.compile(r"(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d \+0000\Z", re.ASCII)
DAY_PART = 17
# RFC 2822 zones that mean UTC ("-0000": UTC, local zone unknown).
_UTC_ZONES = frozenset(("+0000", "-0000", "GMT", "UT", "UTC", "Z"))
# Zone names `email.utils.parsedate_tz` understands; anything else it silently reads as UTC.
_NAMED_ZONES = frozenset(
    ("UT", "UTC", "GMT", "Z", "AST", "ADT", "EST", "EDT", "CST", "CDT", "MST", "MDT", "PST", "PDT")
)
_NUMERIC_ZONE = re.compile(r"[+-]\d{4}\Z", re.ASCII)
_ISO_DATETIME = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?"
    r"(?:([Zz])|([+-])(\d{2}):?(\d{2}))?\Z",
    re.ASCII,
)


def _rfc2822_twilio(match: re.Match[str]) -> str:
    day, name, year, clock, zone = match.groups()
    month = MONTHS[name]
    if not ("01" <= day <= "28" or valid_day(year, month, day)):
        raise ValueError(f"no day {day} in {year}-{month}")
    if zone in _UTC_ZONES:
        return year + "-" + month + "-" + day + "T" + clock + "+00:00"
    moment = datetime(
        int(year), int(month), int(day), int(clock[:2]), int(clock[3:5]), int(clock[6:])
    )
    offset = timedelta(hours=int(zone[1:3]), minutes=int(zone[3:5]))
    moment = moment - offset if zone[0] == "+" else moment + offset
    return moment.isoformat() + "+00:00"


def valid_day(year: str, month: str, day: str) -> bool:
    if day < "01" or day > _DAYS_IN_MONTH[month]:
        return False
    if month == "02" and day == "29":
        y = int(year)
        return y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)
    return True


def _rfc2822_general(value: str) -> str:
    """Any RFC 2822 date-time (single-digit day, no weekday, named zones), via the stdlib."""
    parsed = parsedate_tz(value)
    zone = value.rsplit(None, 1)[-1] if parsed is not None else ""
    if parsed is None or not (zone.upper() in _NAMED_ZONES or _NUMERIC_ZONE.match(zone)):
        raise ValueError(f"{value!r} is not an RFC 2822 or ISO 8601 date-time")
    year, month, day, hour, minute, second = parsed[:6]
    offset = parsed[9] or 0
    if second == 60:  # leap second: RFC 2822 allows it, datetime does not
        second = 59
    moment = datetime(year, month, day, hour, minute, second) - timedelta(seconds=offset)
    return moment.isoformat() + "+00:00"


def _iso8601(match: re.Match[str]) -> str:
    year, month, day, hour, minute, second, fraction, zulu, sign, off_h, off_m = match.groups()
    if (
        fraction is None
        and second is not None
        and (zulu is not None or (off_h == "00" and off_m == "00"))
        and "01" <= month <= "12"
        and ("01" <= day <= "28" or valid_day(year, month, day))
        and hour < "24"
        and minute < "60"
        and second < "60"
    ):
        # Already UTC, whole seconds (Monitor's "2015-07-30T20:00:00Z"): build the text directly.
        return year + "-" + month + "-" + day + "T" + hour + ":" + minute + ":" + second + "+00:00"
    micro = int(fraction[:6].ljust(6, "0")) if fraction else 0  # digits beyond µs truncated
    moment = datetime(
        int(year), int(month), int(day), int(hour), int(minute), int(second or 0), micro
    )
    # No zone: Twilio documents all timestamps as GMT, so a bare time is read as UTC.
    if sign is not None:
        if off_h > "23" or off_m > "59":
            raise ValueError(f"bad UTC offset {sign}{off_h}:{off_m}")
        offset = timedelta(hours=int(off_h), minutes=int(off_m))
        moment = moment - offset if sign == "+" else moment + offset
    return moment.isoformat() + "+00:00"


def to_rfc3339(value: str | None) -> str | None:
    """RFC 2822 or ISO 8601 date-time → RFC 3339 UTC text; None and ``""`` → None.

    ``"Tue, 31 Aug 2010 20:36:28 +0000"`` → ``"2010-08-31T20:36:28+00:00"``;
    ``"2015-07-30T20:00:00.25-01:00"`` → ``"2015-07-30T21:00:00.250000+00:00"``.
    Raises ValueError for anything else.
    """
    if value is None or value == "":
        return None
    if type(value) is not str:
        if isinstance(value, datetime) and value.tzinfo is not None:
            return value.astimezone(_UTC).replace(tzinfo=None).isoformat() + "+00:00"
        raise ValueError(f"{value!r} is not a date-time string")
    try:
        match = RFC2822_TWILIO.match(value)
        if match is not None:
            return _rfc2822_twilio(match)
        match = _ISO_DATETIME.match(value)
        if match is not None:
            return _iso8601(match)
        return _rfc2822_general(value)
    except (ValueError, OverflowError) as exc:  # e.g. day 31 of February
        raise ValueError(f"{value!r} is not a valid RFC 2822 or ISO 8601 date-time") from exc


# ---------------------------------------------------------------------------------------------
# date, decimal, integer
# ---------------------------------------------------------------------------------------------


def to_date(value: str | None) -> str | None:
    """``YYYY-MM-DD`` validated and returned unchanged; None and ``""`` → None."""
    if value is None or value == "":
        return None
    if (
        type(value) is str
        and len(value) == 10
        and value[4] == "-"
        and value[7] == "-"
        and value.isascii()
    ):
        try:
            date.fromisoformat(value)
        except ValueError:
            pass
        else:
            return value
    raise ValueError(f"{value!r} is not a YYYY-MM-DD date")


def to_decimal(value: Any) -> Decimal | None:
    """Exact decimal: ``"-0.00750"`` → ``Decimal("-0.00750")``; None and ``""`` → None.

    Accepts decimal strings, int, Decimal (what the SDK's JSON parsing yields) and float (via its
    shortest repr, never its binary value). NaN, infinities, booleans and junk raise ValueError.
    """
    if value is None or value == "":
        return None
    kind = type(value)
    if kind is str:
        try:
            result = Decimal(value)
        except InvalidOperation:
            result = None
        # Decimal() also accepts "1_000", non-ASCII digits, "NaN" and "Infinity": not JSON numbers.
        if result is not None and result.is_finite() and value.isascii() and "_" not in value:
            return result
    elif kind is Decimal:
        if value.is_finite():
            return cast(Decimal, value)
    elif kind is int:
        return Decimal(value)
    elif kind is float and math.isfinite(value):
        return Decimal(repr(value))
    raise ValueError(f"{value!r} is not a decimal number")


def to_integer(value: Any) -> int | None:
    """Whole number: ``"42"`` → 42, ``"4.0"`` → 4; None and ``""`` → None; ``"4.5"`` raises."""
    if value is None or value == "":
        return None
    kind = type(value)
    if kind is int:
        return cast(int, value)
    if kind is str:
        if value.isascii() and "_" not in value:
            try:
                return int(value)
            except ValueError:
                pass
            try:
                number = Decimal(value)
            except InvalidOperation:
                number = None
            if number is not None and number.is_finite() and number == number.to_integral_value():
                return int(number)
    elif kind is Decimal:
        if value.is_finite() and value == value.to_integral_value():
            return int(value)
    elif kind is float and value.is_integer():
        return int(value)
    raise ValueError(f"{value!r} is not an integer")
