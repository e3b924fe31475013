"""Checks of the settings: each raises `SettingError` with one line that names the setting
and what was expected, or returns a warning where the value may be meant (Twilio adds usage
categories). The settings themselves are declared in `settings.py`.
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Collection, Mapping
from functools import cache
from typing import Any

from tap_twilio.settings import (
    API_KEY_PATTERN,
    CALL_STATUSES,
    HOST_LABEL,
    LOG_LEVELS,
    MAX_PAGE_SIZE,
    PHONE_PATTERN,
    SID_PATTERN,
    USAGE_CATEGORIES_FILE,
    USAGE_GRANULARITIES,
    SettingError,
    expect,
    parse_account_shard,
    parse_date_setting,
    parse_last_n_days,
    shown,
)

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
    expect(
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


def unknown_settings(config: Mapping[str, Any], known: Collection[str]) -> str | None:
    """One warning naming every setting not in `known` (the tap's and the SDK's), each with
    the known one likely meant: a misspelt setting is otherwise ignored without a word."""
    unknown = sorted(name for name in config if name not in known)
    if not unknown:
        return None
    named = []
    for name in unknown:
        close = difflib.get_close_matches(name.lower(), known, n=1, cutoff=0.6)
        named.append((name, close[0] if close else None))
    if len(named) == 1:
        ((name, meant),) = named
        return f"unknown setting {name}" + (f"; did you mean {meant}?" if meant else ", ignored")
    return "unknown settings, ignored: " + ", ".join(
        name + (f" (did you mean {meant}?)" if meant else "") for name, meant in named)


def unmatched_filters(
    config: Mapping[str, Any], streams: list[tuple[str, dict[str, str], int]]
) -> list[str]:
    """A line for each stream that Twilio filtered by settings and that listed nothing:
    a value that matches no record (a number in another format, a status of another list)
    looks just like an empty account otherwise. `streams`: each read stream's name, its
    options (setting -> query parameter) and the records it read."""
    lines = []
    for name, options, records in streams:
        used = [f"{setting}={shown(config[setting])}" for setting in options
                if config.get(setting) is not None]
        if used and records == 0:
            lines.append(f"{name}: no record matched {', '.join(used)} in any account read "
                         "(Twilio filters by them: check the values)")
    return lines


def _check_int(config: Mapping[str, Any], name: str, low: int, high: int) -> None:
    value = config.get(name)
    if value is None:
        return
    expect(
        isinstance(value, int) and not isinstance(value, bool) and low <= value <= high,
        f"{name}: got {shown(value)}, "
        f"expected a whole number from {low} to {high}",
    )


def validate_settings(config: Mapping[str, Any]) -> None:
    """Check every setting the tap reads; raise `SettingError` on the first bad one."""
    sid = config.get("account_sid")
    expect(bool(sid), "account_sid: missing, expected your Account SID ('AC' + 32 hex digits)")
    expect(
        isinstance(sid, str) and bool(SID_PATTERN.match(sid)),
        f"account_sid: got {sid!r}, expected 'AC' followed by 32 hex digits",
    )
    key_sid, key_secret = config.get("api_key_sid"), config.get("api_key_secret")
    if key_sid or key_secret:
        expect(
            bool(key_sid and key_secret),
            "api_key_sid / api_key_secret: give both, or neither and use auth_token",
        )
        expect(
            bool(API_KEY_PATTERN.match(str(key_sid))),
            f"api_key_sid: got {key_sid!r}, expected 'SK' followed by 32 hex digits",
        )
    else:
        expect(
            bool(config.get("auth_token")),
            "auth_token: missing, expected the Auth Token (or api_key_sid and api_key_secret)",
        )
    for sid_item in config.get("account_sids") or []:
        expect(
            isinstance(sid_item, str) and bool(SID_PATTERN.match(sid_item)),
            f"account_sids: got {sid_item!r}, expected Account SIDs ('AC' + 32 hex digits)",
        )
    if config.get("account_shard") is not None:
        parse_account_shard(config["account_shard"])
    for name in ("to", "from"):
        value = config.get(name)
        if value is not None:
            expect(
                isinstance(value, str) and bool(PHONE_PATTERN.match(value)),
                f"{name}: got {value!r}, expected an E.164 phone number such as '+15558675310'",
            )
    status = config.get("status")
    if status is not None:
        expect(
            status in CALL_STATUSES,
            f"status: got {status!r}, expected one of {', '.join(CALL_STATUSES)}",
        )
    log = config.get("log")
    if log is not None:
        expect(
            str(log).lower() in LOG_LEVELS,
            f"log: got {shown(log)}, expected 'error' (or 0) or 'warning' (or 1)",
        )
    if config.get("category") is not None:
        check_category(config["category"])  # its warning is given by settings_warnings
    granularity = config.get("usage_records_granularity")
    if granularity is not None:
        expect(
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
        expect(start <= end, "end_date: must not be before start_date")
    _check_int(config, "page_size", 1, MAX_PAGE_SIZE)
    _check_int(config, "lookback_days", 0, 400)
    _check_int(config, "max_concurrency", 1, 32)
    _check_int(config, "max_retries", 0, 100)
    _check_int(config, "max_retry_seconds", 1, 86400)
    _check_int(config, "request_timeout", 1, 3600)
    url = config.get("base_url")
    if url is not None:
        expect(
            isinstance(url, str) and url.startswith(("http://", "https://")),
            f"base_url: got {url!r}, expected a URL starting with https://",
        )
    for name in ("region", "edge"):
        value = config.get(name)
        if value is not None:
            expect(
                isinstance(value, str) and HOST_LABEL.fullmatch(value) is not None,
                f"{name}: got {value!r}, expected a lower-case name such as "
                + ("`ie1`" if name == "region" else "`dublin`"),
            )
