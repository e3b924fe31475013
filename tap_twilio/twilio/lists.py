"""The lists tap-twilio reads: one frozen `ListSpec` per row of `streams_table.json`.

The table is generated from Twilio's OpenAPI specs (`scripts/generate_streams.py`). What the
specs do not say (which settings a list filters on, dates that may be null, how far back a
filter reaches, when a record has no children) is the `BEHAVIOURS` table here.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from tap_twilio.twilio.families import API_2010, API_META, ApiFamily
from tap_twilio.twilio.planning import DateFilter
from tap_twilio.twilio.window import days_between

TABLE: list[dict[str, Any]] = json.loads(
    (Path(__file__).parent.parent / "streams_table.json").read_text())["streams"]
USAGE_PERIODS = {"daily": "Daily", "monthly": "Monthly", "yearly": "Yearly",
                 "all_time": "AllTime"}


@dataclass(frozen=True)
class Behaviour:
    """What a list does that Twilio's specs do not say (from Twilio's docs and the field)."""

    options: dict[str, str] = field(default_factory=dict)  # setting -> query parameter
    null_dates: bool = False  # the filtered date may be null (queued, canceled)
    upper_exclusive: bool = False  # the date filter's upper bound means strictly before
    retention_days: int | None = None  # how far back Twilio's date filter may reach
    # The date the retention counts by, where not the replication key (a conference's
    # creation, not its last update): a record older by it is read from BulkExport.
    retention_field: str | None = None
    fixed_params: dict[str, str] = field(default_factory=dict)  # sent with every query
    # Whether a record can have children (None: always); no child list is asked for where not.
    has_children: Callable[[dict[str, Any]], bool] | None = None
    # For a child list: the days a parent record's children are kept by BulkExport where
    # the list no longer shows them (none: the list shows them all).
    kept_days_of_parent: Callable[[dict[str, Any]], list[dt.date]] | None = None


TO_FROM = {"to": "To", "from": "From"}
# Twilio lists Voice's call and conference records for "about 13 months": 395 days (13
# months of 30.4 days); older ones are kept in BulkExport.
VOICE_LOGS_DAYS = 395


def message_has_media(message: dict[str, Any]) -> bool:
    return bool(message.get("num_media"))


def conference_is_live(conference: dict[str, Any]) -> bool:
    """Twilio lists a conference's participants only while it is not over."""
    return conference.get("status") != "completed"


def completed_conference_days(conference: dict[str, Any]) -> list[dt.date]:
    """The UTC days of a completed conference (a transformed record: RFC 3339 times), from
    its creation to its last update, its end: the days its participants joined on."""
    first, last = conference.get("date_created"), conference.get("date_updated")
    if conference_is_live(conference) or not first:
        return []
    start = dt.date.fromisoformat(first[:10])
    return days_between(start, max(start, dt.date.fromisoformat((last or first)[:10])))


def account_is_open(account: dict[str, Any]) -> bool:
    """A closed account is emitted, but Twilio answers 404 for all of its lists."""
    return account.get("status") != "closed"


BEHAVIOURS = {
    "accounts": Behaviour(options={"account_name": "FriendlyName"}, has_children=account_is_open),
    "calls": Behaviour(options={**TO_FROM, "status": "Status"}, null_dates=True,
                       upper_exclusive=True, retention_days=VOICE_LOGS_DAYS),
    "messages": Behaviour(options=TO_FROM, null_dates=True, retention_days=400,
                          has_children=message_has_media),
    "conferences": Behaviour(has_children=conference_is_live, retention_days=VOICE_LOGS_DAYS,
                             retention_field="date_created"),
    # Twilio's Participants list "does not return historical participant logs": a
    # completed conference's participants are read from BulkExport's Participants days.
    "conference_participants": Behaviour(kept_days_of_parent=completed_conference_days),
    "notifications": Behaviour(options={"log": "Log"}),
    # Each account is read on its own, so a row is that account's usage alone; Twilio's
    # default would add the subaccounts' usage into the main account's rows.
    "usage_records": Behaviour(options={"category": "Category"},
                               fixed_params={"IncludeSubaccounts": "false"}),
    # Monitor keeps 30 days of alerts and rejects a StartDate before that.
    "alerts": Behaviour(retention_days=31),
}


@dataclass(frozen=True)
class ListSpec:
    """Everything about one Twilio list that reading it needs, from its row of the table."""

    name: str
    host: str  # the product host, e.g. `studio.twilio.com` (see hosts.py)
    path: str  # with `{context key}` placeholders, e.g. `{account_sid}`
    family: ApiFamily  # how the API pages its lists
    list_key: str | None  # key of the page's record array; None: the body is one object
    primary_keys: tuple[str, ...]
    replication_key: str | None
    # The list's server-side day filter (e.g. `DateSent>`/`DateSent<`), by which a long
    # window is cut into slices read in parallel.
    date_filter: DateFilter | None
    behaviour: Behaviour
    # Parameters whose documented default hides records, with every value to ask for.
    narrowing: tuple[tuple[str, tuple[str, ...]], ...]
    # Context keys (the path's parameters) the records must carry, filled from the context
    # where Twilio's records leave one out (`account_sid` is the partition's: the SDK's).
    context_fields: tuple[str, ...]

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> ListSpec:
        behaviour = BEHAVIOURS.get(row["name"], Behaviour())
        path = str(row["path"])
        for param, key in row["path_fields"].items():
            path = path.replace("{" + param + "}", "{" + key + "}")
        family = API_META if row["family"] == "meta" else API_2010
        replication_key = row["replication_key"] if row["date_filter"] else None
        date_filter = None
        if replication_key:
            spec = row["date_filter"]
            day_range = family is API_2010 and str(spec["lower"]).endswith(">")
            date_filter = DateFilter(
                spec["lower"], spec["upper"],
                upper_exclusive=behaviour.upper_exclusive or spec.get("upper_exclusive", False),
                lower_exclusive=spec.get("lower_exclusive", False),
                times=spec["format"] == "date-time", sliceable=day_range)
        return cls(
            name=row["name"], host=row["host"], path=path, family=family,
            list_key=row["list_key"], primary_keys=tuple(row["primary_keys"]),
            replication_key=replication_key, date_filter=date_filter, behaviour=behaviour,
            narrowing=asked_values(row),
            context_fields=tuple(key for key in row["path_fields"].values()
                                 if key != "account_sid"),
        )

    def for_settings(self, config: Mapping[str, Any]) -> ListSpec:
        """The spec as this run's settings shape it: usage records of the chosen period
        (`all_time`: one moving total per category, read whole: no bookmark, no start)."""
        if self.name != "usage_records":
            return self
        granularity = config.get("usage_records_granularity", "daily")
        spec = replace(self, path=self.path.replace("/Daily.json",
                                                    f"/{USAGE_PERIODS[granularity]}.json"))
        if granularity == "all_time" and spec.date_filter is not None:
            upper_only = replace(spec.date_filter, lower=None)
            spec = replace(spec, replication_key=None, date_filter=upper_only)
        return spec

    @property
    def options(self) -> dict[str, str]:
        return self.behaviour.options

    @property
    def retention_days(self) -> int | None:
        return self.behaviour.retention_days


def asked_values(row: Mapping[str, Any]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """The table's narrowing defaults the queries must override: a value sent always, or
    values asked one by one (a default window is overridden by the date filter's bounds)."""
    asked: list[tuple[str, tuple[str, ...]]] = []
    for ask in row["narrowing"]:
        if ask["ask"] == "value":
            asked.append((str(ask["parameter"]), (str(ask["value"]),)))
        elif ask["ask"] == "each":
            asked.append((str(ask["parameter"]), tuple(map(str, ask["values"]))))
    return tuple(asked)


LIST_SPECS = {row["name"]: ListSpec.from_row(row) for row in TABLE}
