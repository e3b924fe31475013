"""The streams: one per row of `streams_table.json`, generated from Twilio's OpenAPI specs
(`scripts/generate_streams.py`), turned into stream classes.

What the specs do not say (which settings a list filters on, dates that may be null, how far
back a filter reaches, when a record has no children) is the `BEHAVIOURS` table here; the
three lists that truly differ (accounts, usage records, the balance) are small classes.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from singer_sdk.helpers.types import Context

from tap_twilio.client import TwilioStream
from tap_twilio.families import API_2010, API_META
from tap_twilio.planning import DateFilter, ListQuery
from tap_twilio.settings import USAGE_GRANULARITIES, SettingError, in_account_shard
from tap_twilio.transform import to_rfc3339
from tap_twilio.versions import give_versions


class AccountsStream(TwilioStream):
    """The main account and its subaccounts: the parent of every per-account stream."""

    def has_children(self, account: dict[str, Any]) -> bool:
        """A closed account is emitted, but Twilio answers 404 for all of its lists."""
        return account.get("status") != "closed"

    def option_params(self) -> dict[str, str]:
        name = self.config.get("account_name")
        return {"FriendlyName": name} if name else {}

    def in_scope(self, record: dict[str, Any]) -> bool:
        """Whether this run reads the account: the settings ask for it, and it is in this
        run's `account_shard`. Only such accounts are emitted and have their lists read, so
        the shards of one account tree together read each account once."""
        return self.asked_for(record) and in_account_shard(self.config, record["sid"])

    def asked_for(self, record: dict[str, Any]) -> bool:
        """Whether the settings (other than `account_shard`) ask for this account."""
        wanted = self.config.get("account_sids")
        if wanted:
            return record["sid"] in wanted
        if self.config.get("account_name"):
            return True  # already narrowed server-side by FriendlyName
        if not self.config.get("include_subaccounts", True):
            return bool(record["sid"] == self.config["account_sid"])
        return True

    def request_pages(self, context: Context | None) -> Any:
        # Every sync starts here (the accounts are the root of every stream): the versions
        # of the streams this run reads whole are given before any record is written.
        give_versions(self.tap)
        # The credentials' own account is read whatever the list says (unless the settings
        # name accounts): its first pages are fetched while the list is asked for.
        main = {"sid": self.config["account_sid"]}
        if not self.config.get("account_name") and self.in_scope(main):
            self.plan_prefetch([main])
        # The list is small (an account and its subaccounts): read it whole, so a setting
        # that names a missing account fails before any account's data is read.
        listed = (r for page in super().request_pages(context) for r in page)
        asked = [r for r in listed if self.asked_for(r)]
        name = self.config.get("account_name")
        if name and not asked:
            raise SettingError(
                f"account_name: no account named {name!r} among the accounts these "
                "credentials can read"
            )
        missing = set(self.config.get("account_sids") or []) - {a["sid"] for a in asked}
        if missing:
            raise SettingError(
                f"account_sids: {', '.join(sorted(missing))} not among the accounts these "
                "credentials can read"
            )
        accounts = [r for r in asked if in_account_shard(self.config, r["sid"])]
        self.remember_creation_days(accounts)
        self.remember_tokens(accounts)
        self.plan_prefetch(accounts)
        yield accounts

    def remember_tokens(self, accounts: list[dict[str, Any]]) -> None:
        """Each account's Auth Token (Twilio lists them to the main account's Auth Token),
        for Twilio's newer APIs; the records lose the field in the transform."""
        if self.config.get("api_key_sid"):
            return  # read with an API key: Twilio's docs promise the tokens to the Auth Token
        for account in accounts:
            token = account.get("auth_token")
            if token and account["sid"] != self.config["account_sid"]:
                self.tap.account_tokens[account["sid"]] = token

    def remember_creation_days(self, accounts: list[dict[str, Any]]) -> None:
        """Children slice a full history from the day their account was created."""
        for account in accounts:
            created = to_rfc3339(account.get("date_created"))
            if created:
                self.tap.account_created[account["sid"]] = dt.date.fromisoformat(created[:10])

    def prefetch_children(self, page: list[dict[str, Any]], context: Context | None) -> None:
        """Nothing per page: `plan_prefetch` plans the accounts' lists across accounts."""

    def plan_prefetch(self, accounts: list[dict[str, Any]]) -> None:
        """Tell the prefetcher which lists the sync reads next, in the SDK's order."""
        if not self.tap.prefetcher.enabled:
            return
        children = self.synced_children
        self.tap.prefetcher.plan([
            child.prefetch_entry({"account_sid": account["sid"]})
            for account in accounts
            if self.has_children(account)
            for child in children
        ])


@dataclass(frozen=True)
class Behaviour:
    """What a list does that Twilio's specs do not say (from Twilio's docs and the field)."""

    options: dict[str, str] = field(default_factory=dict)  # setting -> query parameter
    null_dates: bool = False  # the filtered date may be null (queued, canceled)
    upper_exclusive: bool = False  # the date filter's upper bound means strictly before
    retention_days: int | None = None  # how far back Twilio's date filter may reach
    # Whether a record can have children (None: always); no child list is asked for where not.
    has_children: Callable[[dict[str, Any]], bool] | None = None


TO_FROM = {"to": "To", "from": "From"}


def message_has_media(message: dict[str, Any]) -> bool:
    return bool(message.get("num_media"))


def conference_is_live(conference: dict[str, Any]) -> bool:
    """Twilio lists a conference's participants only while it is not over."""
    return conference.get("status") != "completed"


BEHAVIOURS = {
    # Twilio lists calls for "about 13 months": 395 days (13 months of 30.4 days).
    "calls": Behaviour(options={**TO_FROM, "status": "Status"}, null_dates=True,
                       upper_exclusive=True, retention_days=395),
    "messages": Behaviour(options=TO_FROM, null_dates=True, retention_days=400,
                          has_children=message_has_media),
    "conferences": Behaviour(has_children=conference_is_live),
    "notifications": Behaviour(options={"log": "Log"}),
    "usage_records": Behaviour(options={"category": "Category"}),
    # Monitor keeps 30 days of alerts and rejects a StartDate before that.
    "alerts": Behaviour(retention_days=31),
}


class UsageRecordsStream(TwilioStream):
    """Usage per category and period; the period is the `usage_records_granularity` setting."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        granularity = self.config.get("usage_records_granularity", "daily")
        period = USAGE_GRANULARITIES[granularity]
        self.path = f"/2010-04-01/Accounts/{{account_sid}}/Usage/Records/{period}.json"
        if granularity == "all_time":
            self.replication_key = None  # one moving total per category: full table

    def option_params(self) -> dict[str, str]:
        # Each account is read on its own, so a row is that account's usage alone; Twilio's
        # default would add the subaccounts' usage into the main account's rows.
        return {**super().option_params(), "IncludeSubaccounts": "false"}

    def date_params(self, start: dt.date | None, end: dt.date | None) -> dict[str, str]:
        params = {}
        if start and self.replication_key:
            params["StartDate"] = start.isoformat()
        if end:
            params["EndDate"] = end.isoformat()
        return params


class AccountBalanceStream(TwilioStream):
    """`Balance.json` answers one object, not a list."""

    def list_queries(self, context: Context | None, planning: bool = False) -> list[ListQuery]:
        return [ListQuery(self.get_url(context), {})]


SPECIAL_CLASSES: dict[str, type[TwilioStream]] = {
    "accounts": AccountsStream,
    "usage_records": UsageRecordsStream,
    "account_balance": AccountBalanceStream,
}
TABLE = json.loads((Path(__file__).parent / "streams_table.json").read_text())["streams"]


def build_stream_classes(table: list[dict[str, Any]]) -> dict[str, type[TwilioStream]]:
    """A stream class per row of the table, by name, parents before children (the SDK
    wires by class), each with the context keys its children's paths take from its records."""
    rows = {row["name"]: row for row in table}
    child_keys: dict[str, dict[str, str]] = {name: {} for name in rows}
    for row in table:
        parent = row["parent"] or "accounts"
        for param, field_name in row["parent_keys"].items():
            child_keys[parent][context_key(row, param)] = field_name
    child_keys["accounts"] = {"account_sid": "sid"}
    classes: dict[str, type[TwilioStream]] = {}
    for row in parents_first(table):
        parent = classes[row["parent"] or "accounts"] if row["name"] != "accounts" else None
        classes[row["name"]] = stream_class(row, parent, child_keys[row["name"]])
    return classes


def stream_class(
    row: dict[str, Any], parent: type[TwilioStream] | None, child_keys: dict[str, str]
) -> type[TwilioStream]:
    """The stream class of one row of the table."""
    behaviour = BEHAVIOURS.get(row["name"], Behaviour())
    path = row["path"]
    for param in row["path_fields"]:
        path = path.replace("{" + param + "}", "{" + context_key(row, param) + "}")
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
    attributes: dict[str, Any] = {
        "name": row["name"],
        "path": path,
        "product_host": row["host"],
        "family": family,
        "list_key": row["list_key"],
        "primary_keys": tuple(row["primary_keys"]),
        "replication_key": replication_key,
        "date_filter": date_filter,
        "null_dates": behaviour.null_dates,
        "retention_days": behaviour.retention_days,
        "options": behaviour.options,
        "narrowing": asked_values(row),
        "child_keys": child_keys,
        # `account_sid` is the state partition's key: the SDK's step (and the page path)
        # already adds it to a record that lacks it, so it is not filled a second time.
        "context_fields": tuple(key for key in map(partial(context_key, row), row["path_fields"])
                                if key != "account_sid"),
        "parent_stream_type": parent,
        "selected_by_default": row["selected_by_default"],
        "__doc__": f"Twilio `{row['host']}{row['path']}` ({row['list_key']}).",
    }
    if behaviour.has_children:
        attributes["has_children"] = staticmethod(behaviour.has_children)
    if parent is not None and parent is not AccountsStream:
        # Children keep one state entry per account, not one per parent record.
        attributes["state_partitioning_keys"] = ["account_sid"]
    base = SPECIAL_CLASSES.get(row["name"], TwilioStream)
    return type(_class_name(row["name"]), (base,), attributes)


def asked_values(row: dict[str, Any]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """The table's narrowing defaults the queries must override: a value sent always, or
    values asked one by one (a default window is overridden by the date filter's bounds)."""
    asked: list[tuple[str, tuple[str, ...]]] = []
    for ask in row["narrowing"]:
        if ask["ask"] == "value":
            asked.append((str(ask["parameter"]), (str(ask["value"]),)))
        elif ask["ask"] == "each":
            asked.append((str(ask["parameter"]), tuple(map(str, ask["values"]))))
    return tuple(asked)


def context_key(row: dict[str, Any], param: str) -> str:
    """The context key that fills a path parameter: the record field holding its value
    (`FlowSid` of an execution: `flow_sid`)."""
    return str(row["path_fields"][param])


def parents_first(table: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows in the table's order, each after its parent."""
    done: set[str] = set()
    ordered: list[dict[str, Any]] = []
    rows = {row["name"]: row for row in table}

    def add(row: dict[str, Any]) -> None:
        if row["name"] in done:
            return
        parent = row["parent"] or ("accounts" if row["name"] != "accounts" else None)
        if parent:
            add(rows[parent])
        done.add(row["name"])
        ordered.append(row)

    for row in table:
        add(row)
    return ordered


def _class_name(stream_name: str) -> str:
    return "".join(part.title() for part in stream_name.split("_")) + "Stream"


STREAM_CLASSES = build_stream_classes(TABLE)
STREAM_TYPES = list(STREAM_CLASSES.values())
STREAM_NAMES = list(STREAM_CLASSES)
DEFAULT_STREAM_NAMES = [name for name, cls in STREAM_CLASSES.items() if cls.selected_by_default]
