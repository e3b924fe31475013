"""Seeking: where a seeded walk of a full history may start, and the proof that it did.

Twilio's next-page link resumes a list with `PageToken=PA<SID of the page's last record>`;
a walk can start after any record whose SID is known. Probes (the two newest records on or
before a day) find such seeds; a seeded walk is trusted only once its first page proves it
starts right after its seed. Pure functions of raw records and days (walking.py fetches).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

from tap_twilio.output.transform import to_rfc3339
from tap_twilio.twilio.window import date_slices

PAGES_PER_WALK = 2  # pages (of those after the first) per walk of a full history, at least


def created_at(record: dict[str, Any]) -> dt.datetime | None:
    """A raw record's `date_created`, if it has one."""
    created = to_rfc3339(record.get("date_created"))
    return dt.datetime.fromisoformat(created) if created else None


def created_before(record: dict[str, Any], day: dt.date) -> bool:
    """Whether a raw record was created before `day` (lists are newest first)."""
    created = created_at(record)
    return created is not None and created.date() < day


def null_or_within(value: Any, first: dt.date, last: dt.date | None) -> bool:
    """Whether Twilio's date filter for [first, last] lists a record with this raw date
    (its UTC calendar day within, both ends included), or the date is null."""
    if value in (None, ""):
        return True
    try:
        day = record_day(value)
    except ValueError:
        return True  # emitted, so the transform names the bad value
    return first.isoformat() <= day and (last is None or day <= last.isoformat())


def record_day(value: Any) -> str:
    """The UTC day (`YYYY-MM-DD`) of a raw, non-null date as Twilio sends it."""
    return str(to_rfc3339(value))[:10]


# --- seeking ------------------------------------------------------------------------


@dataclass(frozen=True)
class Seed:
    """A record a seeded walk starts after, the record that follows it in the probe's list,
    and the probe's day (the probe lists records whose date is on or before it)."""

    sid: str
    successor: str
    day: dt.date


def lands_after_seed(records: list[dict[str, Any]], seed: Seed, field: str) -> bool:
    """Whether a page asked for with `PageToken=PA<seed>` starts right after the seed.

    The unfiltered list has, between the seed and its successor in the probe's dated list,
    only records that probe could not list (a null date, or a later day). So the page
    must reach the successor having passed only such records; a record the probe would
    have listed (the seed itself, or any record of another part of the list) before it,
    or no successor at all, means the server answered from somewhere else.
    """
    for record in records:
        if record.get("sid") == seed.successor:
            return True
        if not null_or_after(record.get(field), seed.day):
            return False
    return False


def null_or_after(value: Any, day: dt.date) -> bool:
    """Whether a date filter up to `day` (Twilio's `X<` on a UTC day) leaves out a record
    with this raw date: it is null, or on a later day. An unreadable date counts as listed."""
    if value in (None, ""):
        return True
    try:
        return record_day(value) > day.isoformat()
    except ValueError:
        return False


def seed_walks(first_day: dt.date, first_page: list[dict[str, Any]], workers: int) -> int:
    """How many walks a full history is worth, at the first page's pace back to `first_day`:
    a walk costs a probe and a partial last page, so one per two pages to come, at most one
    per worker (then the probes take one round trip and the seeded pages one more)."""
    newest, oldest = created_at(first_page[0]), created_at(first_page[-1])
    if newest is None or oldest is None:
        return workers
    span = (newest - oldest).total_seconds()
    start = dt.datetime.combine(first_day, dt.time(), dt.timezone.utc)
    to_come = math.ceil((oldest - start).total_seconds() / span) if span > 0 else 1
    return max(1, min(math.ceil(to_come / PAGES_PER_WALK), workers))


def probe_days(first: dt.date, last: dt.date, walks: int) -> list[dt.date]:
    """The days whose newest records start `walks - 1` walks spread over [first, last]."""
    return [end for _, end in date_slices(first, last, walks)[:-1]]
