"""Checks of the settings: each raises `SettingError` with one line that names the setting
and what was expected, or returns a warning where the value may be meant (Twilio adds usage
categories). What the settings' JSON Schema (settings.py) can say is checked against it;
code checks only what it cannot.
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Collection, Mapping
from functools import cache
from typing import Any

import jsonschema

from tap_twilio.settings import (
    CONFIG_SCHEMA,
    EXPECTED,
    MISSING,
    USAGE_CATEGORIES_FILE,
    SettingError,
    expect,
    parse_account_shard,
    parse_date_setting,
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


@cache
def schema_validator() -> jsonschema.protocols.Validator:
    validator: jsonschema.protocols.Validator = jsonschema.Draft7Validator(CONFIG_SCHEMA)
    return validator


def schema_error(config: Mapping[str, Any]) -> SettingError | None:
    """The first setting (in the schema's order) whose value breaks what the settings' JSON
    Schema declares (a pattern, an enum, a range), as one line; the SDK's own validation
    says the rest (a boolean of the wrong type, ...)."""
    order = {name: i for i, name in enumerate(CONFIG_SCHEMA["properties"])}
    errors = []
    for error in schema_validator().iter_errors(dict(config)):
        if error.validator == "required":
            name = str(error.message).split("'")[1]
            if name in MISSING:
                errors.append((order.get(name, 0), f"{name}: missing, expected {MISSING[name]}"))
        elif error.path and error.path[0] in EXPECTED:
            name = str(error.path[0])
            errors.append((order[name], f"{name}: got {shown(error.instance)}, expected "
                                        f"{EXPECTED[name]}"))
    return SettingError(min(errors)[1]) if errors else None


def validate_settings(config: Mapping[str, Any]) -> None:
    """Check every setting the tap reads; raise `SettingError` on the first bad one: what
    the JSON Schema says first, then what it cannot (settings that go together, a usage
    category close to a known one, the dates and their order)."""
    error = schema_error(config)
    if error is not None:
        raise error
    if config.get("api_key_sid") or config.get("api_key_secret"):
        expect(
            bool(config.get("api_key_sid") and config.get("api_key_secret")),
            "api_key_sid / api_key_secret: give both, or neither and use auth_token",
        )
    else:
        expect(
            bool(config.get("auth_token")),
            "auth_token: missing, expected the Auth Token (or api_key_sid and api_key_secret)",
        )
    if config.get("account_shard") is not None:
        parse_account_shard(config["account_shard"])
    if config.get("category") is not None:
        check_category(config["category"])  # its warning is given by settings_warnings
    start = end = None
    if config.get("start_date"):
        start = parse_date_setting("start_date", config["start_date"])
        check_start_not_in_future(start, config["start_date"])
    if config.get("end_date"):
        end = parse_date_setting("end_date", config["end_date"])
    if start and end:
        expect(start <= end, "end_date: must not be before start_date")
