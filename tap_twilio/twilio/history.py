"""A list's days older than it keeps, from BulkExport: which of a partition's days the list
no longer has, and the reader of those days (bulkexport.py) given the partition's
credentials, state and limits.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterator, Mapping
from functools import partial
from typing import TYPE_CHECKING, Any

import requests

from tap_twilio.twilio.bulkexport import (
    EXPORT_TYPES,
    HOST,
    HistoryRead,
    days_beyond_retention,
    export_unreachable,
    first_listed_day,
    jobs_pending,
    wanted_days,
)
from tap_twilio.twilio.client import Partition
from tap_twilio.twilio.exportfiles import ExportHttp, ExportRefused
from tap_twilio.twilio.http import twilio_error_text
from tap_twilio.twilio.window import reading_window, today_utc

if TYPE_CHECKING:
    from tap_twilio.twilio.reader import ListReader


def exported_pages(reader: ListReader, partition: Partition, bookmark: dt.date | None,
                   state: dict[str, Any], run_state: Mapping[str, Any],
                   fields: tuple[str, ...], day_read: Callable[[], None]
                   ) -> Iterator[list[dict[str, Any]]]:
    """The partition's days older than its list keeps, from Twilio's BulkExport; nothing
    (and no request) when the window stays within the list and no job is pending. `state`
    is the partition's (its `bulk_export` entry is kept there), `run_state` the whole
    state (the jobs asked today), `fields` the stream's (those a file leaves out are null),
    `day_read` told each time a day's records are all written and kept in the state."""
    spec, config = reader.spec, reader.config
    per_parent = spec.behaviour.kept_days_of_parent and reader.lists(partition)
    if spec.name not in EXPORT_TYPES or per_parent:  # children's days: once per account
        return iter(())
    account = partition.get("account_sid") or config["account_sid"]
    today = today_utc()
    wanted = days_wanted(reader, partition, bookmark, state, today)
    if not wanted and not jobs_pending(state):
        return iter(())
    auth = reader.run.accounts.credentials(account, own=True)
    if (unreachable := export_unreachable(config.get("region"), auth)) or not auth:
        reader.run.warn_once(unreachable or "")
        return iter(())
    client = reader.client
    http = ExportHttp(reader.hosts.url(HOST), lambda: client.session, auth,
                      partial(check_export, reader, account), client.retried,
                      partial(reader.run.limiter.slot, account), client.timeout)
    jobs = reader.run.export_allowance if config.get("bulk_export_jobs") else None
    if jobs:
        jobs.count_state(run_state, today)
    listed_by = spec.behaviour.retention_field or spec.replication_key
    list_filter = (listed_by, first_listed_day(spec.retention_days, today)
                   ) if listed_by and spec.retention_days else None
    return HistoryRead(spec.name, account, wanted, state, http, fields,
                       reader.settings.workers, partial(say_missing_days, reader),
                       reader.logger, jobs, list_filter, today, day_read).pages()


def days_wanted(reader: ListReader, partition: Partition, bookmark: dt.date | None,
                state: Mapping[str, Any], today: dt.date) -> list[dt.date]:
    """The partition's days to read from BulkExport: those its parent's records noted in the
    state (a completed conference's participants), or the window's days older than the
    list's retention (messages, calls, conferences)."""
    spec = reader.spec
    if spec.behaviour.kept_days_of_parent:
        return wanted_days(state)
    if not spec.retention_days:
        return []
    window = reading_window(reader.config, bookmark, reader.settings.lookback, today)
    return days_beyond_retention(window.start, window.end, reader.created(partition),
                                 spec.retention_days, today)


def check_export(reader: ListReader, account: str, response: requests.Response) -> None:
    """Twilio's answer to a BulkExport request: a refusal (4xx but 401 and 429) is the
    reader's to say; the rest as the list's other requests."""
    if 400 <= response.status_code < 500 and response.status_code not in (401, 429):
        raise ExportRefused(twilio_error_text(response))
    reader.client.check(response, account)


def say_missing_days(reader: ListReader, text: str) -> None:
    """Days with no export: one warning per list, the other accounts' at INFO."""
    reader.missing_days_said += 1
    level = logging.WARNING if reader.missing_days_said == 1 else logging.INFO
    hint = ("jobs are asked for them, within Twilio's daily allowance; a later run reads them"
            if reader.config.get("bulk_export_jobs")
            else "the setting bulk_export_jobs asks Twilio to export them")
    days = reader.spec.retention_days
    why = f"older than the list's {days} days" if days else "records the list does not show"
    reader.logger.log(level, "%s (%s; %s)", text, why, hint)
