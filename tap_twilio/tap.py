"""The tap: its settings, its streams, a sync with a readable summary, and signals."""

from __future__ import annotations

import sys
import time
from functools import cached_property
from typing import Any

from singer_sdk import Tap
from singer_sdk.contrib.msgspec import MsgSpecWriter
from singer_sdk.singerlib import Message, RecordMessage

from tap_twilio.concurrency import FirstPagePrefetcher
from tap_twilio.inputs import SECRET_SETTINGS, check_catalog, check_state
from tap_twilio.progress import (
    expect_connection_test_stops,
    log_run_summary,
    quiet_sdk_logging,
)
from tap_twilio.settings import CONFIG_SCHEMA, SettingError, validate_settings
from tap_twilio.streams import STREAM_TYPES


class RecordBufferingWriter(MsgSpecWriter):
    """The SDK's msgspec writer, flushing stdout at SCHEMA and STATE messages only.

    Flushing after every RECORD cost about 7% of the tap's CPU (benchmark profile). A
    target still receives every record before the STATE that covers it, and records a
    killed run never flushed are re-read from that STATE.
    """

    def write_message(self, message: Message) -> None:
        sys.stdout.buffer.write(self.format_message(message))
        if not isinstance(message, RecordMessage):
            sys.stdout.flush()


class TapTwilio(Tap):
    """Singer tap for Twilio's REST API."""

    name = "tap-twilio"
    package_name = "tap-twilio"
    config_jsonschema = CONFIG_SCHEMA
    message_writer_class = RecordBufferingWriter

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

    def run_connection_test(self) -> bool:
        """`--test`: one record of each stream, without an error line for each planned stop."""
        expect_connection_test_stops(True)
        try:
            return super().run_connection_test()
        finally:
            expect_connection_test_stops(False)

    @cached_property
    def prefetcher(self) -> FirstPagePrefetcher:
        """Reads ahead the first page of the next accounts' lists (see concurrency.py)."""
        workers = int(self.config.get("max_concurrency", 8))
        return FirstPagePrefetcher(workers=workers, ahead=workers if workers > 1 else 0)

    def sync_all(self) -> None:
        """The SDK's sync, then one readable summary line per stream (see progress.py)."""
        started, finished = time.monotonic(), False
        try:
            super().sync_all()
            finished = True
        finally:
            self.prefetcher.close()
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
