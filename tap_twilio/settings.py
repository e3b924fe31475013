"""The tap's settings: their declaration, their validation and what they mean for a request.

Every check here raises `SettingError` with one line that names the setting and what was
expected, so a user sees what to fix without a stack trace.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from singer_sdk import typing as th

from tap_twilio.twilio.lists import USAGE_PERIODS
from tap_twilio.twilio.window import (
    SettingError,
    configured_end,
    configured_start,
    expect,
    parse_date_setting,
    parse_last_n_days,
    shown,
)

__all__ = ["SettingError", "configured_end", "configured_start", "expect", "parse_date_setting",
           "parse_last_n_days", "shown"]

# Patterns of the JSON Schema (Python's `re`, as jsonschema applies them).
SID_PATTERN = r"^AC[0-9a-fA-F]{32}$"
API_KEY_PATTERN = r"^SK[0-9a-fA-F]{32}$"
PHONE_PATTERN = r"^\+[1-9][0-9]{1,14}$"
HOST_LABEL_PATTERN = r"^[a-z0-9][a-z0-9-]*$"
URL_PATTERN = r"^https?://"
LAST_N_DAYS_TEXT = r"^\s*0*[1-9][0-9]*\s*([dD][aA][yY][sS]?)?\s*$"
LOG_LEVEL_TEXT = r"^([eE][rR][rR][oO][rR]|[wW][aA][rR][nN][iI][nN][gG]|0|1)$"
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
USAGE_GRANULARITIES = USAGE_PERIODS  # the setting's values -> the list's period
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
# JSON Schema applies `pattern` to strings only, the bounds and `multipleOf` to numbers only.
def string_or_number(text_pattern: str, **bounds: int) -> th.CustomType:
    return th.CustomType({"type": ["string", "number"], "pattern": text_pattern,
                          "multipleOf": 1, **bounds})


CONFIG_SCHEMA = th.PropertiesList(
    th.Property(
        "account_sid",
        th.StringType(pattern=SID_PATTERN),
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
        th.StringType(pattern=API_KEY_PATTERN),
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
        th.ArrayType(th.StringType(pattern=SID_PATTERN)),
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
        th.StringType(pattern=PHONE_PATTERN),
        description="Only calls and messages sent to this phone number (E.164, e.g. "
        "`+15558675310`), sent as `To`.",
    ),
    th.Property(
        "from",
        th.StringType(pattern=PHONE_PATTERN),
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
        string_or_number(LAST_N_DAYS_TEXT, minimum=1),
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
        th.IntegerType(minimum=0, maximum=400),
        default=DEFAULT_LOOKBACK_DAYS,
        description="Days re-read before each incremental bookmark, to pick up records "
        "Twilio changed after they were first read (message status, call price).",
    ),
    th.Property(
        "log",
        string_or_number(LOG_LEVEL_TEXT, minimum=0, maximum=1),
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
        th.StringType(pattern=HOST_LABEL_PATTERN),
        description="Twilio region to reach every API in, e.g. `ie1` or `au1` (hosts "
        "`{product}.{edge}.{region}.twilio.com`, as Twilio's own clients take it).",
        examples=["ie1", "au1"],
    ),
    th.Property(
        "edge",
        th.StringType(pattern=HOST_LABEL_PATTERN),
        description="Twilio edge location, e.g. `dublin` or `sydney` (with no `region`, "
        "Twilio's `us1`).",
        examples=["dublin", "sydney"],
    ),
    th.Property(
        "base_url",
        th.StringType(pattern=URL_PATTERN),
        description="One URL every Twilio host is reached through (a proxy, the project's "
        "emulator): `https://studio.twilio.com/v2/Flows` is asked as "
        "`{base_url}/studio.twilio.com/v2/Flows`, and the links Twilio returns are followed "
        "through it.",
        examples=["http://127.0.0.1:8080"],
    ),
    th.Property(
        "page_size",
        th.IntegerType(minimum=1, maximum=MAX_PAGE_SIZE),
        default=MAX_PAGE_SIZE,
        description="Records per request, 1-1000 (`PageSize`). Larger pages are faster.",
    ),
    th.Property(
        "max_concurrency",
        th.IntegerType(minimum=1, maximum=32),
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
        "bulk_export_jobs",
        th.BooleanType,
        default=False,
        description="Ask Twilio's BulkExport for jobs exporting the days of messages, "
        "calls and conferences older than their lists' retention, and of completed "
        "conferences' participants, that have no export yet (within Twilio's "
        "366 days a day); a later run reads the days they finished. Off by default: a job "
        "is a write to the account, and Twilio e-mails its admins about each.",
    ),
    th.Property(
        "max_retries",
        th.IntegerType(minimum=0, maximum=100),
        default=8,
        description="Retries of a request that failed transiently (429, 5xx, network).",
    ),
    th.Property(
        "max_retry_seconds",
        th.IntegerType(minimum=1, maximum=86400),
        default=600,
        description="Longest total time spent retrying one request, in seconds.",
    ),
    th.Property(
        "request_timeout",
        th.IntegerType(minimum=1, maximum=3600),
        default=120,
        description="Seconds to wait for Twilio's answer to one request.",
    ),
    th.Property(
        "emit_activate_version_messages",
        th.BooleanType,
        default=False,
        description="Write ACTIVATE_VERSION, after a finished run, for each stream the run read "
        "whole, so a target that honours it deletes or marks the rows Twilio no longer lists "
        "(released numbers, deleted flows). Never for incremental streams or their children, "
        "nor for a run over only some accounts (`account_sids`, `account_name`, "
        "`account_shard`, `include_subaccounts: false`).",
    ),
    th.Property(
        "user_agent",
        th.StringType,
        description="User-Agent header sent with each request.",
    ),
).to_dict()

# What each setting the schema constrains expects, said when a value breaks the schema.
EXPECTED = {
    "account_sid": "'AC' followed by 32 hex digits",
    "api_key_sid": "'SK' followed by 32 hex digits",
    "account_sids": "Account SIDs ('AC' + 32 hex digits)",
    "to": "an E.164 phone number such as '+15558675310'",
    "from": "an E.164 phone number such as '+15558675310'",
    "status": "one of " + ", ".join(CALL_STATUSES),
    "last_n_days": "a positive number of days such as '30', '30Day' or '30Days'",
    "log": "'error' (or 0) or 'warning' (or 1)",
    "usage_records_granularity": "one of " + ", ".join(USAGE_GRANULARITIES),
    "region": "a lower-case name such as `ie1`",
    "edge": "a lower-case name such as `dublin`",
    "base_url": "a URL starting with https://",
    **{name: f"a whole number from {low} to {high}" for name, (low, high) in {
        "page_size": (1, MAX_PAGE_SIZE), "lookback_days": (0, 400), "max_concurrency": (1, 32),
        "max_retries": (0, 100), "max_retry_seconds": (1, 86400), "request_timeout": (1, 3600),
    }.items()},
}
MISSING = {"account_sid": "your Account SID ('AC' + 32 hex digits)"}


def add_flattening_default(config_schema: dict[str, Any]) -> None:
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


def parse_account_shard(value: Any) -> tuple[int, int]:
    """`"2/8"` -> (2, 8): shard 2 of 8, counted from 1."""
    match = SHARD_PATTERN.match(value) if isinstance(value, str) else None
    shard, count = (int(match.group(1)), int(match.group(2))) if match else (0, 0)
    expect(
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
