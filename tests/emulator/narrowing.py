"""Twilio's narrowing defaults, served as the specs' parameter texts (or, where those are
silent, Twilio's other documentation) describe them.

Some lists hide records unless a parameter asks for them: Video's rooms show only
`in-progress` rooms unless another `Status` is asked for, a room's participants show
`connected` ones for a room in progress and `disconnected` ones for a completed room,
TaskRouter's events and Insights' call summaries show only the last minutes or hours unless
a time is given, recordings leave out deleted ones unless `IncludeSoftDeleted=true`, and the
2010 API's conferences show only `in-progress` ones unless another `Status` is asked for (a
default Twilio's changelog documents, not the spec).

The rules are ``narrowing.json``, written by ``scripts/narrowing_defaults.py`` from the specs
and the defaults Twilio documents elsewhere (never from the tap's table), keyed by host and
path as the specs spell them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

RULES_FILE = Path(__file__).with_name("narrowing.json")
# The hand-written lists (data.py) whose parameters narrow by default, as the specs name them.
LEGACY_LISTS = {
    "recordings": ("api.twilio.com", "/2010-04-01/Accounts/{AccountSid}/Recordings.json"),
    "conferences": ("api.twilio.com", "/2010-04-01/Accounts/{AccountSid}/Conferences.json"),
}
# A window's default applies only when no time bound of the list is given at all.
TIME_BOUND = re.compile(r"(Date|Time|Minutes|^Start|^End)")


@cache
def rules_by_list() -> dict[tuple[str, str], list[dict[str, Any]]]:
    rules: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for rule in json.loads(RULES_FILE.read_text(encoding="utf-8"))["rules"]:
        rules.setdefault((rule["host"], rule["path"]), []).append(rule)
    return rules


def field_of(parameter: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", parameter).lower()


def narrow(
    host: str,
    path: str,
    records: list[dict],
    query: dict[str, str],
    parent: Callable[[], dict | None],
    now_ts: int,
    record_time: Callable[[dict], int | None],
) -> list[dict]:
    """The records a list answers with, given the query's parameters (`path` as the spec
    spells it; `parent`: the record the list hangs under)."""
    for rule in rules_by_list().get((host, path), []):
        records = [r for r in records if shown(rule, r, query, parent, now_ts, record_time)]
    return records


def shown(
    rule: dict[str, Any],
    record: dict,
    query: dict[str, str],
    parent: Callable[[], dict | None],
    now_ts: int,
    record_time: Callable[[dict], int | None],
) -> bool:
    parameter, kind = rule["parameter"], rule["kind"]
    asked = query.get(parameter)
    if kind == "status":
        return record.get(field_of(parameter)) in ([asked] if asked else rule["default"])
    if kind == "parent_status":
        if asked:
            return bool(record.get(field_of(parameter)) == asked)
        by_parent = rule["by_parent"].get((parent() or {}).get("status"))
        return by_parent is None or record.get(field_of(parameter)) == by_parent
    if kind == "window":
        if any(TIME_BOUND.search(name) for name in query):
            return True
        ts = record_time(record)
        return ts is not None and ts >= now_ts - int(rule["seconds"])
    if kind == "soft_deleted":
        return asked == rule["value"] or record.get("status") != "deleted"
    raise ValueError(f"narrowing.json: unknown kind {kind!r}")


def narrows(host: str, path: str) -> bool:
    return (host, path) in rules_by_list()


class NarrowedQuery:
    """A hand-written list's query (see filters.Query) that also hides what the list's
    narrowing defaults hide (recordings: deleted ones, unless `IncludeSoftDeleted=true`;
    conferences: all but `in-progress` ones, unless a `Status` is asked for)."""

    empty = False

    def __init__(self, query: Any, keep: Callable[[dict], bool]) -> None:
        self.query, self.keep = query, keep

    def matches(self, record: dict) -> bool:
        return bool(self.query.matches(record)) and self.keep(record)

    def window(self, ts_fields: dict[str, int]) -> tuple[int | None, int | None]:
        return self.query.window(ts_fields)  # type: ignore[no-any-return]


def narrowed_query(resource: str, query: Any, pairs: list[tuple[str, str]], now_ts: int) -> Any:
    """The query of a hand-written list, narrowed as its defaults say (unchanged if none)."""
    if resource not in LEGACY_LISTS:
        return query
    host, path = LEGACY_LISTS[resource]
    params = dict(pairs)
    return NarrowedQuery(query, lambda record: bool(narrow(
        host, path, [record], params, lambda: None, now_ts, lambda r: None)))
