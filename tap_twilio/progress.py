"""Progress a person can follow on stderr: per stream, a line every `interval` seconds with
records and pages so far and the rate, and a summary line per stream at the end of the run.

    messages: 48,000 records, 48 pages, 2 accounts, 4,120 records/s, 11.6s
    ...
    messages: done, 150,000 records, 150 pages, 3 accounts, 3,980 records/s, 37.7s
    sync finished: 171,000 records, 420 pages, 19 streams, 3,900 records/s, 43.8s

Progress lines count the records read; a summary line counts the RECORD messages written,
per output stream, and adds the records read when a stream map made them differ:

    messages: done, 434 records (932 read), 3 pages, 3 accounts, 3,980 records/s, 0.2s
    messages: done, 932 records as sms, 3 pages, 3 accounts, 3,980 records/s, 0.2s

Times are each stream's busy time (a parent's includes its children's); rates are of the
records read.

The SDK's per-request JSON `METRIC:` lines and its per-partition chatter (one line per
message with media, per conference, ...) would bury these, so `quiet_sdk_logging` drops
them; set TAP_TWILIO_SDK_METRICS=1 to keep the SDK's metrics, and
TAP_TWILIO_PROGRESS_SECONDS to change the interval (default 10 s; 0 logs every page).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from typing import Any

DEFAULT_INTERVAL = 10.0


def progress_interval() -> float:
    try:
        return max(0.0, float(os.environ.get("TAP_TWILIO_PROGRESS_SECONDS", DEFAULT_INTERVAL)))
    except ValueError:
        return DEFAULT_INTERVAL


def _rate(records: int, seconds: float) -> str:
    return f"{records / seconds:,.0f} records/s" if seconds > 0 else "- records/s"


class StreamProgress:
    """Records and pages of one stream over all its partitions (accounts, parent records).

    Time is the stream's busy time: the sum of its partitions' read times (a parent's
    includes its children's), so a small stream read once per account between big ones is
    not credited with the whole run's duration. A progress line is due after `interval`
    seconds of busy time, so only streams that take a while print them.
    """

    def __init__(self, stream: str, logger: logging.Logger, interval: float | None = None):
        self.stream = stream
        self.logger = logger
        self.interval = progress_interval() if interval is None else interval
        self.records = 0
        self.pages = 0
        self.accounts: set[str] = set()
        self._busy = 0.0  # closed partitions
        self._since: float | None = None  # start of the open partition(s)
        self._depth = 0
        self._logged_at = 0.0  # busy time of the last progress line
        self._lock = threading.Lock()

    def start(self) -> None:
        """A partition's read begins."""
        with self._lock:
            if self._depth == 0:
                self._since = time.monotonic()
            self._depth += 1

    def stop(self) -> None:
        """A partition's read ended (or failed)."""
        with self._lock:
            self._depth = max(0, self._depth - 1)
            if self._depth == 0 and self._since is not None:
                self._busy += time.monotonic() - self._since
                self._since = None

    @property
    def elapsed(self) -> float:
        """Busy seconds so far."""
        running = time.monotonic() - self._since if self._since is not None else 0.0
        return self._busy + running

    def page(self, records: int, account_sid: str | None = None) -> None:
        """Count one page read; log a progress line when it is due."""
        with self._lock:
            self.pages += 1
            self.records += records
            if account_sid:
                self.accounts.add(account_sid)
            busy = self.elapsed
            due = busy - self._logged_at >= self.interval
            if due:
                self._logged_at = busy
        if due:
            self.logger.info("%s", self.line())

    def line(self, prefix: str = "", counted: str | None = None) -> str:
        """`stream: {prefix}{counted}, pages, accounts, rate, time`; `counted` defaults to
        the records read."""
        seconds = self.elapsed
        pages = f"{self.pages:,} page" + "s" * (self.pages != 1)
        accounts = len(self.accounts)
        where = f", {accounts} account" + "s" * (accounts != 1) if accounts else ""
        counted = counted or f"{self.records:,} records"
        return (f"{self.stream}: {prefix}{counted}, {pages}{where}, "
                f"{_rate(self.records, seconds)}, {seconds:.1f}s")


def records_written(stream: str, read: int, written: dict[str, int]) -> str:
    """The RECORD messages written per output stream (the stream itself, or the aliases
    its stream maps give it), and how many were read when a map filtered or dropped some."""
    written = written or {stream: 0}  # a stream map removed the stream
    text = " + ".join(f"{count:,} records" + ("" if alias == stream else f" as {alias}")
                      for alias, count in written.items())
    if any(count != read for count in written.values()):
        text += f" ({read:,} read)"
    return text


def log_run_summary(logger: logging.Logger,
                    streams: list[tuple[StreamProgress, dict[str, int]]],
                    started: float, finished: bool = True) -> None:
    """One line per stream (`done`, or `stopped` after a failure), then the run's totals.

    `streams`: each stream's progress and the RECORD messages written for it, by output
    stream name."""
    prefix = "done, " if finished else "stopped, "
    for item, written in streams:
        logger.info("%s", item.line(prefix, records_written(item.stream, item.records,
                                                            written)))
    read = sum(item.records for item, _ in streams)
    total = sum(sum(written.values()) for _, written in streams)
    counted = f"{total:,} records" + (f" ({read:,} read)" if total != read else "")
    pages = sum(item.pages for item, _ in streams)
    seconds = time.monotonic() - started
    logger.info("sync %s: %s, %s pages, %d streams, %s, %.1fs",
                "finished" if finished else "stopped", counted, f"{pages:,}",
                len(streams), _rate(read, seconds), seconds)


def log_connection_test(logger: logging.Logger,
                        streams: list[tuple[StreamProgress, StreamProgress | None]]) -> None:
    """`--test`'s last line: the streams that answered (a page read), and why any other was
    not read. `streams`: each stream's progress and its parent stream's (None: no parent)."""
    readable = [item.stream for item, _ in streams if item.pages]
    unread = [f"{item.stream} ({reason_not_read(parent)})"
              for item, parent in streams if not item.pages]
    line = (f"connection test passed: {len(readable)} of {len(streams)} streams readable"
            f" ({', '.join(readable)})")
    if unread:
        line += "; not read: " + ", ".join(unread)
    logger.info("%s", line)


def reason_not_read(parent: StreamProgress | None) -> str:
    if parent is not None and not parent.records:
        return f"no {parent.stream} record to read it for"
    return "no page read"


# SDK log lines repeated per partition or per record that say nothing a user can act on.
_DROPPED = (
    "Stream is assumed to be unsorted",  # Twilio lists are newest first; handled
    "New replication value is null",  # queued messages, calls not yet dialled
    "Context for child streams of",  # a message without media has no media list
    "Added '%s' as child stream",  # the stream tree is fixed: see --discover
    "Skipping parse of env var settings",
)
_ONCE_PER_STREAM = ("Beginning sync of '%s' in %s mode",)
# `--test` stops each stream after one record by raising inside it; the SDK logs each stop.
_EXPECTED_IN_CONNECTION_TEST = "An unhandled error occurred while syncing"


class QuietSDKFilter(logging.Filter):
    """Drops the SDK's JSON metrics and per-partition repetitions (see module doc)."""

    def __init__(self, keep_metrics: bool) -> None:
        super().__init__("tap-twilio-quiet")
        self.keep_metrics = keep_metrics
        self.connection_test = False
        self.seen: set[tuple[str, Any]] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name == "singer_sdk.metrics" and not self.keep_metrics:
            return False
        message = str(record.msg)
        if record.levelno <= logging.WARNING and message.startswith(_DROPPED):
            return False
        if self.connection_test and message.startswith(_EXPECTED_IN_CONNECTION_TEST):
            return False
        if message.startswith(_ONCE_PER_STREAM):
            first_arg = record.args[0] if isinstance(record.args, tuple) and record.args else None
            key = (record.name, first_arg)
            if key in self.seen:
                return False
            self.seen.add(key)
        return True


def quiet_sdk_logging() -> None:
    """Install `QuietSDKFilter` on the handlers of the root logger (once)."""
    keep = os.environ.get("TAP_TWILIO_SDK_METRICS", "") not in ("", "0", "false")
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, QuietSDKFilter) for f in handler.filters):
            handler.addFilter(QuietSDKFilter(keep))


def expect_connection_test_stops(expected: bool) -> None:
    """Hide (or show again) the SDK's error line for each stream `--test` stops on purpose."""
    for handler in logging.getLogger().handlers:
        for log_filter in handler.filters:
            if isinstance(log_filter, QuietSDKFilter):
                log_filter.connection_test = expected
