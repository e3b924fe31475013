"""What the tap writes to stdout: the message writer, the state writer, and the page path.

The SDK's record loop (in `Stream.sync`) writes a RECORD per record through the
message writer. For a plain sync (see `TwilioStream.writes_pages`) the page path below does
the loop's work once per page instead: each page's records converted, written in one go,
counted, given to the bookmark, and a STATE written at the SDK's cadence.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from singer_sdk.contrib.msgspec import MsgSpecWriter, encoder, serialize_jsonl
from singer_sdk.singerlib import Message, RecordMessage, SchemaMessage, StateMessage


class RecordBufferingWriter(MsgSpecWriter):
    """The SDK's msgspec writer, writing RECORD lines in blocks of about 1 MiB.

    The SDK's writer writes and flushes stdout after every message: one `write` syscall per
    record. Letting `sys.stdout`'s buffer collect them is not enough: with PYTHONUNBUFFERED
    set (common in containers) `sys.stdout.buffer` is the raw file. So the records collect
    in a buffer of our own, written out when it is full and before every other message
    (SCHEMA, STATE, ...): a target still receives every record before the STATE that covers
    it, and records a killed run never wrote are re-read from that STATE. Each write lets
    the page-reading threads take the GIL, so the blocks are large.

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
        # (stream, version, time_extracted) of the last record
        self.frame: tuple[str, int | None, dt.datetime] | None = None
        self.frame_bytes = (b"", b"")
        self.schema_lines: dict[str, bytes] = {}  # stream -> its last SCHEMA line
        self.state_is_last = False  # whether the last message written is a STATE
        self.records_written: Counter[str] = Counter()  # RECORD messages per stream name
        self.record_bytes = 0  # bytes of the RECORD lines written
        self.writing = False  # inside `flush`
        self.when_written: Callable[[], None] | None = None  # see `after_writing`

    def write_message(self, message: Message) -> None:
        line = self.format_message(message)
        self.drop_cut_off_line()
        if isinstance(message, SchemaMessage):
            schema_line = bytes(line)
            if self.schema_lines.get(message.stream) == schema_line:
                return
            self.schema_lines[message.stream] = schema_line
        self.state_is_last = isinstance(message, StateMessage)
        if isinstance(message, RecordMessage):
            self.records_written[message.stream] += 1
            self.record_bytes += len(line)
        self.pending += line
        if len(self.pending) >= self.BLOCK_BYTES or not isinstance(message, RecordMessage):
            self.flush()

    def serialize_message(self, message: Message) -> bytearray:
        """The SDK's line for a message, encoded from the message's own values.

        `message.to_dict()` deep-copies the whole message (`dataclasses.asdict`) only to
        encode it. A STATE message holds every partition's bookmark and the SDK writes one
        per partition (and a SCHEMA per partition), so with many subaccounts the copying
        grew with the square of their number.
        """
        return serialize_jsonl(message_fields(message))

    def write_records(
        self, stream: str, records: list[dict[str, Any]], version: int | None,
        time_extracted: dt.datetime,
    ) -> None:
        """A page's RECORD messages: the bytes `write_message(RecordMessage(...))` writes
        for each. Only the record itself is encoded per record; the message's other keys
        are the same for a page's records, so their bytes are encoded once."""
        self.state_is_last = False
        self.records_written[stream] += len(records)
        frame = (stream, version, time_extracted)
        if frame != self.frame:
            self.frame, self.frame_bytes = frame, self.record_frame(*frame)
        prefix, suffix = self.frame_bytes
        pending, encode_into = self.pending, encoder.encode_into
        start = len(pending)
        for record in records:
            pending += prefix
            encode_into(record, pending, -1)  # -1: append
            pending += suffix
            if len(pending) >= self.BLOCK_BYTES:
                self.record_bytes += len(pending) - start
                self.flush()  # empties `pending` in place
                start = 0
        self.record_bytes += len(pending) - start

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

    def drop_cut_off_line(self) -> None:
        """Drop a record cut short between its parts in `write_records` (by an exception,
        a signal's): never glued to the next line. Its bookmark was not advanced, so a
        resumed run reads it again."""
        del self.pending[self.pending.rfind(b"\n") + 1 :]

    def flush(self) -> None:
        """Write out the buffered lines and flush stdout."""
        self.drop_cut_off_line()
        self.writing = True
        try:
            # Each part leaves the buffer once written: a failure during the write leaves
            # the rest for the run's end to write before its last STATE.
            while self.pending:
                written = sys.stdout.buffer.write(bytes(self.pending))
                del self.pending[: written or 0]  # a raw file may write only part (or None)
            sys.stdout.flush()
        finally:
            self.writing = False
            then, self.when_written = self.when_written, None
            if then is not None:
                then()

    def after_writing(self, action: Callable[[], None]) -> bool:
        """Run `action` once the write in progress is done; False when none is.

        A signal's handler runs in the main thread between any two steps, also inside
        stdout's write (Python checks for signals there) before the written lines leave
        the buffer: a handler that wrote its STATE then would write those lines twice."""
        if not self.writing:
            return False
        self.when_written = action
        return True


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


class EncodedStateWriter:
    """What the SDK's StateWriter does (a STATE message only when the state changed),
    leaving out what carries nothing, remembering the last state written as its JSON bytes
    instead of as a deep copy, and writing a STATE only as often as it is worth.

    A STATE holds every account's partitions; the SDK asks for one after each partition
    (one per account and stream) and deep-copies the state each time. So:

    - a partition without a bookmark or progress (only its `context`: a list that had no
      records) and a stream left with nothing are not written: a resumed run starts such
      a partition from the settings, as it would from an empty one;
    - a changed state is written when it is asked for at least `min_seconds` after the
      last STATE and when its bytes are at most `record_share` of the RECORD
      bytes written since the last STATE; otherwise it is held back, and encoded again
      only once both allow a state of the size it had;
    - the run's end, a failure and a stop (SIGTERM, Ctrl-C) write the state they reached
      (`write_last`), after the records it covers.

    Equal bytes mean an equal state; a state equal but in another key order is written
    again, which a target takes as it is.
    """

    def __init__(self, message_writer: RecordBufferingWriter, min_seconds: float = 0.0,
                 record_share: float | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.message_writer = message_writer
        self.min_seconds = min_seconds
        self.record_share = record_share  # None: whatever the records
        self.clock = clock
        self.last_written: bytes | None = None
        self.written_at: float | None = None
        self.record_bytes_then = 0  # the writer's RECORD bytes at the last STATE
        self.last_size = 0  # bytes of the last state encoded, written or not

    def write_state(self, state: Any) -> None:
        """A STATE now if it is worth it (see the class), otherwise none yet."""
        if not self.due():
            return
        worth = state_worth_writing(state)
        encoded = encoder.encode(worth)
        self.last_size = len(encoded)
        if encoded != self.last_written and self.records_allow(len(encoded)):
            self.write(worth, encoded)

    def write_last(self, state: Any) -> None:
        """The run's last message, at its end or at a stop: a STATE covering everything
        written before it, also when it equals the last one written (a stream that read only
        records at or before its bookmark, a resumed run re-reading its lookback, wrote
        RECORDs after it; a target that keeps the last STATE it saw, e.g. target-jsonl
        piped to `tail -1`, would otherwise have none to resume from)."""
        worth = state_worth_writing(state)
        encoded = encoder.encode(worth)
        if encoded != self.last_written or not self.message_writer.state_is_last:
            self.write(worth, encoded)

    def due(self) -> bool:
        """Whether the time since the last STATE and the records written since
        the last STATE allow a state of its size (checked before encoding: a state is
        large, and asked for after every partition)."""
        if self.written_at is not None and self.clock() - self.written_at < self.min_seconds:
            return False
        return self.records_allow(self.last_size)

    def record_bytes_since(self) -> int:
        """RECORD bytes written since the last STATE."""
        return self.message_writer.record_bytes - self.record_bytes_then

    def records_allow(self, size: int) -> bool:
        if self.record_share is None:
            return True
        return size <= self.record_share * self.record_bytes_since()

    def write(self, worth: Any, encoded: bytes) -> None:
        self.message_writer.write_message(StateMessage(value=worth))
        self.last_written, self.written_at = encoded, self.clock()
        self.record_bytes_then = self.message_writer.record_bytes


def state_worth_writing(state: Any) -> Any:
    """The state without what carries nothing: partitions holding only their `context`,
    and streams whose entry is then empty (`{}` or no partition left). Not copied when
    there is nothing to leave out of a stream's entry."""
    if not isinstance(state, Mapping) or not isinstance(state.get("bookmarks"), Mapping):
        return state
    bookmarks = {}
    for stream, entry in state["bookmarks"].items():
        if isinstance(entry, Mapping) and isinstance(entry.get("partitions"), list):
            kept = [p for p in entry["partitions"]
                    if not (isinstance(p, Mapping) and set(p) <= {"context"})]
            if len(kept) < len(entry["partitions"]):
                entry = {**entry, "partitions": kept} if kept else {
                    key: value for key, value in entry.items() if key != "partitions"}
        if entry != {}:
            bookmarks[stream] = entry
    return {**state, "bookmarks": bookmarks}


@dataclasses.dataclass
class PageOutput:
    """Where a plain sync's pages go: what the SDK's record loop does per record, per page.

    Handed everything it needs by the stream (see `TwilioStream.page_output`); the bookmark
    and STATE steps are the SDK's own, passed in as functions.
    """

    writer: RecordBufferingWriter
    # a raw Twilio record -> the record written
    transform: Callable[[dict[str, Any]], dict[str, Any]]
    stream: str  # the name RECORDs are written under
    version: int | None  # RECORD's `version` (see sdk_compat.stream_version)
    partition_keys: Mapping[str, Any]  # added to each record lacking them
    bookmark_key: str | None  # the replication key when records advance a bookmark
    keeps_greatest: bool  # the bookmark is the greatest value given (an unsorted stream)
    advance_bookmark: Callable[[dict[str, Any]], None]  # the SDK's bookmark step for one record
    records_written: Callable[[int], None]  # counts records, marks the state changed
    write_state: Callable[[], None]  # the SDK's STATE (only when the state changed)
    state_every: int  # a STATE after every this many records, as the SDK's loop

    def write(self, pages: Iterable[tuple[list[dict[str, Any]], dt.datetime]]) -> None:
        """Write each (page, time its page arrived) and advance the bookmark."""
        written = 0
        for page, extracted in pages:
            records = self.records(page)
            self.writer.write_records(self.stream, records, self.version, extracted)
            self.records_written(len(records))
            self.advance(records)
            if (written + len(records)) // self.state_every > written // self.state_every:
                self.write_state()
            written += len(records)

    def records(self, page: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """A page's records as written: converted, with the partition's keys."""
        records = [self.transform(row) for row in page]
        for key, value in self.partition_keys.items():
            for record in records:
                if key not in record:
                    record[key] = value
        return records

    def advance(self, records: list[dict[str, Any]]) -> None:
        """Give the page's records to the bookmark: only its latest when the bookmark keeps
        the greatest value and the values are RFC 3339 strings in UTC (which compare as the
        times do); a record without a value changes nothing, as in the SDK."""
        key = self.bookmark_key
        if key is None:
            return
        dated = [record for record in records if record.get(key) is not None]
        if dated and self.keeps_greatest and all(type(r[key]) is str for r in dated):
            dated = [max(dated, key=lambda record: record[key])]
        for record in dated:
            self.advance_bookmark(record)
