"""The tap: its settings, its streams, a sync with a readable summary, and signals."""

from __future__ import annotations

import dataclasses
import datetime as dt
import sys
import time
from collections import Counter
from functools import cached_property
from typing import Any

from singer_sdk import Tap
from singer_sdk.contrib.msgspec import MsgSpecWriter, encoder, serialize_jsonl
from singer_sdk.helpers._state import StateWriter
from singer_sdk.mapper import RemoveRecordTransform
from singer_sdk.singerlib import Message, RecordMessage, SchemaMessage, StateMessage

from tap_twilio.concurrency import AdaptiveLimiter, FirstPagePrefetcher
from tap_twilio.http import TooManyRequests
from tap_twilio.inputs import SECRET_SETTINGS, check_catalog, check_state
from tap_twilio.progress import (
    expect_connection_test_stops,
    log_connection_test,
    log_run_summary,
    quiet_sdk_logging,
)
from tap_twilio.settings import (
    CONFIG_SCHEMA,
    SettingError,
    add_flattening_default,
    settings_warnings,
    validate_settings,
)
from tap_twilio.streams import STREAM_TYPES


class RecordBufferingWriter(MsgSpecWriter):
    """The SDK's msgspec writer, writing RECORD lines in blocks of about 1 MiB.

    The SDK's writer writes and flushes stdout after every message: one `write` syscall per
    record, about 7% of the tap's CPU (benchmark profile). Letting `sys.stdout`'s buffer
    collect the records is not enough: with PYTHONUNBUFFERED set (common in containers, and
    inherited by the benchmark) `sys.stdout.buffer` is the raw file, so every record was
    still one syscall (~16% of the main thread's time). So the records collect in a buffer
    of our own, written out when it is full and before every other message (SCHEMA, STATE,
    ...): a target still receives every record before the STATE that covers it, and
    records a killed run never wrote are re-read from that STATE. Each write lets the
    page-reading threads take the GIL, and the main thread waits to get it back, so the
    blocks are large (1 MiB: ~100 writes per 100,000 messages).

    The SDK writes a stream's SCHEMA each time it syncs a partition: once per account, and
    for `message_media` once per message with media. Loaders of the pipelinewise family and
    target-duckdb load what they hold at every SCHEMA, so thousands of identical SCHEMA
    lines became thousands of tiny loads. A SCHEMA line identical to the stream's last one
    is not written again; a changed one (another stream map's schema) is.
    """

    BLOCK_BYTES = 1024 * 1024

    def __init__(self) -> None:
        super().__init__()
        self.pending = bytearray()
        self.frame: tuple | None = None  # (stream, version, time_extracted) of the last record
        self.frame_bytes = (b"", b"")
        self.schema_lines: dict[str, bytes] = {}  # stream -> its last SCHEMA line
        self.state_is_last = False  # whether the last message written is a STATE
        self.records_written: Counter[str] = Counter()  # RECORD messages per stream name

    def write_message(self, message: Message) -> None:
        line = self.format_message(message)
        if isinstance(message, SchemaMessage):
            if self.schema_lines.get(message.stream) == line:
                return
            self.schema_lines[message.stream] = bytes(line)
        self.state_is_last = isinstance(message, StateMessage)
        if isinstance(message, RecordMessage):
            self.records_written[message.stream] += 1
        self.pending += line
        if len(self.pending) >= self.BLOCK_BYTES or not isinstance(message, RecordMessage):
            self.flush()

    def serialize_message(self, message: Message) -> bytearray:
        """The SDK's line for a message, encoded from the message's own values.

        `message.to_dict()` deep-copies the whole message (`dataclasses.asdict`) only to
        encode it. A STATE message holds every partition's bookmark and the SDK writes one
        per partition (and a SCHEMA per partition), so with many subaccounts the copying
        grew with the square of their number: 47% of a 101-account run's main thread.
        """
        return serialize_jsonl(message_fields(message))

    def write_record(
        self, stream: str, record: dict, version: int | None, time_extracted: dt.datetime
    ) -> None:
        """A RECORD message: the bytes of `write_message(RecordMessage(...))`.

        The stream's fast path (client.py) calls this for every record: building a
        RecordMessage dataclass and its dict for each record was ~15% of the main thread.
        Only the record itself is encoded per record; the message's other keys are the
        same for a page's records, so their bytes are encoded once (~1.2 µs per record).
        """
        self.write_records(stream, [record], version, time_extracted)

    def write_records(
        self, stream: str, records: list[dict], version: int | None,
        time_extracted: dt.datetime,
    ) -> None:
        """`write_record` for each of a page's records, which share their frame."""
        self.state_is_last = False
        self.records_written[stream] += len(records)
        frame = (stream, version, time_extracted)
        if frame != self.frame:
            self.frame, self.frame_bytes = frame, self.record_frame(*frame)
        prefix, suffix = self.frame_bytes
        pending, encode_into = self.pending, encoder.encode_into
        for record in records:
            pending += prefix
            encode_into(record, pending, -1)  # -1: append
            pending += suffix
            if len(pending) >= self.BLOCK_BYTES:
                self.flush()  # empties `pending` in place

    @staticmethod
    def record_frame(
        stream: str, version: int | None, time_extracted: dt.datetime
    ) -> tuple[bytes, bytes]:
        """The bytes of a RECORD line before and after its record, by the same encoder."""
        message: dict[str, Any] = {"type": "RECORD", "stream": stream, "record": 0}
        if version is not None:
            message["version"] = version
        message["time_extracted"] = time_extracted
        encoded = encoder.encode(message)
        cut = encoded.index(b',"record":0') + len(b',"record":')
        return encoded[:cut], encoded[cut + 1 :] + b"\n"

    def flush(self) -> None:
        """Write out the buffered lines and flush stdout."""
        rest = self.pending
        while rest:
            written = sys.stdout.buffer.write(rest)
            rest = rest[written or 0 :]  # a raw file may write only part (or None: nothing)
        self.pending.clear()
        sys.stdout.flush()


def message_fields(message: Message) -> dict[str, Any]:
    """What `message.to_dict()` holds (the fields that are not None), not copied."""
    if type(message).to_dict is not Message.to_dict:
        return message.to_dict()  # a type with its own, not the generic copy (RECORD's)
    fields = {}
    for field in dataclasses.fields(message):
        value = getattr(message, field.name)
        if dataclasses.is_dataclass(value):
            return message.to_dict()  # the SDK converts nested dataclasses: its own way
        if value is not None:
            fields[field.name] = value
    return fields


class EncodedStateWriter(StateWriter):
    """The SDK's StateWriter (a STATE message only when the state changed), remembering the
    last state written as its JSON bytes instead of as a deep copy.

    The SDK deep-copies the whole state after each STATE message, one per partition: with
    many subaccounts that grew with the square of their number (19% of a 101-account run's
    main thread after `serialize_message` above). Equal bytes mean an equal state; a state
    equal but in another key order is written again, which a target takes as it is.
    """

    def __init__(self, message_writer: Any) -> None:
        super().__init__(message_writer)
        self.last_written: bytes | None = None

    def write_state(self, state: Any) -> None:
        encoded = encoder.encode(state)
        if encoded != self.last_written:
            self._message_writer.write_message(StateMessage(value=state))
            self.last_written = encoded

    def write_final_state(self, state: Any) -> None:
        """The run's last message: a STATE covering everything written before it.

        `write_state` skips a state equal to the last one written, so a stream that read
        only records at or before its bookmark (a resumed run re-reading its lookback) left
        its RECORDs after the last STATE. A target that keeps the last STATE it saw (e.g.
        target-jsonl piped to `tail -1`) then has none to resume from.
        """
        self.write_state(state)
        if not self._message_writer.state_is_last:
            self._message_writer.write_message(StateMessage(value=state))


class TapTwilio(Tap):
    """Singer tap for Twilio's REST API."""

    name = "tap-twilio"
    package_name = "tap-twilio"
    config_jsonschema = CONFIG_SCHEMA
    message_writer_class = RecordBufferingWriter

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.account_created: dict[str, Any] = {}  # account SID -> date, for date slicing
        self.answered_origins: set[str] = set()  # scheme://host:port that answered this run
        # Subaccounts' Auth Tokens from the Accounts list, for Twilio's newer APIs (see
        # `TwilioStream.credentials`): in memory only, never in a record, log or state.
        self.account_tokens: dict[str, str] = {}
        self.said: set[str] = set()
        quiet_sdk_logging()
        check_catalog(kwargs.get("catalog"))
        kwargs["state"] = check_state(kwargs.get("state"))
        super().__init__(*args, **kwargs)
        self._state_writer = EncodedStateWriter(self.message_writer)
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
    def append_builtin_config(cls, config_jsonschema: dict) -> None:
        """The SDK's stream map and flattening settings, flattening with a default depth."""
        super().append_builtin_config(config_jsonschema)
        add_flattening_default(config_jsonschema)

    def _validate_config(self, *, raise_errors: bool = True) -> list[str]:
        if raise_errors:
            for name in SECRET_SETTINGS:  # before the SDK's check, which quotes the value
                value = self.config.get(name)
                if value is not None and not isinstance(value, str):
                    raise SettingError(f"{name}: expected a string (the value is not shown)")
            validate_settings(self.config)
            for warning in settings_warnings(self.config):
                self.logger.warning(warning)
        return super()._validate_config(raise_errors=raise_errors)

    def discover_streams(self) -> list:
        return [stream_class(tap=self) for stream_class in STREAM_TYPES]

    def run_connection_test(self) -> bool:
        """`--test`: one record of each stream, without an error line for each planned stop,
        then one line saying which streams answered.

        A child stream is asked for the first record of its parent even when that record has
        no children (a message without media): Twilio answers an empty list, which is enough
        to know the child's endpoint is readable. Not so for accounts, whose children are
        not asked for a closed account (Twilio answers 404)."""
        for stream in self.streams.values():
            stream.asks_every_child = stream.parent_stream_type is not None
        expect_connection_test_stops(True)
        try:
            passed = super().run_connection_test()
        finally:
            expect_connection_test_stops(False)
        self.message_writer.flush()
        log_connection_test(self.logger, [
            (stream.progress, self.streams[stream.parent_stream_type.name].progress
             if stream.parent_stream_type else None)
            for stream in self.streams.values()])
        return passed

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
            self._state_writer.write_final_state(self.state)
            finished = True
        finally:
            self.message_writer.flush()  # records read before a failure still go out
            self.prefetcher.close()
            written = self.message_writer.records_written
            summary = [(stream.progress, {alias: written[alias] for alias in output_names(stream)})
                       for stream in self.streams.values() if stream.selected]
            log_run_summary(self.logger, summary, started, finished)

    def _handle_termination(self, signum: int, frame: Any) -> None:  # pragma: no cover
        """SIGTERM/SIGINT: write the state so far, then stop with a non-zero exit code
        (the SDK's handler exits 0, which would pass an unfinished run off as a success)."""
        try:
            self._state_writer.write_state(self.state)
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
