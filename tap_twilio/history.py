"""A stream's side of BulkExport: which of a partition's days the list no longer keeps, and
the reader of those days (bulkexport.py) given the partition's credentials, state and limits.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from functools import partial
from typing import TYPE_CHECKING, Any

import requests
from singer_sdk.helpers.types import Context

from tap_twilio.twilio.bulkexport import (
    EXPORT_TYPES,
    HOST,
    ExportHttp,
    ExportRefused,
    HistoryRead,
    days_beyond_retention,
    export_unreachable,
    first_listed_day,
)
from tap_twilio.twilio.hosts import Hosts
from tap_twilio.twilio.http import twilio_error_text
from tap_twilio.twilio.window import reading_window

if TYPE_CHECKING:
    from tap_twilio.client import TwilioStream


def exported_pages(stream: TwilioStream, context: Context | None
                   ) -> Iterator[list[dict[str, Any]]]:
    """The partition's days older than its list keeps, from Twilio's BulkExport; nothing
    (and no request) when the window stays within the list and no job is pending."""
    if stream.name not in EXPORT_TYPES or not stream.retention_days:
        return iter(())
    config = stream.config
    account = (context or {}).get("account_sid") or config["account_sid"]
    today = dt.datetime.now(dt.timezone.utc).date()
    window = reading_window(config, stream.bookmark_day(context),
                            stream.read_settings.lookback, today)
    wanted = days_beyond_retention(window.start, window.end, stream.account_created(context),
                                   stream.retention_days, today)
    state = stream.get_context_state(context)
    if not wanted and not state.get("bulk_export", {}).get("jobs"):
        return iter(())
    auth = stream.credentials({"account_sid": account}, newer_api=True)
    if (unreachable := export_unreachable(config.get("region"), auth)) or not auth:
        stream.tap.say_once(unreachable or "")
        return iter(())
    http = ExportHttp(Hosts.from_config(config).url(HOST), lambda: stream.requests_session,
                      auth, partial(check_export, stream), stream.request_decorator,
                      partial(stream.tap.limiter.slot, account), stream.timeout)
    jobs = stream.tap.export_allowance if config.get("bulk_export_jobs") else None
    if jobs:
        jobs.count_state(stream.tap.state, today)
    list_filter = (stream.replication_key, first_listed_day(stream.retention_days, today)
                   ) if stream.replication_key else None
    return HistoryRead(stream.name, account, wanted, state, http,
                       tuple(stream.schema["properties"]), stream.read_settings.workers,
                       partial(say_missing_days, stream), stream.logger, jobs, list_filter,
                       today).pages()


def check_export(stream: TwilioStream, response: requests.Response) -> None:
    """Twilio's answer to a BulkExport request: a refusal (4xx but 401 and 429) is the
    reader's to say; the rest as the stream's other requests."""
    if 400 <= response.status_code < 500 and response.status_code not in (401, 429):
        raise ExportRefused(twilio_error_text(response))
    stream.validate_response(response)


def say_missing_days(stream: TwilioStream, text: str) -> None:
    """Days with no export: one warning per stream, the other accounts' at INFO."""
    stream.missing_days_said += 1
    level = logging.WARNING if stream.missing_days_said == 1 else logging.INFO
    hint = ("jobs are asked for them, within Twilio's daily allowance; a later run reads them"
            if stream.config.get("bulk_export_jobs")
            else "the setting bulk_export_jobs asks Twilio to export them")
    stream.logger.log(level, "%s (older than the list's %d days; %s)", text,
                      stream.retention_days, hint)
