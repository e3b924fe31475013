"""The streams: one class per list of `twilio/lists.py` (a row of `streams_table.json`).

The stream classes only say what the SDK wires by class (name, path, keys, parent); each
reads its list through its reader (stream.py). The accounts stream, the root of every other,
also tells the run which accounts it reads.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from singer_sdk.helpers.types import Context

from tap_twilio.output.transform import to_rfc3339
from tap_twilio.settings import SettingError, in_account_shard
from tap_twilio.stream import TwilioStream
from tap_twilio.twilio.lists import LIST_SPECS, TABLE, account_is_open
from tap_twilio.versions import give_versions

__all__ = ["DEFAULT_STREAM_NAMES", "STREAM_NAMES", "STREAM_TYPES", "TABLE"]


class AccountsStream(TwilioStream):
    """The main account and its subaccounts: the parent of every per-account stream."""

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
        give_versions(self.config, self.logger, [self, *self.descendants()])
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
                self.run.twilio.accounts.tokens[account["sid"]] = token

    def remember_creation_days(self, accounts: list[dict[str, Any]]) -> None:
        """Children slice a full history from the day their account was created."""
        for account in accounts:
            created = to_rfc3339(account.get("date_created"))
            if created:
                self.run.twilio.accounts.created[account["sid"]] = dt.date.fromisoformat(
                    created[:10])

    def prefetch_children(self, page: list[dict[str, Any]], context: Context | None) -> None:
        """Nothing per page: `plan_prefetch` plans the accounts' lists across accounts."""

    def plan_prefetch(self, accounts: list[dict[str, Any]]) -> None:
        """Tell the prefetcher which lists the sync reads next, in the SDK's order."""
        prefetcher = self.run.twilio.prefetcher
        if not prefetcher.enabled:
            return
        children = self.synced_children
        prefetcher.plan([
            child.prefetch_entry({"account_sid": account["sid"]})
            for account in accounts
            if account_is_open(account)
            for child in children
        ])

    def descendants(self) -> list[TwilioStream]:
        """Every stream below this one (all of them: the accounts are the root)."""
        found: list[TwilioStream] = []
        todo = list(self.child_streams)
        while todo:
            stream = todo.pop(0)
            if isinstance(stream, TwilioStream):
                found.append(stream)
                todo += stream.child_streams
        return found


SPECIAL_CLASSES: dict[str, type[TwilioStream]] = {"accounts": AccountsStream}


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
    spec = LIST_SPECS[row["name"]]
    attributes: dict[str, Any] = {
        "name": spec.name,
        "path": spec.path,
        "list_spec": spec,
        "primary_keys": spec.primary_keys,
        "replication_key": spec.replication_key,
        "child_keys": child_keys,
        "parent_stream_type": parent,
        "selected_by_default": row["selected_by_default"],
        "__doc__": f"Twilio `{row['host']}{row['path']}` ({row['list_key']}).",
    }
    if parent is not None and parent is not AccountsStream:
        # Children keep one state entry per account, not one per parent record.
        attributes["state_partitioning_keys"] = ["account_sid"]
    base = SPECIAL_CLASSES.get(row["name"], TwilioStream)
    return type(_class_name(row["name"]), (base,), attributes)


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
