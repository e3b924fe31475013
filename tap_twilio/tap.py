"""The tap: its settings, its streams, a sync with a readable summary, and signals."""

from __future__ import annotations

import copy
import threading
import time
from functools import cached_property
from typing import Any, ClassVar

import click
from singer_sdk import Stream
from singer_sdk.mapper import RemoveRecordTransform

from tap_twilio.bulkexport import DailyAllowance
from tap_twilio.client import TwilioStream
from tap_twilio.concurrency import AdaptiveLimiter, FirstPagePrefetcher
from tap_twilio.http import TooManyRequests
from tap_twilio.inputs import SECRET_SETTINGS, check_catalog, check_state
from tap_twilio.logs import quiet_sdk_logging
from tap_twilio.output import EncodedStateWriter, RecordBufferingWriter
from tap_twilio.progress import log_connection_test, log_run_summary
from tap_twilio.sdk_compat import TapHooks, use_state_writer
from tap_twilio.settings import CONFIG_SCHEMA, SettingError, add_flattening_default
from tap_twilio.stream_maps import check_stream_maps
from tap_twilio.streams import STREAM_TYPES
from tap_twilio.validation import (
    settings_warnings,
    unknown_settings,
    unmatched_filters,
    validate_settings,
)
from tap_twilio.versions import activate_versions


class TapTwilio(TapHooks):
    """Singer tap for Twilio's REST APIs: the 2010 API and Twilio's newer product APIs."""

    name = "tap-twilio"
    package_name = "tap-twilio"
    config_jsonschema = CONFIG_SCHEMA
    message_writer_class = RecordBufferingWriter
    message_writer: RecordBufferingWriter
    # The taps made while `invoke` runs (the SDK's `invoke` makes one and syncs it).
    runs: ClassVar[list[TapTwilio] | None] = None
    # STATE as often as it is worth (see EncodedStateWriter): each holds every account's
    # bookmarks. At most one a second, and at most a twentieth of the RECORD bytes written
    # since the last one, so that with the run's last STATE they stay a small share.
    SECONDS_BETWEEN_STATES: ClassVar[float] = 1.0
    STATE_SHARE_OF_RECORDS: ClassVar[float] = 0.05

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.account_created: dict[str, Any] = {}  # account SID -> date, for date slicing
        self.answered_origins: set[str] = set()  # scheme://host:port that answered this run
        # Subaccounts' Auth Tokens from the Accounts list, for Twilio's newer APIs (see
        # `TwilioStream.credentials`): in memory only, never in a record, log or state.
        self.account_tokens: dict[str, str] = {}
        self.export_allowance = DailyAllowance()  # BulkExport job days this run may ask
        self.said: set[str] = set()
        self.gave_up = threading.Event()  # a request gave up retrying: the run is failing
        quiet_sdk_logging()
        self.warn_unknown_settings(kwargs.get("config"))
        check_catalog(kwargs.get("catalog"))
        kwargs["state"] = check_state(kwargs.get("state"))
        super().__init__(*args, **kwargs)
        self.encoded_state_writer = EncodedStateWriter(
            self.message_writer, min_seconds=self.SECONDS_BETWEEN_STATES,
            record_share=self.STATE_SHARE_OF_RECORDS)
        use_state_writer(self, self.encoded_state_writer)
        self.started = time.monotonic()
        runs = type(self).runs
        if runs is not None:
            runs.append(self)
        # Every request of every thread passes through it (made here, before any thread):
        # requests in flight per account, lowered after a 429, up to `max_concurrency`.
        self.limiter = AdaptiveLimiter(int(self.config.get("max_concurrency", 8)),
                                       TooManyRequests)

    def say_once(self, warning: str) -> None:
        """A warning that holds for the whole run, logged once."""
        if warning not in self.said:
            self.said.add(warning)
            self.logger.warning(warning)

    @classmethod
    def warn_unknown_settings(cls, config: Any) -> None:
        """Every command: one warning for the settings neither the tap nor the SDK knows
        (their names from the config's JSON Schema, the SDK's built-ins added as it does)."""
        if isinstance(config, dict):
            schema = copy.deepcopy(cls.config_jsonschema)
            cls.append_builtin_config(schema)
            warning = unknown_settings(config, schema["properties"])
            if warning:
                cls.logger.warning("%s", warning)

    @classmethod
    def append_builtin_config(cls, config_jsonschema: dict[str, Any]) -> None:
        """The SDK's stream map and flattening settings, flattening with a default depth."""
        super().append_builtin_config(config_jsonschema)
        add_flattening_default(config_jsonschema)

    def check_settings(self) -> None:
        """Secrets, then the settings' meaning, checked before the SDK's own validation
        (whose error quotes the invalid value); warnings for settings that are suspicious."""
        for name in SECRET_SETTINGS:
            value = self.config.get(name)
            if value is not None and not isinstance(value, str):
                raise SettingError(f"{name}: expected a string (the value is not shown)")
        validate_settings(self.config)
        for warning in settings_warnings(self.config):
            self.logger.warning(warning)

    def setup_mapper(self) -> None:
        """The SDK's stream maps, their expressions checked against each stream's schema
        first: a mistake fails the run before any request (see stream_maps.py)."""
        check_stream_maps(self.config.get("stream_maps"),
                          {name: stream.schema for name, stream in self.streams.items()})
        super().setup_mapper()

    def discover_streams(self) -> list[Stream]:
        return [stream_class(tap=self) for stream_class in STREAM_TYPES]

    @property
    def twilio_streams(self) -> list[TwilioStream]:
        """The streams of `self.streams` (every one a TwilioStream), typed as such."""
        return [stream for stream in self.streams.values() if isinstance(stream, TwilioStream)]

    @classmethod
    def cb_test(cls, ctx: click.Context, param: click.Option, value: str) -> None:
        """`--test`: the SDK's test of every stream through `connection_test`; the SDK's own
        handling for `--test=schema`."""
        if value != "all":
            super().cb_test(ctx, param, value)
            return
        config = ctx.params.get("config")
        tap = cls(config=getattr(config, "config", None),
                  parse_env_config=getattr(config, "parse_env", False), validate_config=True)
        tap.connection_test()
        ctx.exit()

    def connection_test(self) -> bool:
        """`--test`: one record of each stream, then which were not read and why, and a last
        line with the verdict and the counts.

        A child stream is asked for the first record of its parent even when that record has
        no children (a message without media): Twilio answers an empty list, which is enough
        to know the child's endpoint is readable. Not so for accounts, whose children are
        not asked for a closed account (Twilio answers 404)."""
        for stream in self.twilio_streams:
            stream.asks_every_child = stream.parent_stream_type is not None
        passed = self.run_connection_test()
        self.message_writer.flush()
        by_class: dict[type[Stream], TwilioStream] = {
            type(stream): stream for stream in self.twilio_streams}
        log_connection_test(self.logger, [
            (stream.progress, by_class[stream.parent_stream_type].progress
             if stream.parent_stream_type else None)
            for stream in self.twilio_streams], passed)
        return passed

    @cached_property
    def prefetcher(self) -> FirstPagePrefetcher:
        """Reads ahead the first pages of the next accounts' lists (see concurrency.py).

        Four times as many lists ahead as workers: a list of several pages is a chain of
        round trips (an account's daily usage records: up to 5 read ahead), started that
        many lists before the sync reaches it, so that it is read by then."""
        workers = int(self.config.get("max_concurrency", 8))
        return FirstPagePrefetcher(workers=workers, ahead=4 * workers if workers > 1 else 0)

    @classmethod
    def invoke(cls, *, about: bool = False, about_format: str | None = None,
               **kwargs: Any) -> None:
        """The SDK's run (it makes the tap and calls `sync_all`), then the run's end."""
        if about:
            super().invoke(about=about, about_format=about_format, **kwargs)
            return
        cls.runs, finished = [], False
        try:
            super().invoke(**kwargs)
            finished = True
        finally:
            taps, cls.runs = cls.runs, None
            for tap in taps:
                tap.end_run(finished)

    def end_run(self, finished: bool) -> None:
        """A final STATE covering every record, then one readable summary line per stream
        (see progress.py); after a failure or a stop, what was read and the state it
        reached still go out."""
        try:
            if finished:
                activate_versions(self)
            self.encoded_state_writer.write_last(self.state)
        finally:
            self.message_writer.flush()
            self.prefetcher.close()
            written = self.message_writer.records_written
            selected = [stream for stream in self.twilio_streams if stream.selected]
            summary = [(stream.progress, {alias: written[alias] for alias in output_names(stream)})
                       for stream in selected]
            log_run_summary(self.logger, summary, self.started, finished)
            if finished:
                for line in unmatched_filters(self.config, [
                        (stream.name, stream.options, stream.progress.records)
                        for stream in selected]):
                    self.logger.warning(line)

    def on_termination(self, signum: int) -> None:  # pragma: no cover
        """SIGTERM/SIGINT: write the state so far (at once: a stop may be followed by
        SIGKILL), then stop with a non-zero exit code. Inside a write of stdout, that
        write ends first."""
        if self.message_writer.after_writing(lambda: self.on_termination(signum)):
            return
        try:
            self.encoded_state_writer.write_last(self.state)
        finally:
            raise Interrupted(signum)


def output_names(stream: Any) -> list[str]:
    """The stream names its records are written under: its own, or its stream maps'."""
    return [stream_map.stream_alias for stream_map in stream.stream_maps
            if not isinstance(stream_map, RemoveRecordTransform)]


class Interrupted(BaseException):
    """The run was stopped by a signal; a BaseException so no `except Exception` eats it."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum
