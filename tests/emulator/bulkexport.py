"""Twilio's BulkExport (``bulkexports.twilio.com/v1``), from its OpenAPI spec
(``twilio_bulkexports_v1.json``) and Twilio's docs.

- ``GET /v1/Exports/{ResourceType}/Days``: the account's exported days (meta paging, key
  ``days``, ``PageSize`` at most 400, default 50).
- ``GET /v1/Exports/{ResourceType}/Days/{Day}``: 307 with ``{"redirect_to": url}``, a signed,
  one-time, short-lived link of a gzip file with one JSON record per line.  The link is
  served by the emulator outside Twilio's hosts, as the storage Twilio links to; a used or
  expired link is refused (403), and, as with a signed storage URL, so is a request that
  also carries an ``Authorization`` header.
- A day's records are the REST list's (the day is the UTC day of the list's order: a
  message's ``date_sent``, its ``date_created`` while unsent; a call's ``start_time``, its
  ``date_created`` while queued; a conference's or a participant's ``date_created``) with
  ISO 8601 UTC times
  and without the fields the export leaves out; ``price`` is missing from some.
- ``Participants`` holds the participants of completed conferences, which the REST list
  never shows (it lists a conference's participants only while it is in progress); the
  emulator keeps them with ``full_history``.
- ``POST /v1/Exports/{ResourceType}/Jobs`` (``StartDay``, ``EndDay`` inclusive, at least two
  days before the current UTC day, ``FriendlyName``) starts a job; 366 requested days per
  UTC day across the account tree, a request beyond that refused whole.  A job finishes
  ``job_seconds`` after it was made; its days are then listed.  ``GET /v1/Exports/Jobs/{Sid}``
  polls it.
- Credentials as Twilio's newer APIs: a request sees the exports of the account its
  credentials belong to.
"""

from __future__ import annotations

import gzip
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any
from urllib.parse import parse_qsl

from .data import first_below
from .errors import ApiError, bad_request, forbidden, not_found
from .pages import PAGING, cut, meta_envelope
from .values import DAY, date_of_day, day_of_date, iso8601, parse_record_ts

HOST = "bulkexports.twilio.com"
FILES = "/bulkexport-files/"
RESOURCE_TYPES = {"Messages": "messages", "Calls": "calls", "Conferences": "conferences",
                  "Participants": "conference_participants"}
MAX_DAYS_PAGE = 400
DEFAULT_PAGE = 50
RECORD_BYTES = 600  # about what a record takes in a file, for a day's `size`
DAILY_ALLOWANCE = 366  # requested days per UTC day, across an account and its subaccounts
LEFT_OUT = {
    "messages": ("uri", "subresource_uris", "price_unit", "api_version", "error_message"),
    "calls": ("uri", "subresource_uris", "api_version"),
    "conferences": ("uri", "subresource_uris", "api_version"),
    "conference_participants": ("uri",),
}
DATE_FIELDS = ("date_created", "date_updated", "date_sent", "start_time", "end_time")


@dataclass
class Job:
    sid: str
    account_sid: str
    resource_type: str
    start_day: date
    end_day: date
    friendly_name: str
    made_at: float

    def days(self) -> list[date]:
        count = (self.end_day - self.start_day).days + 1
        return [self.start_day + timedelta(days=n) for n in range(count)]


@dataclass
class Link:
    account_sid: str
    resource: str
    day: date
    expires_at: float


@dataclass
class BulkExport:
    """The exported days of each account, the jobs and the download links."""

    store: Any
    link_seconds: float = 300.0  # how long a download link lives
    job_seconds: float = 2.0  # how long a job takes
    expired_links: int = 0  # the next this many links are issued already expired
    exported: dict[tuple[str, str], dict[date, str]] = field(default_factory=dict)
    jobs: dict[str, Job] = field(default_factory=dict)
    links: dict[str, Link] = field(default_factory=dict)
    requested: dict[date, int] = field(default_factory=dict)  # days asked by jobs, per day
    downloads: int = 0  # files served
    participants: dict[tuple[str, int], dict[date, list[dict]]] = field(default_factory=dict)
    lock: threading.RLock = field(default_factory=threading.RLock)

    # --- set-up by tests -----------------------------------------------------------------
    def export_days(self, resource_type: str, account_sid: str, first: date, last: date,
                    friendly_name: str = "daily") -> None:
        """Mark [first, last] exported for the account (as Twilio's automatic daily export)."""
        days = self.exported.setdefault((account_sid, resource_type), {})
        for n in range((last - first).days + 1):
            days[first + timedelta(days=n)] = friendly_name

    def day_count(self, resource_type: str, account_sid: str, day: date) -> int:
        if resource_type == "Participants":
            return len(self.participants_by_day(account_sid).get(day, []))
        first, last = self.day_span(resource_type, account_sid, day)
        return last - first

    def participants_by_day(self, account_sid: str) -> dict[date, list[dict]]:
        """The account's kept participants by the UTC day they joined (made again only
        once a test has changed a record)."""
        key = (account_sid, self.store.changes)
        with self.lock:
            known = self.participants.get(key)
        if known is not None:
            return known
        account = self.store.account(account_sid)
        by_day: dict[date, list[dict]] = {}
        for record in self.store.kept_participants(account) if account else ():
            joined = date_of_day(parse_record_ts(record["date_created"]) // DAY)
            by_day.setdefault(joined, []).append(record)
        with self.lock:
            self.participants[key] = by_day
        return by_day

    def day_span(self, resource_type: str, account_sid: str, day: date) -> tuple[int, int]:
        """The generator's indices of a day's records (none: 0, 0)."""
        resource = RESOURCE_TYPES[resource_type]
        account = self.store.account(account_sid)
        if resource is None or account is None:
            return 0, 0
        gen = self.store.generator(resource, account)
        number = day_of_date(day)
        return first_below(gen, (number + 1) * DAY), first_below(gen, number * DAY)

    def day_records(self, resource_type: str, account_sid: str, day: date) -> list[dict]:
        """The records of one exported day, as the file holds them."""
        if resource_type == "Participants":
            return [exported_form("conference_participants", record)
                    for record in self.participants_by_day(account_sid).get(day, [])]
        first, last = self.day_span(resource_type, account_sid, day)
        if first == last:
            return []
        resource = RESOURCE_TYPES[resource_type]
        gen = self.store.generator(resource, self.store.account(account_sid))
        return [exported_form(resource, gen.record(i)) for i in range(first, last)]

    # --- HTTP ----------------------------------------------------------------------------
    def serve(self, app: Any, h: Any, path: str, pairs: list, rec: Any) -> tuple | None:
        """The answer to a BulkExport request or a download; None for any other path."""
        if path.startswith(FILES):
            rec.resource = "bulkexport_file"
            return self.download(h, path[len(FILES):])
        prefix = f"/{HOST}"
        if not path.startswith(prefix + "/"):
            return None
        rest = path[len(prefix):].strip("/").split("/")
        principal = app.authenticate(h.headers.get("Authorization"))
        rec.auth_user, rec.account_sid = principal.user, principal.account_sid
        account = principal.account_sid
        if rest[:3] == ["v1", "Exports", "Jobs"] and len(rest) == 4 and h.command == "GET":
            rec.resource = "bulkexport_job"
            return 200, app._json(self.job_body(self.job(account, rest[3]), path)), {}
        if len(rest) < 4 or rest[:2] != ["v1", "Exports"] or rest[2] not in RESOURCE_TYPES:
            raise not_found(path)
        resource_type = rest[2]
        if rest[3] == "Days" and len(rest) == 4 and h.command == "GET":
            rec.resource = "bulkexport_days"
            return self.days_page(app, account, resource_type, pairs)
        if rest[3] == "Days" and len(rest) == 5 and h.command == "GET":
            rec.resource = "bulkexport_day"
            return self.redirect(app, h, account, resource_type, rest[4], path)
        if rest[3] == "Jobs" and len(rest) == 4 and h.command == "POST":
            rec.resource = "bulkexport_jobs"
            form = dict(parse_qsl(getattr(h, "request_body", b"").decode()))
            return 201, app._json(self.create_job(account, resource_type, form)), {}
        raise not_found(path)

    def days_page(self, app: Any, account: str, resource_type: str, pairs: list) -> tuple:
        query = dict(pairs)
        size = page_size(query.get("PageSize"))
        number = int(query.get("Page") or 0)
        self.finish_jobs()
        with self.lock:
            days = sorted(self.exported.get((account, resource_type), {}).items())
        listed = [{"day": day.isoformat(),
                   "size": RECORD_BYTES * self.day_count(resource_type, account, day),
                   "resource_type": resource_type,
                   "create_date": (day + timedelta(days=1)).isoformat(),
                   "friendly_name": name} for day, name in days]
        page = cut(listed, size, number, query.get("PageToken") or None)
        filters = [(k, v) for k, v in pairs if k not in PAGING]
        url = f"https://{HOST}/v1/Exports/{resource_type}/Days"
        return 200, app._json(meta_envelope("days", url, filters, page)), {}

    def redirect(self, app: Any, h: Any, account: str, resource_type: str, raw_day: str,
                 path: str) -> tuple:
        try:
            day = date.fromisoformat(raw_day)
        except ValueError:
            raise not_found(path) from None
        self.finish_jobs()
        with self.lock:
            if day not in self.exported.get((account, resource_type), {}):
                raise not_found(path)
            token = secrets.token_hex(16)
            lifetime = self.link_seconds
            if self.expired_links > 0:
                self.expired_links -= 1
                lifetime = -1.0
            self.links[token] = Link(account, resource_type, day, time.time() + lifetime)
        url = f"http://{h.headers.get('Host')}{FILES}{token}?Signature={secrets.token_hex(8)}"
        return 307, app._json({"redirect_to": url}), {}

    def download(self, h: Any, token: str) -> tuple:
        if h.headers.get("Authorization"):
            raise ApiError(400, 400, "Only one auth mechanism allowed")
        with self.lock:
            link = self.links.pop(token, None)  # one-time
        if link is None or link.expires_at < time.time():
            raise forbidden()
        lines = (json.dumps(r, separators=(",", ":")) + "\n" for r in
                 self.day_records(link.resource, link.account_sid, link.day))
        body = gzip.compress("".join(lines).encode(), compresslevel=1)
        with self.lock:
            self.downloads += 1
        return 200, body, {"Content-Type": "application/gzip"}

    # --- jobs ----------------------------------------------------------------------------
    def create_job(self, account: str, resource_type: str, form: dict[str, str]) -> dict:
        missing = [name for name in ("StartDay", "EndDay", "FriendlyName") if not form.get(name)]
        if missing:
            raise bad_request(20001, f"Missing required parameter {missing[0]} in the post body")
        try:
            start, end = date.fromisoformat(form["StartDay"]), date.fromisoformat(form["EndDay"])
        except ValueError:
            raise bad_request(20001, "StartDay and EndDay must be dates (yyyy-mm-dd)") from None
        today = date_of_day(self.store.clock_ts // DAY)
        if end > today - timedelta(days=2):
            raise bad_request(20001, "EndDay must be at least 2 days before the current UTC day")
        if start > end:
            raise bad_request(20001, "StartDay must not be after EndDay")
        count = (end - start).days + 1
        with self.lock:
            used = self.requested.get(today, 0)
            if used + count > DAILY_ALLOWANCE:
                raise bad_request(
                    20001, f"Request exceeds the daily limit of {DAILY_ALLOWANCE} days "
                    f"({used} already requested today for this account and its subaccounts)")
            self.requested[today] = used + count
            job = Job("JS" + secrets.token_hex(16), account, resource_type, start, end,
                      form["FriendlyName"], time.time())
            self.jobs[job.sid] = job
        body = self.job_body(job, None)
        body.pop("url")
        return body

    def job(self, account: str, sid: str) -> Job:
        with self.lock:
            job = self.jobs.get(sid)
        if job is None or job.account_sid != account:
            raise not_found(f"/v1/Exports/Jobs/{sid}")
        return job

    def finished(self, job: Job) -> bool:
        return time.time() - job.made_at >= self.job_seconds

    def finish_jobs(self) -> None:
        """A finished job's days become exported days."""
        with self.lock:
            for job in self.jobs.values():
                if self.finished(job):
                    days = self.exported.setdefault((job.account_sid, job.resource_type), {})
                    for day in job.days():
                        days.setdefault(day, job.friendly_name)

    def job_body(self, job: Job, path: str | None) -> dict:
        days = [day.isoformat() for day in job.days()]
        status = "COMPLETED" if self.finished(job) else "SUBMITTED"
        return {
            "resource_type": job.resource_type,
            "friendly_name": job.friendly_name,
            "details": [{"status": status, "count": len(days), "days": days}],
            "start_day": job.start_day.isoformat(),
            "end_day": job.end_day.isoformat(),
            "job_sid": job.sid,
            "webhook_url": None,
            "webhook_method": None,
            "email": None,
            "url": f"https://{HOST}/v1/Exports/Jobs/{job.sid}",
            "job_queue_position": "0" if status == "COMPLETED" else "1",
            "estimated_completion_time": None,
        }


def page_size(raw: str | None) -> int:
    if raw is None:
        return DEFAULT_PAGE
    try:
        size = int(raw)
    except ValueError:
        raise bad_request(20001, f"Invalid PageSize: {raw}") from None
    if not 1 <= size <= MAX_DAYS_PAGE:
        raise bad_request(20001, f"PageSize must be between 1 and {MAX_DAYS_PAGE}")
    return size


def exported_form(resource: str, listed: dict) -> dict:
    """A list record as BulkExport writes it: ISO 8601 UTC times, fewer fields."""
    record = {k: v for k, v in listed.items() if k not in LEFT_OUT[resource]}
    for name in DATE_FIELDS:
        if name in record:
            record[name] = iso8601(parse_record_ts(record[name]))
    if "price" in record and int(record["sid"][-4:], 16) % 5 == 0:
        record.pop("price", None)  # Twilio's files leave the price out of some records
    return record

