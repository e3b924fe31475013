"""Twilio's lists as the specs describe them: the emulator's own reading of the platform.

``lists.json`` (written by ``scripts/extract_emulator_lists.py`` from the OpenAPI specs alone)
holds every list endpoint of every Twilio API: host, path, envelope, list key, parent list,
query parameters and record properties.  A list is named by its host and path
(``studio.twilio.com/v2/Flows``).  The lists ``data.py`` serves with hand-written generators
(the 2010 API's calls, messages... and Monitor's alerts; their paths are in ``spec.json``) are
marked legacy; the platform serves every other one from these descriptions.  Nothing here reads
the tap: a wrong path, list key or filter in its table finds no list, or a list that disagrees.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
LISTS_PATH = HERE / "lists.json"
SPEC_PATH = HERE / "spec.json"
PARAM = re.compile(r"\{(\w+)\}")
API_HOST = "api.twilio.com"
MONITOR_HOST = "monitor.twilio.com"
ACCOUNTS = f"{API_HOST}/2010-04-01/Accounts.json"
ALERTS = f"{MONITOR_HOST}/v1/Alerts"


def snake(word: str) -> str:
    """'TaskQueues' -> 'task_queues'."""
    return re.sub(r"(?<!^)([A-Z])", r"_\1", word).lower()


@lru_cache(maxsize=1)
def legacy_resources() -> dict[str, str]:
    """List name -> the resource ``data.py`` serves it as (``calls``, ``alerts``...)."""
    resources = json.loads(SPEC_PATH.read_text(encoding="utf-8"))["resources"]
    return {
        f"{MONITOR_HOST if r['path'].startswith('/v1/') else API_HOST}{r['path']}": name
        for name, r in resources.items()
    }


# the resource names of the lists data.py serves (Twilio's own names for them)
LEGACY_STREAMS = frozenset(json.loads(SPEC_PATH.read_text(encoding="utf-8"))["resources"])


@dataclass
class StreamDef:
    """One list of the specs: where it is, how it pages, what its records hold."""

    name: str  # host + path
    api: str  # the spec it is from: "studio_v2"
    host: str
    path: str
    family: str  # "v2010" or "meta"
    list_key: str
    id_field: str | None  # the field its instance path names a record by
    parent: str | None
    parent_field: str | None  # the parent record's field the last path parameter holds
    date_filters: list[dict[str, Any]]
    query: dict[str, dict[str, Any]]
    properties: dict[str, Any]
    children: list[StreamDef] = field(default_factory=list)

    @property
    def params(self) -> list[str]:
        return PARAM.findall(self.path)

    @property
    def under_account(self) -> bool:
        """A 2010 list under /Accounts/{AccountSid}/ (its account is in the path)."""
        return "AccountSid" in self.params

    @property
    def legacy(self) -> str | None:
        """The resource data.py serves this list as, if it does."""
        return legacy_resources().get(self.name)

    @property
    def path_fields(self) -> dict[str, str]:
        """Path parameter -> the record field holding its value (``FlowSid`` -> ``flow_sid``)."""
        return {p: snake(p) for p in self.params if snake(p) in self.properties}

    @property
    def order_fields(self) -> set[str]:
        """The fields records are ordered by: creation and every date a filter bounds."""
        return {"date_created", *(f["field"] for f in self.date_filters)}

    @property
    def pattern(self) -> re.Pattern[str]:
        return _pattern(self.path)

    def fill(self, values: dict[str, str]) -> str:
        """The path with its parameters filled from ``values``."""
        return PARAM.sub(lambda m: values[m.group(1)], self.path)

    def public_url(self, values: dict[str, str]) -> str:
        """The list's URL on Twilio's own host."""
        return f"https://{self.host}{self.fill(values)}"

    def child_params(self, parent: StreamDef, parent_params: dict, record: dict) -> dict:
        """This list's path parameters under one record of its parent list: the last from the
        record, the others the parent list's own (by position, or by name where the parent
        has fewer)."""
        *inherited, last = self.params
        own = parent.params
        if len(own) == len(inherited):
            values = {p: parent_params[q] for p, q in zip(inherited, own, strict=True)}
        else:
            values = {p: parent_params.get(p, record.get(snake(p))) for p in inherited}
        values[last] = record.get(self.parent_field or "sid")
        return {k: str(v) for k, v in values.items()}

    def parent_params(self, parent: StreamDef, params: dict) -> dict:
        """The parent list's path parameters, from this list's (the inverse of the above)."""
        inherited = self.params[:-1]
        own = parent.params
        if len(own) == len(inherited):
            return {q: params[p] for p, q in zip(inherited, own, strict=True)}
        return {q: params[q] for q in own if q in params}


@cache
def _pattern(path: str) -> re.Pattern[str]:
    parts = PARAM.split(path)
    regex = "".join(
        re.escape(part) if k % 2 == 0 else f"(?P<{part}>[^/]+)" for k, part in enumerate(parts)
    )
    return re.compile(f"^{regex}$")


@lru_cache(maxsize=1)
def load_streams() -> dict[str, StreamDef]:
    """Every list of the specs by name (host + path), children linked to their parents."""
    entries = json.loads(LISTS_PATH.read_text(encoding="utf-8"))
    streams = {
        name: StreamDef(
            name=name,
            api=e["api"],
            host=e["host"],
            path=e["path"],
            family=e["family"],
            list_key=e["list_key"],
            id_field=e["id_field"],
            parent=e["parent"],
            parent_field=e["parent_field"],
            date_filters=e["date_filters"],
            query=e["query"],
            properties=e["properties"],
        )
        for name, e in entries.items()
    }
    for stream in streams.values():
        if stream.parent in streams:
            streams[stream.parent].children.append(stream)
    return streams


NOT_SUPPORTED = re.compile(r"older than (\d+) days are not supported")


def refused_older_than(name: str, param: str) -> int | None:
    """How many days back a date parameter may reach, where the spec's text says (Monitor
    alerts: "Queries for alerts older than 30 days are not supported")."""
    query = load_streams()[name].query.get(param) or {}
    found = NOT_SUPPORTED.search(query.get("description") or "")
    return int(found.group(1)) if found else None


def platform_streams() -> dict[str, StreamDef]:
    """The lists the platform serves (every list data.py does not serve)."""
    return {n: s for n, s in load_streams().items() if s.legacy is None}


def hosts() -> frozenset[str]:
    return frozenset(s.host for s in load_streams().values())
