"""The table of streams: one entry per Twilio resource, turned into stream classes.

Adding a 2010-API list resource is one `Resource(...)` line here plus its generated schema.
Streams that truly differ (accounts, usage records, balance, Monitor alerts) are small
classes below the table.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from singer_sdk.helpers.types import Context

from tap_twilio.client import TwilioStream
from tap_twilio.families import API_META
from tap_twilio.planning import DateFilter, ListQuery
from tap_twilio.settings import USAGE_GRANULARITIES, SettingError, in_account_shard
from tap_twilio.transform import to_rfc3339


class AccountsStream(TwilioStream):
    """The main account and its subaccounts: the parent of every per-account stream."""

    name = "accounts"
    path = "/Accounts.json"
    list_key = "accounts"
    primary_keys = ("sid",)
    child_keys = {"account_sid": "sid"}

    @staticmethod
    def has_children(account: dict) -> bool:
        """A closed account is emitted, but Twilio answers 404 for all of its lists."""
        return account.get("status") != "closed"

    def option_params(self) -> dict[str, str]:
        name = self.config.get("account_name")
        return {"FriendlyName": name} if name else {}

    def in_scope(self, record: dict) -> bool:
        """Whether this run reads the account: the settings ask for it, and it is in this
        run's `account_shard`. Only such accounts are emitted and have their lists read, so
        the shards of one account tree together read each account once."""
        return self.asked_for(record) and in_account_shard(self.config, record["sid"])

    def asked_for(self, record: dict) -> bool:
        """Whether the settings (other than `account_shard`) ask for this account."""
        wanted = self.config.get("account_sids")
        if wanted:
            return record["sid"] in wanted
        if self.config.get("account_name"):
            return True  # already narrowed server-side by FriendlyName
        if not self.config.get("include_subaccounts", True):
            return record["sid"] == self.config["account_sid"]
        return True

    def request_pages(self, context: Context | None) -> Any:
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
        self.plan_prefetch(accounts)
        yield accounts

    def remember_creation_days(self, accounts: list[dict]) -> None:
        """Children slice a full history from the day their account was created."""
        for account in accounts:
            created = to_rfc3339(account.get("date_created"))
            if created:
                self._tap.account_created[account["sid"]] = dt.date.fromisoformat(created[:10])

    def prefetch_children(self, page: list[dict], context: Context | None) -> None:
        """Nothing per page: `plan_prefetch` plans the accounts' lists across accounts."""

    def plan_prefetch(self, accounts: list[dict]) -> None:
        """Tell the prefetcher which lists the sync reads next, in the SDK's order."""
        if not self._tap.prefetcher.enabled:
            return
        children = [c for c in self.child_streams if c.selected or c.has_selected_descendents]
        self._tap.prefetcher.plan([
            child.prefetch_entry({"account_sid": account["sid"]})
            for account in accounts
            if self.has_children(account)
            for child in children
        ])


class AccountScopedStream(TwilioStream):
    """A list under `/Accounts/{account_sid}/`, read once per account in scope."""

    parent_stream_type = AccountsStream


@dataclass(frozen=True)
class Resource:
    """One row of the stream table."""

    name: str
    path: str  # under /2010-04-01/Accounts/{account_sid}/
    list_key: str | None
    primary_keys: tuple[str, ...] = ("sid",)
    replication_key: str | None = None
    date_filter: str | None = None  # e.g. "DateSent": sent as `DateSent>` / `DateSent<`
    options: dict[str, str] = field(default_factory=dict)
    parent: str = "accounts"
    child_keys: dict[str, str] = field(default_factory=dict)
    has_children: Callable[[dict], bool] | None = None  # False: don't ask for its children
    upper_exclusive: bool = False
    null_dates: bool = False  # the filtered date may be null (queued, canceled)
    retention_days: int | None = None  # how far back Twilio's date filter may reach


TO_FROM = {"to": "To", "from": "From"}


def message_has_media(message: dict) -> bool:
    return bool(message.get("num_media"))


def conference_is_live(conference: dict) -> bool:
    """Twilio lists a conference's participants only while it is not over."""
    return conference.get("status") != "completed"


RESOURCES = (
    Resource("calls", "Calls.json", "calls", replication_key="start_time",
             date_filter="StartTime", upper_exclusive=True, null_dates=True,
             options={**TO_FROM, "status": "Status"}),
    Resource("conferences", "Conferences.json", "conferences", replication_key="date_updated",
             date_filter="DateUpdated", child_keys={"conference_sid": "sid"},
             has_children=conference_is_live),
    Resource("conference_participants", "Conferences/{conference_sid}/Participants.json",
             "participants", primary_keys=("conference_sid", "call_sid"), parent="conferences"),
    Resource("notifications", "Notifications.json", "notifications",
             replication_key="message_date", date_filter="MessageDate", options={"log": "Log"}),
    Resource("messages", "Messages.json", "messages", replication_key="date_sent",
             date_filter="DateSent", null_dates=True, retention_days=400, options=TO_FROM,
             child_keys={"parent_sid": "sid"}, has_children=message_has_media),
    Resource("message_media", "Messages/{parent_sid}/Media.json", "media_list",
             parent="messages"),
    Resource("recordings", "Recordings.json", "recordings", replication_key="date_created",
             date_filter="DateCreated"),
    Resource("transcriptions", "Transcriptions.json", "transcriptions"),
    Resource("incoming_phone_numbers", "IncomingPhoneNumbers.json", "incoming_phone_numbers"),
    Resource("outgoing_caller_ids", "OutgoingCallerIds.json", "outgoing_caller_ids"),
    Resource("addresses", "Addresses.json", "addresses"),
    Resource("applications", "Applications.json", "applications"),
    Resource("keys", "Keys.json", "keys"),
    Resource("queues", "Queues.json", "queues"),
    Resource("usage_triggers", "Usage/Triggers.json", "usage_triggers"),
)


class UsageRecordsStream(AccountScopedStream):
    """Usage per category and period; the period is the `usage_records_granularity` setting."""

    name = "usage_records"
    list_key = "usage_records"
    primary_keys = ("account_sid", "category", "start_date", "end_date")
    replication_key = "start_date"
    options = {"category": "Category"}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        granularity = self.config.get("usage_records_granularity", "daily")
        period = USAGE_GRANULARITIES[granularity]
        self.path = f"/Accounts/{{account_sid}}/Usage/Records/{period}.json"
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


class AccountBalanceStream(AccountScopedStream):
    """`Balance.json` answers one object, not a list."""

    name = "account_balance"
    path = "/Accounts/{account_sid}/Balance.json"
    list_key = None
    primary_keys = ("account_sid",)

    def list_queries(self, context: Context | None, planning: bool = False) -> list[ListQuery]:
        return [ListQuery(self.get_url(context), {})]


class AlertsStream(TwilioStream):
    """Monitor v1 alerts of the credentials' account: ISO dates, `meta.next_page_url` paging."""

    name = "alerts"
    path = "/v1/Alerts"
    list_key = "alerts"
    replication_key = "date_generated"
    primary_keys = ("sid",)

    family = API_META

    @property
    def url_base(self) -> str:
        return self.host_url

    @property
    def host_url(self) -> str:
        return str(self.config["monitor_api_url"]).rstrip("/")

    def date_params(self, start: dt.date | None, end: dt.date | None) -> dict[str, str]:
        # Monitor keeps 30 days of alerts and rejects a StartDate before that.
        oldest = dt.datetime.now(dt.timezone.utc).date() - dt.timedelta(days=30)
        params = {"StartDate": f"{max(start, oldest) if start else oldest}T00:00:00Z"}
        if end:
            params["EndDate"] = f"{end.isoformat()}T23:59:59Z"
        return params

    def request_pages(self, context: Context | None) -> Any:
        # Alerts are the credentials' account's: of the runs of an `account_shard` split,
        # only the one whose shard holds that account reads them (else each would).
        if not in_account_shard(self.config, self.config["account_sid"]):
            return iter(())
        return super().request_pages(context)


def build_stream_classes() -> list[type[TwilioStream]]:
    """Stream classes from the table, parents before children (the SDK wires by class)."""
    classes: dict[str, type[TwilioStream]] = {"accounts": AccountsStream}
    for resource in RESOURCES:
        parent = classes[resource.parent]
        attributes: dict[str, Any] = {
            "name": resource.name,
            "path": "/Accounts/{account_sid}/" + resource.path,
            "list_key": resource.list_key,
            "primary_keys": resource.primary_keys,
            "replication_key": resource.replication_key,
            "date_filter": DateFilter.api_2010(resource.date_filter, resource.upper_exclusive)
            if resource.date_filter else None,
            "null_dates": resource.null_dates,
            "retention_days": resource.retention_days,
            "options": resource.options,
            "child_keys": resource.child_keys,
            "has_children": staticmethod(resource.has_children) if resource.has_children else None,
            "parent_stream_type": parent,
            "__doc__": f"Twilio `{resource.path}` ({resource.list_key}).",
        }
        if resource.parent != "accounts":
            # Full-table children keep one state entry per account, not one per parent record.
            attributes["state_partitioning_keys"] = ["account_sid"]
        classes[resource.name] = type(
            _class_name(resource.name), (AccountScopedStream,), attributes
        )
    classes.update(
        usage_records=UsageRecordsStream, account_balance=AccountBalanceStream,
        alerts=AlertsStream,
    )
    return list(classes.values())


def _class_name(stream_name: str) -> str:
    return "".join(part.title() for part in stream_name.split("_")) + "Stream"


STREAM_TYPES = build_stream_classes()
STREAM_NAMES = [cls.name for cls in STREAM_TYPES]
