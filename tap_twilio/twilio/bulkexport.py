"""Records Twilio keeps but no longer lists, read from Twilio's BulkExport.

Twilio lists messages for 400 days, calls and conferences for about 13 months, and a
conference's participants only while it is in progress; the rest are kept and served only by
BulkExport (`bulkexports.twilio.com/v1`, US1 only) as day files: `Days` lists the days
exported, `Days/{day}` answers 307 with a one-time, short-lived link of a gzip file of
JSON lines (the list's records with ISO 8601 times and fewer fields). Days not
exported can be asked for with a job, which Twilio allows for 366 days per UTC day across
an account and its subaccounts.

`HistoryRead` reads one account's days that a run wants and the list no longer has: the
days already downloaded (in the partition's state, as merged day ranges) are skipped, the
files are streamed and read in parallel, the days with no file are said, and with the
opt-in setting jobs are asked for them; a later run downloads the days those jobs finished.

Which days a run wants: for messages, calls and conferences, the window's days older than
the list's retention; for participants, the days of the completed conferences read (kept in
the state as `wanted` until their file has been read, so a later run reads a day exported
late).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from requests.auth import AuthBase

from tap_twilio.twilio.concurrency import walk_in_parallel
from tap_twilio.twilio.exportfiles import (
    ExportHttp,
    ExportRefused,
    LinkRefused,
    json_lines,
    path_of,
)
from tap_twilio.twilio.window import days_between

HOST = "bulkexports.twilio.com"
EXPORT_TYPES = {"messages": "Messages", "calls": "Calls",  # stream -> BulkExport's type
                "conferences": "Conferences", "conference_participants": "Participants"}
DAYS_PAGE_SIZE = 400  # the most Twilio serves a page
RECORDS_PER_PAGE = 1000
DAILY_ALLOWANCE = 366  # days requested by jobs per UTC day, an account and its subaccounts
DOWNLOAD_TRIES = 5
STATE_KEY = "bulk_export"
# A day is exported once it is over: jobs must end two days before today, and a day's
# automatic export appears the day after; a newer day without a file is not yet missing.
EXPORT_LAG_DAYS = 2
JOB_NAME = "tap-twilio history"
JOB_BRIDGES_DAYS = 7  # a job spans gaps of up to a week between missing days


# --- day ranges --------------------------------------------------------------------------

def day_ranges(days: Iterable[dt.date], bridged: int = 0) -> list[tuple[dt.date, dt.date]]:
    """Days merged into contiguous ranges, oldest first; with `bridged`, ranges apart by
    at most that many days are one range."""
    ranges: list[tuple[dt.date, dt.date]] = []
    for day in sorted(set(days)):
        if ranges and ranges[-1][1] + dt.timedelta(days=1 + bridged) >= day:
            ranges[-1] = (ranges[-1][0], day)
        else:
            ranges.append((day, day))
    return ranges


def ranges_text(days: Iterable[dt.date]) -> list[str]:
    """`["2024-01-03..2024-02-10", "2024-03-01"]`: how ranges are said and kept."""
    return [str(a) if a == b else f"{a}..{b}" for a, b in day_ranges(days)]


SAID_RANGES = 6  # ranges a warning names one by one; more are summed up


def days_said(days: set[dt.date]) -> str:
    """Days as a warning names them: their ranges, or, when there are many (the sparse days
    of completed conferences), how many and between which, with the first and last ranges
    (the state's `wanted` holds them all)."""
    ranges = ranges_text(days)
    if len(ranges) <= SAID_RANGES:
        return ", ".join(ranges)
    return (f"{len(days)} days in {len(ranges)} ranges from {min(days)} to {max(days)} "
            f"({', '.join(ranges[:3])}, ..., {', '.join(ranges[-2:])})")


def days_of(texts: Iterable[str]) -> set[dt.date]:
    """The days of `ranges_text`'s ranges."""
    days: set[dt.date] = set()
    for text in texts:
        first, _, last = text.partition("..")
        days.update(days_between(dt.date.fromisoformat(first),
                                 dt.date.fromisoformat(last or first)))
    return days


def keep_days(entry: dict[str, Any], key: str, days: set[dt.date]) -> None:
    """A list of days in the state's `bulk_export` entry, as ranges; none: the key dropped."""
    if days:
        entry[key] = ranges_text(days)
    else:
        entry.pop(key, None)


def want_days(state: dict[str, Any], days: Iterable[dt.date]) -> None:
    """Note in a partition's state days to read from BulkExport (those not read yet)."""
    entry = state.setdefault(STATE_KEY, {})
    wanted = (days_of(entry.get("wanted", [])) | set(days)) - days_of(entry.get("days", []))
    keep_days(entry, "wanted", wanted)


def wanted_days(state: Mapping[str, Any]) -> list[dt.date]:
    """The days `want_days` noted that are not read yet."""
    return sorted(days_of((state.get(STATE_KEY) or {}).get("wanted", [])))


def jobs_pending(state: Mapping[str, Any]) -> bool:
    """Whether a partition's state keeps BulkExport jobs a run is to look at."""
    return bool((state.get(STATE_KEY) or {}).get("jobs"))


def days_beyond_retention(start: dt.date | None, end: dt.date | None,
                          created: dt.date | None, retention_days: int,
                          today: dt.date) -> list[dt.date]:
    """The days of a window (none before the account's creation) that the list no longer
    keeps: those before its first day, `retention_days - 1` before today."""
    first = max(start, created) if start and created else start or created
    first_listed = first_listed_day(retention_days, today)
    last = min(end or today, first_listed - dt.timedelta(days=1))
    return days_between(first, last) if first and first <= last else []


def first_listed_day(retention_days: int, today: dt.date) -> dt.date:
    """The oldest day a list keeps (today counts as one of its days)."""
    return today - dt.timedelta(days=retention_days - 1)


def export_unreachable(region: str | None, auth: AuthBase | None) -> str | None:
    """Why an account's exports cannot be read this run, if they cannot."""
    if region and region != "us1":
        return (f"region {region}: Twilio's BulkExport is only in US1, so messages, calls "
                "and conferences older than their lists' retention, and completed "
                "conferences' participants, are not reachable")
    if auth is None:
        return ("With an API key, BulkExport (messages, calls and conferences older than "
                "their lists' retention, completed conferences' participants) is read only "
                "for the key's own account")
    return None


# --- jobs --------------------------------------------------------------------------------

@dataclass
class DailyAllowance:
    """The days a run may still ask jobs for today (Twilio's 366 a day, across accounts):
    less those of the jobs the state says were asked today, by an earlier run."""

    left: int = DAILY_ALLOWANCE
    counted_state: bool = False

    def count_state(self, state: Mapping[str, Any], today: dt.date) -> None:
        if self.counted_state:
            return
        self.counted_state = True
        for bookmark in (state.get("bookmarks") or {}).values():
            for partition in bookmark.get("partitions") or []:
                for job in (partition.get(STATE_KEY) or {}).get("jobs", []):
                    if job.get("requested") == today.isoformat():
                        self.left -= len(days_of([job["days"]]))

    def take(self, wanted: int) -> int:
        granted = max(0, min(self.left, wanted))
        self.left -= granted
        return granted


class DayPage(list[dict[str, Any]]):
    """Records of one day's file; `last` on the day's final page."""

    def __init__(self, records: list[dict[str, Any]], day: dt.date, last: bool) -> None:
        super().__init__(records)
        self.day = day
        self.last = last


@dataclass
class HistoryRead:
    """One account's days of one stream read from BulkExport (see the module's text)."""

    stream: str
    account: str
    wanted: list[dt.date]  # days the run wants that the list no longer has
    state: dict[str, Any]  # the partition's state: its `bulk_export` entry is kept here
    http: ExportHttp
    fields: tuple[str, ...]  # the stream's fields: those a file leaves out are null
    workers: int
    say_missing: Callable[[str], None]
    logger: logging.Logger
    allowance: DailyAllowance | None = None  # set when the run may ask for jobs
    list_filter: tuple[str, dt.date] | None = None  # the list's date field and first day
    today: dt.date = field(default_factory=lambda: dt.datetime.now(dt.timezone.utc).date())
    day_read: Callable[[], None] = lambda: None  # a day's records written and kept as read

    @property
    def resource_type(self) -> str:
        return EXPORT_TYPES[self.stream]

    @property
    def kept(self) -> dict[str, Any]:
        entry: dict[str, Any] = self.state.setdefault(STATE_KEY, {})
        return entry

    def pages(self) -> Iterator[list[dict[str, Any]]]:
        """The records of the days to read, page by page; each day is recorded as done
        in the state once its last page has been taken."""
        done = days_of(self.kept.get("days", []))
        finished = self.finished_job_days() - done
        wanted = set(self.wanted) - done
        try:
            exported = self.exported_days() if wanted else set()
        except ExportRefused as exc:
            self.say_missing(f"{self.stream}: account {self.account}: BulkExport refused "
                             f"({exc}): {days_said(wanted)} not read")
            wanted = exported = set()
        exportable = self.today - dt.timedelta(days=EXPORT_LAG_DAYS)
        missing = {day for day in wanted - exported if day <= exportable}
        if missing:
            self.say_missing(f"{self.stream}: account {self.account}: no BulkExport file for "
                             f"{days_said(missing)}")
            if self.allowance is not None:
                self.request_jobs(missing - self.pending_job_days())
        to_read = sorted((wanted & exported) | finished)
        for page in walk_in_parallel(to_read, self.day_pages, self.workers):
            yield page
            if isinstance(page, DayPage) and page.last:
                self.mark_read(page.day, done)
        self.drop_finished_jobs(done)

    def mark_read(self, day: dt.date, done: set[dt.date]) -> None:
        """A day read whole: kept as read, and no longer wanted."""
        done.add(day)
        keep_days(self.kept, "days", done)
        if "wanted" in self.kept:
            keep_days(self.kept, "wanted", days_of(self.kept["wanted"]) - done)
        self.day_read()

    def exported_days(self) -> set[dt.date]:
        days: set[dt.date] = set()
        path: str | None = f"/v1/Exports/{self.resource_type}/Days"
        params: dict[str, Any] | None = {"PageSize": DAYS_PAGE_SIZE}
        while path:
            page = self.http.get_json(path, params)
            days.update(dt.date.fromisoformat(d["day"]) for d in page.get("days", []))
            next_url = (page.get("meta") or {}).get("next_page_url")
            path = path_of(next_url) if next_url else None
            params = None
        return days

    def day_pages(self, day: dt.date) -> Iterator[DayPage]:
        """A day's records; a link refused or broken off is asked for again, and the
        records already taken from it are not given twice."""
        taken = 0
        for attempt in range(1, DOWNLOAD_TRIES + 1):
            link = self.http.get_json(f"/v1/Exports/{self.resource_type}/Days/{day}")
            try:
                records = json_lines(self.http.open_file(link["redirect_to"]))
                page: list[dict[str, Any]] = []
                for n, record in enumerate(records):
                    if n < taken or self.listed(record):
                        continue
                    page.append(self.complete(record))
                    if len(page) == RECORDS_PER_PAGE:
                        taken = n + 1
                        yield DayPage(page, day, last=False)
                        page = []
                yield DayPage(page, day, last=True)
                return
            except LinkRefused as exc:
                if attempt == DOWNLOAD_TRIES:
                    raise LinkRefused(
                        f"{self.stream}: the BulkExport file of {day} (account {self.account}) "
                        f"could not be read in {DOWNLOAD_TRIES} tries ({exc}); run again later "
                        "(the days read are kept in the state)") from None
                self.logger.info("%s: %s of account %s: %s; asking for a fresh link",
                                 self.stream, day, self.account, exc)

    def listed(self, record: dict[str, Any]) -> bool:
        """Whether the list reads this record: its date (the list's filter) is within the
        list's days, as where a file holds a day by another date (created, not sent)."""
        if self.list_filter is None:
            return False
        field_name, first_listed = self.list_filter
        value = record.get(field_name)
        return isinstance(value, str) and value[:10] >= first_listed.isoformat()

    def complete(self, record: dict[str, Any]) -> dict[str, Any]:
        """A file's record with the fields the export leaves out set to null."""
        for name in self.fields:
            record.setdefault(name, None)
        return record

    # --- jobs ----------------------------------------------------------------------------
    def request_jobs(self, missing: set[dt.date]) -> None:
        """Jobs for the missing ranges, as far as the day's allowance goes. A job spans
        gaps of up to `JOB_BRIDGES_DAYS` between them: Twilio e-mails the account's admins
        about each job, and sparse days (a conference every few days) would make one job
        a day; the days bridged cost some of the allowance, and their files are read too."""
        assert self.allowance is not None
        last_allowed = self.today - dt.timedelta(days=EXPORT_LAG_DAYS)
        allowed = (d for d in missing if d <= last_allowed)
        for first, last in day_ranges(allowed, bridged=JOB_BRIDGES_DAYS):
            count = self.allowance.take((last - first).days + 1)
            if not count:
                self.logger.warning("%s: Twilio's daily allowance of %d requested days is "
                                    "used up; the next run asks for the rest", self.stream,
                                    DAILY_ALLOWANCE)
                return
            end = first + dt.timedelta(days=count - 1)
            try:
                job = self.http.post_form(f"/v1/Exports/{self.resource_type}/Jobs", {
                    "StartDay": first.isoformat(), "EndDay": end.isoformat(),
                    "FriendlyName": JOB_NAME})
            except ExportRefused as exc:
                self.logger.warning("%s: account %s: Twilio refused a BulkExport job for "
                                    "%s..%s: %s", self.stream, self.account, first, end, exc)
                return
            self.kept.setdefault("jobs", []).append(
                {"job_sid": job["job_sid"], "days": ranges_text(days_between(first, end))[0],
                 "requested": self.today.isoformat()})
            self.logger.info("%s: account %s: asked BulkExport job %s for %s..%s",
                             self.stream, self.account, job["job_sid"], first, end)

    def pending_job_days(self) -> set[dt.date]:
        return days_of(job["days"] for job in self.kept.get("jobs", []))

    def finished_job_days(self) -> set[dt.date]:
        """Days of the state's jobs that Twilio has finished exporting."""
        days: set[dt.date] = set()
        for job in list(self.kept.get("jobs", [])):
            try:
                answer = self.http.get_json(f"/v1/Exports/Jobs/{job['job_sid']}")
            except ExportRefused as exc:  # Twilio deletes a job's files after 7 days
                self.logger.warning("%s: account %s: BulkExport job %s (%s) is gone: %s",
                                    self.stream, self.account, job["job_sid"], job["days"], exc)
                self.kept["jobs"].remove(job)
                continue
            for status in answer.get("details") or []:
                if str(status.get("status", "")).lower().startswith("completed"):
                    days.update(dt.date.fromisoformat(d) for d in status.get("days", []))
        return days

    def drop_finished_jobs(self, done: set[dt.date]) -> None:
        jobs = [job for job in self.kept.get("jobs", []) if not days_of([job["days"]]) <= done]
        if jobs:
            self.kept["jobs"] = jobs
        else:
            self.kept.pop("jobs", None)
