"""Checks of what a user hands the tap before any request: the config, state and catalog
files, and masking of secrets in anything printed."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from singer_sdk.singerlib import Catalog

from tap_twilio.settings import SettingError
from tap_twilio.streams import STREAM_NAMES

SECRET_SETTINGS = ("auth_token", "api_key_secret")
STATE_KEYS = {"bookmarks", "currently_syncing"}  # the top-level keys of a Singer state
logger = logging.getLogger("tap-twilio")


def check_catalog(catalog: Any) -> None:
    """A catalog names only this tap's streams (the SDK would silently skip the others)."""
    if catalog is None or isinstance(catalog, (str, os.PathLike)):
        return
    if isinstance(catalog, Catalog):
        names = list(catalog)
    else:
        entries = catalog.get("streams") if isinstance(catalog, Mapping) else None
        if not isinstance(entries, list) or not all(isinstance(e, Mapping) for e in entries):
            raise SettingError('catalog: expected {"streams": [...]}, as written by --discover')
        names = [e.get("tap_stream_id") or e.get("stream") for e in entries]
    unknown = [name for name in names if name not in STREAM_NAMES]
    if unknown:
        raise SettingError(
            f"catalog: unknown stream {', '.join(repr(n) for n in unknown)}; this tap's "
            "streams are listed by --discover"
        )


def check_state(state: Any) -> Any:
    """The state to resume from, checked: `{"bookmarks": {stream: {...}}}` with ISO 8601
    bookmark values, for this tap's streams.

    Meltano's form (`{"singer_state": {...}}`, as `meltano state get` prints it) and a whole
    STATE message (`{"type": "STATE", "value": {...}}`, a tap's last line) are unwrapped.
    Anything else that is not such a state (a catalog, another tap's state) is an error:
    the run would silently read everything again.
    """
    if state is None or isinstance(state, (str, os.PathLike)):
        return state
    if not isinstance(state, Mapping):
        raise SettingError(f"state: expected a JSON object, got {type(state).__name__}")
    state = unwrapped_state(state)
    bookmarks = state.get("bookmarks", {})
    if not isinstance(bookmarks, Mapping):
        raise SettingError('state: "bookmarks" must be an object of streams')
    check_state_streams(bookmarks)
    for stream, entry in bookmarks.items():
        if stream in STREAM_NAMES:
            check_bookmarks(stream, entry)
    return state


def unwrapped_state(state: Mapping[str, Any]) -> Mapping[str, Any]:
    """The Singer state inside Meltano's wrapper or a STATE message; an error for an object
    that is no state at all."""
    if set(state) == {"singer_state"} and isinstance(state["singer_state"], Mapping):
        logger.info('state: reading the Singer state inside Meltano\'s "singer_state"')
        return unwrapped_state(state["singer_state"])
    if state.get("type") == "STATE" and isinstance(state.get("value"), Mapping):
        logger.info("state: reading the value of the STATE message")
        return unwrapped_state(state["value"])
    if "bookmarks" not in state and set(state) - STATE_KEYS:
        if "streams" in state:
            raise SettingError(
                'state: this is a catalog ("streams"), not a state; pass it with --catalog'
            )
        keys = ", ".join(sorted(map(str, state))[:5])
        raise SettingError(
            f'state: no "bookmarks" (keys: {keys}); expected a Singer state '
            '{"bookmarks": {...}}, the value of the last STATE message'
        )
    return state


def check_state_streams(bookmarks: Mapping[str, Any]) -> None:
    """Bookmarks only of streams this tap does not have: another tap's state (an error);
    some such streams beside this tap's: a warning, their bookmarks are not used."""
    unknown = sorted(str(name) for name in bookmarks if name not in STREAM_NAMES)
    if not unknown:
        return
    names = ", ".join(repr(name) for name in unknown[:5]) + (", ..." if len(unknown) > 5 else "")
    if len(unknown) == len(bookmarks):
        raise SettingError(
            f"state: bookmarks only for streams tap-twilio does not have ({names}); the state "
            "of another tap? This tap's streams are listed by --discover"
        )
    logger.warning("state: bookmarks of streams tap-twilio does not have are ignored: %s",
                   names)


def check_bookmarks(stream: str, entry: Any) -> None:
    """A stream's bookmarks: objects whose values are ISO 8601 date-times."""
    where = f"state: bookmarks.{stream}"
    if not isinstance(entry, Mapping):
        raise SettingError(f"{where}: expected an object, got {json.dumps(entry)[:60]}")
    partitions = entry.get("partitions", [])
    if not isinstance(partitions, list) or not all(isinstance(p, Mapping) for p in partitions):
        raise SettingError(f"{where}.partitions: expected a list of objects")
    for name, bookmark in [("", entry)] + [
        (f".partitions[{i}]", p) for i, p in enumerate(partitions)
    ]:
        value = bookmark.get("replication_key_value")
        if value is None:
            continue
        try:
            dt.date.fromisoformat(value[:10] if isinstance(value, str) else "?")
        except ValueError:
            raise SettingError(
                f"{where}{name}.replication_key_value: got {json.dumps(value)[:60]}, "
                "expected an ISO 8601 date-time"
            ) from None


def input_files(argv: list[str]) -> list[tuple[str, str]]:
    """(kind, path) of each --config/--state/--catalog file named on the command line."""
    files = []
    for i, arg in enumerate(argv):
        option, _, value = arg.partition("=")
        if option in ("--config", "--state", "--catalog"):
            if not value:
                value = argv[i + 1] if i + 1 < len(argv) else ""
            if value != "ENV":
                files.append((option[2:], value))
    return files


def missing_input_file(argv: list[str]) -> str | None:
    """After a failure: the first input file that does not exist, said in one line."""
    for kind, value in input_files(argv):
        if not Path(value).exists():
            return f"{kind} file {value}: not found"
    return None


def check_input_files(argv: list[str]) -> dict[str, Any]:
    """Each --config/--state/--catalog file is a JSON object; returns the merged config."""
    config: dict[str, Any] = {}
    for kind, value in input_files(argv):
        path = Path(value)
        if not path.is_file():
            continue  # missing (reported if the run fails), or a pipe not to be read twice
        text = path.read_text(encoding="utf-8", errors="replace")
        if not text.strip():
            raise SettingError(f"{kind} file {value}: empty, expected a JSON object")
        try:
            content = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SettingError(
                f"{kind} file {value}: not valid JSON ({exc.msg} at line {exc.lineno} column "
                f"{exc.colno})"
            ) from None
        if not isinstance(content, dict):
            raise SettingError(
                f"{kind} file {value}: expected a JSON object, got {type(content).__name__}"
            )
        if kind == "config":
            config.update(content)
    return config


REDACT_MIN_LENGTH = 6  # Twilio's tokens and secrets are 32 characters


def redact(text: str, config: Mapping[str, Any]) -> str:
    """`text` with every secret setting's value (and the environment's) masked.

    A safety net: no message is built from a secret. Values shorter than a real secret
    (a placeholder like "x") are left alone, or every such letter would be masked.
    """
    secrets = [config.get(name) for name in SECRET_SETTINGS]
    secrets += [os.environ.get(f"TAP_TWILIO_{name.upper()}") for name in SECRET_SETTINGS]
    for secret in secrets:
        if secret is not None and len(str(secret)) >= REDACT_MIN_LENGTH:
            text = text.replace(str(secret), "***")
    return text
