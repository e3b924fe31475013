"""The tap's settings: their declaration, their validation and what they mean for a request.

Every check here raises `SettingError` with one line that names the setting and what was
expected, so a user sees what to fix without a stack trace.
"""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import re
from collections.abc import Mapping
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from singer_sdk import typing as th

SID_PATTERN = re.compile(r"^AC[0-9a-fA-F]{32}$")
API_KEY_PATTERN = re.compile(r"^SK[0-9a-fA-F]{32}$")
LAST_N_DAYS_PATTERN = re.compile(r"^\s*([0-9]+)\s*(days?)?\s*$", re.IGNORECASE)
PHONE_PATTERN = re.compile(r"^\+[1-9][0-9]{1,14}$")
HOST_LABEL = re.compile(r"[a-z0-9][a-z0-9-]*")
SHARD_PATTERN = re.compile(r"^\s*([0-9]+)\s*/\s*([0-9]+)\s*$")
CALL_STATUSES = (
    "queued",
    "ringing",
    "in-progress",
    "completed",
    "busy",
    "failed",
    "no-answer",
    "canceled",
)
LOG_LEVELS = {"error": "0", "0": "0", "warning": "1", "1": "1"}
USAGE_GRANULARITIES = {
    "daily": "Daily",
    "monthly": "Monthly",
    "yearly": "Yearly",
    "all_time": "AllTime",
}
# Twilio's usage categories: the enum of `Category` in the 2010 API spec until Twilio made
# it a free string (2025-09, as categories keep being added). One per line.
USAGE_CATEGORIES_FILE = Path(__file__).with_name("usage_categories.txt")
MAX_PAGE_SIZE = 1000
DEFAULT_LOOKBACK_DAYS = 3
# Flattening needs a depth (the SDK refuses `flattening_enabled` without one). The only
# nested fields the schemas declare are one level deep (`capabilities`), so 1 flattens them.
DEFAULT_FLATTENING_MAX_DEPTH = 1
# A setting a user may give as a JSON number or a string (`30` or "30Days", `0` or "error").
# Not "integer": the SDK would then parse its environment variable as a number, and
# TAP_TWILIO_LAST_N_DAYS=30Days would fail before the tap could say what it expects.
STRING_OR_NUMBER = th.CustomType({"type": ["string", "number"]})


class SettingError(ValueError):
    """A setting has a value the tap cannot use; the message is one line for the user."""


CONFIG_SCHEMA = th.PropertiesList(
    th.Property(
        "account_sid",
        th.StringType,
        required=True,
        description="Account SID of the main account: `AC` followed by 32 hex digits.",
        examples=["AC0123456789abcdef0123456789abcdef"],
    ),
    th.Property(
        "auth_token",
        th.StringType,
        secret=True,
        description="Auth Token of the account. Give either this, or `api_key_sid` and "
        "`api_key_secret`.",
    ),
    th.Property(
        "api_key_sid",
        th.StringType,
        description="API key SID (`SK` + 32 hex digits), used with `api_key_secret` "
        "instead of the Auth Token.",
    ),
    th.Property(
        "api_key_secret",
        th.StringType,
        secret=True,
        description="Secret of the API key named by `api_key_sid`.",
    ),
    th.Property(
        "account_name",
        th.StringType,
        description="Read only the account (main or subaccount) with this friendly name "
        "(Twilio's `FriendlyName`).",
    ),
    th.Property(
        "include_subaccounts",
        th.BooleanType,
        default=True,
        description="Read the subaccounts of `account_sid` as well as the account itself.",
    ),
    th.Property(
        "account_sids",
        th.ArrayType(th.StringType),
        description="Read only these accounts (SIDs of the main account or its "
        "subaccounts), e.g. to fan out one run per account.",
    ),
    th.Property(
        "account_shard",
        th.StringType,
        description="Read one shard of the accounts in scope: `K/N` (e.g. `2/8`) is shard K "
        "of N, by a stable hash of each account SID. N runs with `1/N` ... `N/N` read every "
        "account once; each keeps its own state.",
        examples=["1/4", "2/4"],
    ),
    th.Property(
        "to",
        th.StringType,
        description="Only calls and messages sent to this phone number (E.164, e.g. "
        "`+15558675310`), sent as `To`.",
    ),
    th.Property(
        "from",
        th.StringType,
        description="Only calls and messages sent from this phone number (E.164), sent "
        "as `From`.",
    ),
    th.Property(
        "status",
        th.StringType,
        allowed_values=list(CALL_STATUSES),
        description="Only calls with this status, sent as `Status`.",
    ),
    th.Property(
        "last_n_days",
        STRING_OR_NUMBER,
        description="How far back to read: `30` (a number or a string), `30Day` or `30Days` "
        "(any case). Becomes each stream's server-side date filter.",
    ),
    th.Property(
        "start_date",
        th.DateTimeType,
        description="Read records from this date on (ISO 8601). With `last_n_days` as "
        "well, the later start wins.",
    ),
    th.Property(
        "end_date",
        th.DateTimeType,
        description="Read records up to this date (ISO 8601), inclusive of the day.",
    ),
    th.Property(
        "lookback_days",
        th.IntegerType,
        default=DEFAULT_LOOKBACK_DAYS,
        description="Days re-read before each incremental bookmark, to pick up records "
        "Twilio changed after they were first read (message status, call price).",
    ),
    th.Property(
        "log",
        STRING_OR_NUMBER,
        description="Notifications log level: `error` (or `0`) or `warning` (or `1`), "
        "sent as `Log`.",
    ),
    th.Property(
        "category",
        th.StringType,
        description="Usage record category, e.g. `calls`, `sms`, `totalprice`, sent as "
        "`Category`.",
    ),
    th.Property(
        "usage_records_granularity",
        th.StringType,
        default="daily",
        allowed_values=list(USAGE_GRANULARITIES),
        description="Usage records per `daily`, `monthly`, `yearly` period or `all_time`.",
    ),
    th.Property(
        "region",
        th.StringType,
        description="Twilio region to reach every API in, e.g. `ie1` or `au1` (hosts "
        "`{product}.{edge}.{region}.twilio.com`, as Twilio's own clients take it).",
        examples=["ie1", "au1"],
    ),
    th.Property(
        "edge",
        th.StringType,
        description="Twilio edge location, e.g. `dublin` or `sydney` (with no `region`, "
        "Twilio's `us1`).",
        examples=["dublin", "sydney"],
    ),
    th.Property(
        "base_url",
        th.StringType,
        description="One URL every Twilio host is reached through (a proxy, the project's "
        "emulator): `https://studio.twilio.com/v2/Flows` is asked as "
        "`{base_url}/studio.twilio.com/v2/Flows`, and the links Twilio returns are followed "
        "through it.",
        examples=["http://127.0.0.1:8080"],
    ),
    th.Property(
        "page_size",
        th.IntegerType,
        default=MAX_PAGE_SIZE,
        description="Records per request, 1-1000 (`PageSize`). Larger pages are faster.",
    ),
    th.Property(
        "max_concurrency",
        th.IntegerType,
        default=8,
        description="Requests in flight at once per stream (date slices, or parts of a full "
        "history, read in parallel), and lists of the next accounts read ahead; at most this "
        "many per account, fewer for a while after Twilio answers 429.",
    ),
    th.Property(
        "seek_with_page_tokens",
        th.BooleanType,
        default=True,
        description="Read a long full history of calls or messages from several places at "
        "once: walks start after records found by date probes (`PageToken=PA<SID>`), each "
        "proven to land right after its record before it is used. `false` follows only the "
        "page links Twilio returns (one walk per list).",
    ),
    th.Property(
        "max_retries",
        th.IntegerType,
        default=8,
        description="Retries of a request that failed transiently (429, 5xx, network).",
    ),
    th.Property(
        "max_retry_seconds",
        th.IntegerType,
        default=600,
        description="Longest total time spent retrying one request, in seconds.",
    ),
    th.Property(
        "request_timeout",
        th.IntegerType,
        default=120,
        description="Seconds to wait for Twilio's answer to one request.",
    ),
    th.Property(
        "user_agent",
        th.StringType,
        description="User-Agent header sent with each request.",
    ),
).to_dict()


def add_flattening_default(config_schema: dict) -> None:
    """Give the SDK's `flattening_max_depth` setting a default, so that
    `flattening_enabled: true` alone flattens (the SDK would refuse it without a depth)."""
    properties = config_schema["properties"]
    properties["flattening_max_depth"] = {
        **properties["flattening_max_depth"],
        "default": DEFAULT_FLATTENING_MAX_DEPTH,
        "description": "The max depth to flatten schemas. The default flattens the nested "
        "fields the schemas declare (`capabilities__voice`, ...); objects of free-form keys "
        "(`subresource_uris`) stay JSON text.",
    }


def parse_last_n_days(value: str | int) -> int:
    """`30`, `30Day`, `30Days` (any case) -> 30."""
    match = LAST_N_DAYS_PATTERN.match(str(value))
    if not match or int(match.group(1)) < 1:
        raise SettingError(
            f"last_n_days: got {shown(value)}, expected a positive number of days such as "
            "'30', '30Day' or '30Days'"
        )
    return int(match.group(1))


def parse_account_shard(value: Any) -> tuple[int, int]:
    """`"2/8"` -> (2, 8): shard 2 of 8, counted from 1."""
    match = SHARD_PATTERN.match(value) if isinstance(value, str) else None
    shard, count = (int(match.group(1)), int(match.group(2))) if match else (0, 0)
    _expect(
        1 <= shard <= count,
        f'account_shard: expected "K/N" with 1 <= K <= N, got {value!r}',
    )
    return shard, count


def account_shard_of(account_sid: str, count: int) -> int:
    """The shard (1 to `count`) an account belongs to: the first 8 bytes of the SHA-256 of
    its SID, modulo `count`, so every run, process and machine agrees (unlike `hash()`)."""
    digest = hashlib.sha256(account_sid.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % count + 1


def in_account_shard(config: Mapping[str, Any], account_sid: str) -> bool:
    """Whether this run's `account_shard` (if any) holds the account."""
    if config.get("account_shard") is None:
        return True
    shard, count = parse_account_shard(config["account_shard"])
    return account_shard_of(account_sid, count) == shard


def parse_date_setting(name: str, value: str) -> dt.datetime:
    """An ISO 8601 date or date-time setting, as an aware UTC datetime."""
    try:
        parsed = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise SettingError(
            f"{name}: got {value!r}, expected an ISO 8601 date such as '2024-01-31' or "
            "'2024-01-31T00:00:00Z'"
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.timezone.utc)
    return parsed.astimezone(dt.timezone.utc)


def shown(value: Any) -> str:
    """A setting's value as the user wrote it: numbers bare (JSON's 2.5 arrives as a
    Decimal), strings quoted."""
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return str(value)
    return repr(value)


# A category this close to a known one is a misspelling of it; a longer difference may be
# a category newer than the list ("voice-intelligence-minutes" beside "voice-intelligence").
MISSPELT_LETTERS = 2


@cache
def usage_categories() -> frozenset[str]:
    return frozenset(USAGE_CATEGORIES_FILE.read_text(encoding="utf-8").split())


def check_category(value: Any) -> str | None:
    """`SettingError` for a category that cannot be meant (another case or a misspelling of
    one Twilio lists); a warning for one not listed, which may be newer than the list."""
    category = str(value)
    known = usage_categories()
    if category in known:
        return None
    if category.lower() in known:
        raise SettingError(
            f"category: got {category!r}, expected Twilio's usage category in lower case: "
            f"{category.lower()!r}"
        )
    close = difflib.get_close_matches(category.lower(), known, n=1, cutoff=0.8)
    if close and abs(len(close[0]) - len(category)) <= MISSPELT_LETTERS:
        raise SettingError(
            f"category: got {category!r}, not a Twilio usage category; did you mean "
            f"{close[0]!r}?"
        )
    closest = f"; the closest known is {close[0]!r}" if close else " (e.g. calls, sms, totalprice)"
    return (
        f"category: {category!r} is not among the {len(known)} usage categories tap-twilio "
        f"knows{closest}. It is sent as it is; usage_records stays empty if Twilio has no "
        "such category"
    )


def check_start_not_in_future(start: dt.datetime, written: Any) -> None:
    """A start after today matches nothing: certainly a mistake (a wrong year or format)."""
    today = dt.datetime.now(dt.timezone.utc).date()
    _expect(
        start.date() <= today,
        f"start_date: got {written!r}, a day after today ({today.isoformat()} UTC); no "
        "record can match it",
    )


def settings_warnings(config: Mapping[str, Any]) -> list[str]:
    """What may be a mistake in settings that passed `validate_settings`, one line each."""
    warnings = []
    if config.get("category") is not None:
        warning = check_category(config["category"])
        if warning:
            warnings.append(warning)
    return warnings


def _expect(condition: bool, message: str) -> None:
    if not condition:
        raise SettingError(message)


def _check_int(config: Mapping[str, Any], name: str, low: int, high: int) -> None:
    value = config.get(name)
    if value is None:
        return
    _expect(
        isinstance(value, int) and not isinstance(value, bool) and low <= value <= high,
        f"{name}: got {shown(value)}, "
        f"expected a whole number from {low} to {high}",
    )


def validate_settings(config: Mapping[str, Any]) -> None:
    """Check every setting the tap reads; raise `SettingError` on the first bad one."""
    sid = config.get("account_sid")
    _expect(bool(sid), "account_sid: missing, expected your Account SID ('AC' + 32 hex digits)")
    _expect(
        isinstance(sid, str) and bool(SID_PATTERN.match(sid)),
        f"account_sid: got {sid!r}, expected 'AC' followed by 32 hex digits",
    )
    key_sid, key_secret = config.get("api_key_sid"), config.get("api_key_secret")
    if key_sid or key_secret:
        _expect(
            bool(key_sid and key_secret),
            "api_key_sid / api_key_secret: give both, or neither and use auth_token",
        )
        _expect(
            bool(API_KEY_PATTERN.match(str(key_sid))),
            f"api_key_sid: got {key_sid!r}, expected 'SK' followed by 32 hex digits",
        )
    else:
        _expect(
            bool(config.get("auth_token")),
            "auth_token: missing, expected the Auth Token (or api_key_sid and api_key_secret)",
        )
    for sid_item in config.get("account_sids") or []:
        _expect(
            isinstance(sid_item, str) and bool(SID_PATTERN.match(sid_item)),
            f"account_sids: got {sid_item!r}, expected Account SIDs ('AC' + 32 hex digits)",
        )
    if config.get("account_shard") is not None:
        parse_account_shard(config["account_shard"])
    for name in ("to", "from"):
        value = config.get(name)
        if value is not None:
            _expect(
                isinstance(value, str) and bool(PHONE_PATTERN.match(value)),
                f"{name}: got {value!r}, expected an E.164 phone number such as '+15558675310'",
            )
    status = config.get("status")
    if status is not None:
        _expect(
            status in CALL_STATUSES,
            f"status: got {status!r}, expected one of {', '.join(CALL_STATUSES)}",
        )
    log = config.get("log")
    if log is not None:
        _expect(
            str(log).lower() in LOG_LEVELS,
            f"log: got {shown(log)}, expected 'error' (or 0) or 'warning' (or 1)",
        )
    if config.get("category") is not None:
        check_category(config["category"])  # its warning is given by settings_warnings
    granularity = config.get("usage_records_granularity")
    if granularity is not None:
        _expect(
            granularity in USAGE_GRANULARITIES,
            f"usage_records_granularity: got {granularity!r}, expected one of "
            f"{', '.join(USAGE_GRANULARITIES)}",
        )
    if config.get("last_n_days") is not None:
        parse_last_n_days(config["last_n_days"])
    start = end = None
    if config.get("start_date"):
        start = parse_date_setting("start_date", config["start_date"])
        check_start_not_in_future(start, config["start_date"])
    if config.get("end_date"):
        end = parse_date_setting("end_date", config["end_date"])
    if start and end:
        _expect(start <= end, "end_date: must not be before start_date")
    _check_int(config, "page_size", 1, MAX_PAGE_SIZE)
    _check_int(config, "lookback_days", 0, 400)
    _check_int(config, "max_concurrency", 1, 32)
    _check_int(config, "max_retries", 0, 100)
    _check_int(config, "max_retry_seconds", 1, 86400)
    _check_int(config, "request_timeout", 1, 3600)
    url = config.get("base_url")
    if url is not None:
        _expect(
            isinstance(url, str) and url.startswith(("http://", "https://")),
            f"base_url: got {url!r}, expected a URL starting with https://",
        )
    for name in ("region", "edge"):
        value = config.get(name)
        if value is not None:
            _expect(
                isinstance(value, str) and HOST_LABEL.fullmatch(value) is not None,
                f"{name}: got {value!r}, expected a lower-case name such as "
                + ("`ie1`" if name == "region" else "`dublin`"),
            )


def configured_start(config: Mapping[str, Any], today: dt.date) -> dt.date | None:
    """The first day to read: the later of `last_n_days` back from today and `start_date`."""
    starts = []
    if config.get("last_n_days") is not None:
        starts.append(today - dt.timedelta(days=parse_last_n_days(config["last_n_days"])))
    if config.get("start_date"):
        starts.append(parse_date_setting("start_date", config["start_date"]).date())
    return max(starts) if starts else None


def configured_end(config: Mapping[str, Any]) -> dt.date | None:
    """The last day to read, if the user bounded the window."""
    if config.get("end_date"):
        return parse_date_setting("end_date", config["end_date"]).date()
    return None


def log_level_param(value: str | int) -> str:
    """The `Log` query value for a `log` setting."""
    return LOG_LEVELS[str(value).lower()]
