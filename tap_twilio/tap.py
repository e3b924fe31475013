"""The tap: settings, streams, and a command line that fails in one readable line."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import signal
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click
import requests
import simplejson
from singer_sdk import Tap
from singer_sdk.contrib.msgspec import MsgSpecWriter
from singer_sdk.exceptions import ConfigValidationError, FatalAPIError, RetriableAPIError
from singer_sdk.singerlib import Catalog

from tap_twilio.progress import log_run_summary, quiet_sdk_logging
from tap_twilio.settings import CONFIG_SCHEMA, SettingError, validate_settings
from tap_twilio.streams import STREAM_NAMES, STREAM_TYPES

SECRET_SETTINGS = ("auth_token", "api_key_secret")


class TapTwilio(Tap):
    """Singer tap for Twilio's REST API."""

    name = "tap-twilio"
    package_name = "tap-twilio"
    config_jsonschema = CONFIG_SCHEMA
    message_writer_class = MsgSpecWriter

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.account_created: dict[str, Any] = {}  # account SID -> date, for date slicing
        quiet_sdk_logging()
        check_catalog(kwargs.get("catalog"))
        check_state(kwargs.get("state"))
        super().__init__(*args, **kwargs)

    def _validate_config(self, *, raise_errors: bool = True) -> list[str]:
        if raise_errors:
            for name in SECRET_SETTINGS:  # before the SDK's check, which quotes the value
                value = self.config.get(name)
                if value is not None and not isinstance(value, str):
                    raise SettingError(f"{name}: expected a string (the value is not shown)")
            validate_settings(self.config)
        return super()._validate_config(raise_errors=raise_errors)

    def discover_streams(self) -> list:
        return [stream_class(tap=self) for stream_class in STREAM_TYPES]

    def sync_all(self) -> None:
        """The SDK's sync, then one readable summary line per stream (see progress.py)."""
        started, finished = time.monotonic(), False
        try:
            super().sync_all()
            finished = True
        finally:
            selected = [s for s in self.streams.values() if s.selected]
            log_run_summary(self.logger, [s.progress for s in selected], started, finished)

    def _handle_termination(self, signum: int, frame: Any) -> None:  # pragma: no cover
        """SIGTERM/SIGINT: write the state so far, then stop with a non-zero exit code
        (the SDK's handler exits 0, which would pass an unfinished run off as a success)."""
        try:
            self._state_writer.write_state(self.state)
        finally:
            raise Interrupted(signum)


class Interrupted(BaseException):
    """The run was stopped by a signal; a BaseException so no `except Exception` eats it."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


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


def check_state(state: Any) -> None:
    """A state is `{"bookmarks": {stream: {...}}}` with ISO 8601 bookmark values."""
    if state is None or isinstance(state, (str, os.PathLike)):
        return
    if not isinstance(state, Mapping):
        raise SettingError(f"state: expected a JSON object, got {type(state).__name__}")
    bookmarks = state.get("bookmarks", {})
    if not isinstance(bookmarks, Mapping):
        raise SettingError('state: "bookmarks" must be an object of streams')
    for stream, entry in bookmarks.items():
        where = f"state: bookmarks.{stream}"
        if not isinstance(entry, Mapping):
            raise SettingError(f"{where}: expected an object, got {json.dumps(entry)[:60]}")
        partitions = entry.get("partitions", [])
        if not isinstance(partitions, list) or not all(
            isinstance(p, Mapping) for p in partitions
        ):
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


def check_input_files(argv: list[str]) -> dict:
    """Each --config/--state/--catalog file is a JSON object; returns the merged config."""
    config: dict = {}
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


def redact(text: str, config: Mapping[str, Any]) -> str:
    """`text` with every secret setting's value (and the environment's) masked."""
    secrets = [config.get(name) for name in SECRET_SETTINGS]
    secrets += [os.environ.get(f"TAP_TWILIO_{name.upper()}") for name in SECRET_SETTINGS]
    for secret in secrets:
        if secret not in (None, ""):
            text = text.replace(str(secret), "***")
    return text


def one_line(exc: BaseException) -> str:
    """What went wrong, in one line a user can act on (never a traceback)."""
    if isinstance(exc, ConfigValidationError):
        return "invalid config: " + "; ".join(exc.errors or [str(exc)])
    if isinstance(exc, RetriableAPIError):
        text = f"gave up retrying: {exc}; Twilio kept failing, run again later"
    elif isinstance(exc, requests.Timeout):
        text = (f"gave up retrying: Twilio did not answer in time ({type(exc).__name__}); "
                "raise request_timeout or run again later")
    elif isinstance(exc, requests.RequestException):
        text = (f"could not reach Twilio ({type(exc).__name__}); check api_url and the "
                "network, then run again")
    elif isinstance(exc, (json.JSONDecodeError, simplejson.JSONDecodeError)):
        text = f"a config, state or catalog file is not valid JSON ({exc})"
    elif isinstance(exc, (SettingError, FatalAPIError, OSError)):
        text = str(exc)
    else:
        text = f"{type(exc).__name__}: {exc}"
    return " ".join(text.split())


def cli(argv: list[str] | None = None) -> None:
    """Console entry point: the SDK's command, with any failure reduced to one line.

    Set TAP_TWILIO_DEBUG=1 to see the traceback instead.
    """
    config: dict = {}
    try:
        config = check_input_files(sys.argv[1:] if argv is None else argv)
        code = TapTwilio.cli.main(args=argv, standalone_mode=False)
    except Interrupted as exc:
        logging.shutdown()
        name = signal.Signals(exc.signum).name
        print(f"tap-twilio: error: interrupted by {name}; run again with the last STATE "
              "message to resume", file=sys.stderr)
        sys.exit(128 + exc.signum)
    except click.exceptions.ClickException as exc:
        message = redact(" ".join(exc.format_message().split()), config)
        print(f"tap-twilio: error: {message}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except Exception as exc:
        if os.environ.get("TAP_TWILIO_DEBUG"):
            raise
        logging.shutdown()
        message = missing_input_file(sys.argv[1:] if argv is None else argv) or one_line(exc)
        print(f"tap-twilio: error: {redact(message, config)}", file=sys.stderr)
        sys.exit(1)
    if isinstance(code, int) and code:
        sys.exit(code)
