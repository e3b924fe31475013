"""Small deterministic building blocks: hashing, SIDs, Twilio date formats, value pools."""

from __future__ import annotations

import calendar
import hashlib
import time
from datetime import date, datetime, timezone
from email.utils import parsedate_to_datetime

M64 = (1 << 64) - 1
DAY = 86400

_C1 = 0x9E3779B97F4A7C15  # odd: multiplication by it is a bijection modulo 2**64
_C1_INV = pow(_C1, -1, 1 << 64)


def mix64(x: int) -> int:
    """splitmix64 finaliser: a fast, well-spread 64-bit hash of an integer."""
    x = (x + 0x9E3779B97F4A7C15) & M64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & M64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & M64
    return x ^ (x >> 31)


def key_of(*parts: object) -> int:
    """A stable 64-bit key for a tuple of names (seed, account, resource...)."""
    digest = hashlib.blake2b("\x1f".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def rnd(key: int, i: int, salt: int) -> int:
    """64-bit pseudo-random value, a pure function of (key, i, salt)."""
    return mix64(key ^ mix64((i << 8) ^ salt))


def unit(key: int, i: int, salt: int) -> float:
    """Pseudo-random float in [0, 1)."""
    return (rnd(key, i, salt) >> 11) * (1.0 / (1 << 53))


def hex32(key: int, i: int, salt: int = 0) -> str:
    return f"{rnd(key, i, salt ^ 0x51):016x}{rnd(key, i, salt ^ 0xA7):016x}"


class SidCodec:
    """Reversible index <-> 32-hex SID body, so a SID can be resolved back to its record."""

    def __init__(self, key: int) -> None:
        self.k1 = mix64(key ^ 0x1234)
        self.k2 = mix64(key ^ 0x5678)

    def encode(self, i: int) -> str:
        m = (i * _C1 + self.k1) & M64
        return f"{mix64(m ^ self.k2):016x}{m:016x}"

    def decode(self, body: str) -> int | None:
        if len(body) != 32:
            return None
        try:
            m = int(body[16:], 16)
        except ValueError:
            return None
        if f"{mix64(m ^ self.k2):016x}" != body[:16].lower():
            return None
        return ((m - self.k1) * _C1_INV) & M64


# --- dates -------------------------------------------------------------------------------

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MONTH_NUM = {m: n for n, m in enumerate(_MONTHS, 1)}


def rfc2822(ts: int | None) -> str | None:
    """Epoch seconds -> Twilio 2010 API date, e.g. 'Tue, 31 Aug 2010 20:36:28 +0000'."""
    if ts is None:
        return None
    t = time.gmtime(ts)
    return (
        f"{_DAYS[t.tm_wday]}, {t.tm_mday:02d} {_MONTHS[t.tm_mon - 1]} {t.tm_year} "
        f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} +0000"
    )


def iso8601(ts: int | None) -> str | None:
    """Epoch seconds -> Monitor v1 date, e.g. '2015-07-30T20:00:00Z'."""
    if ts is None:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def iso_date(day: int) -> str:
    """Day number (days since 1970-01-01) -> 'YYYY-MM-DD'."""
    return date_of_day(day).isoformat()


def date_of_day(day: int) -> date:
    """Day number (days since 1970-01-01) -> its date."""
    return date.fromordinal(day + 719163)


def day_of_date(d: date) -> int:
    return d.toordinal() - 719163


def to_ts(dt: datetime) -> int:
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return int(dt.timestamp())


def parse_record_ts(value: object) -> int | None:
    """Parse a date as found in a record (RFC 2822, ISO 8601 or a datetime) to epoch seconds."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return to_ts(value)
    if isinstance(value, (int, float)):
        return int(value)
    s = str(value)
    if s.endswith(" +0000") and len(s) == 31:  # fast path for our own RFC 2822 output
        try:
            return calendar.timegm(
                (
                    int(s[12:16]),
                    _MONTH_NUM[s[8:11]],
                    int(s[5:7]),
                    int(s[17:19]),
                    int(s[20:22]),
                    int(s[23:25]),
                    0,
                    0,
                    0,
                )
            )
        except (KeyError, ValueError):
            pass
    try:
        return to_ts(parsedate_to_datetime(s))
    except (TypeError, ValueError, IndexError):
        pass
    try:
        return to_ts(datetime.fromisoformat(s.replace("Z", "+00:00")))
    except ValueError:
        return None


def parse_filter_value(value: str) -> tuple[int, int] | None:
    """A query date value -> (day number, epoch seconds). 'YYYY-MM-DD' or a full ISO timestamp.

    Returns None when the value is not a date (Twilio answers 400 / 20001).
    """
    s = value.strip()
    if len(s) == 10:
        try:
            d = date.fromisoformat(s)
        except ValueError:
            return None
        day = day_of_date(d)
        return day, day * DAY
    try:
        dt = datetime.fromisoformat(s.replace("Z", "+00:00").replace(" ", "T"))
    except ValueError:
        return None
    ts = to_ts(dt)
    return ts // DAY, ts


# --- value pools -------------------------------------------------------------------------

LONG_BODY = ("Lorem ipsum dolor sit amet, consectetur adipiscing elit. " * 40)[:1600]

MESSAGE_BODIES = (
    "Your verification code is 482913",
    "Hi! Your appointment is confirmed for tomorrow at 10:00.",
    "Thanks, see you soon",
    "STOP",
    "Your order #12345 has shipped and will arrive Thursday.",
    "Reminder: your payment of $42.00 is due on the 5th.",
    "OK",
    "Can you call me back when you get a chance?",
    'Line one\nline two\ttabbed "quoted" \\ backslash',
    "Ça marche, à demain ! Größe: 42 — ñandú",
)
EDGE_BODIES = (
    "Party time 🎉🎂🥳 see you there 👍🏽",
    "你好，世界！今天的会议改到下午三点。",  # noqa: RUF001 (CJK punctuation on purpose)
    "مرحبا بالعالم! الاجتماع غدا في الساعة العاشرة",
    "שלום עולם, זו הודעת בדיקה",
    "",
)

CUSTOMER_NAMES = ("Alice Smith", "Bob Jones", "Carol Díaz", "王伟", "Émile Zola", "Dana O'Neil")


def phone(n: int) -> str:
    """A US E.164 number in the fictional 555-01xx range, numbered by n."""
    area = (201, 312, 415, 646, 718, 805, 917)[n % 7]
    return f"+1{area}555{(n * 37) % 10000:04d}"


def phone_formatted(number: str) -> str:
    if number.startswith("+1") and len(number) == 12:
        return f"({number[2:5]}) {number[5:8]}-{number[8:]}"
    return number
