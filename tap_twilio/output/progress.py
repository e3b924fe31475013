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

The SDK's own per-stream and per-partition lines are lowered to DEBUG (see logs.py). Set
TAP_TWILIO_PROGRESS_SECONDS to change the interval (default 10 s; 0 logs every page).
"""

from __future__ import annotations

import logging
import os
import threading
import time

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
    """One line per stream (`done`), then the run's totals. After a failure the line that
    matters is its cause, said next (cli.py): the streams that read a page get their
    `stopped` line at debug level only.

    `streams`: each stream's progress and the RECORD messages written for it, by output
    stream name."""
    prefix = "done, " if finished else "stopped, "
    for item, written in streams:
        if finished or item.pages:
            logger.log(logging.INFO if finished else logging.DEBUG, "%s", item.line(
                prefix, records_written(item.stream, item.records, written)))
    read = sum(item.records for item, _ in streams)
    total = sum(sum(written.values()) for _, written in streams)
    counted = f"{total:,} records" + (f" ({read:,} read)" if total != read else "")
    pages = sum(item.pages for item, _ in streams)
    seconds = time.monotonic() - started
    logger.info("sync %s: %s, %s pages, %d streams, %s, %.1fs",
                "finished" if finished else "stopped", counted, f"{pages:,}",
                len(streams), _rate(read, seconds), seconds)


def log_connection_test(logger: logging.Logger,
                        streams: list[tuple[StreamProgress, StreamProgress | None]],
                        passed: bool) -> None:
    """`--test`'s lines: the streams not read, one line per reason, then the verdict and the
    counts in one short last line. `streams`: each stream's progress and its parent
    stream's (None: no parent)."""
    unread: dict[str, list[str]] = {}
    for item, parent in streams:
        if not item.pages:
            unread.setdefault(reason_not_read(parent), []).append(item.stream)
    for reason, names in sorted(unread.items()):
        logger.info("not read, %s: %s", reason, ", ".join(sorted(names)))
    readable = sum(1 for item, _ in streams if item.pages)
    line = (f"connection test {'passed' if passed else 'failed'}: {readable} of "
            f"{len(streams)} streams readable")
    if unread:
        kinds: dict[str, int] = {}
        for reason, names in unread.items():
            kind = "with no page read" if reason == NO_PAGE else "for want of a parent record"
            kinds[kind] = kinds.get(kind, 0) + len(names)
        line += "; not read: " + ", ".join(
            f"{count} {kind}" for kind, count in sorted(kinds.items())) + " (above)"
    logger.info("%s", line)


NO_PAGE = "no page read"


def reason_not_read(parent: StreamProgress | None) -> str:
    if parent is not None and not parent.records:
        return f"no {parent.stream} record to read them for"
    return NO_PAGE
