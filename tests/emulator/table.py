"""The tap's stream table and schemas, read as the emulator's description of Twilio's platform.

Every row of ``tap_twilio/streams_table.json`` is one list endpoint (host, path, list key,
parent...); its schema in ``tap_twilio/schemas/`` gives the record's fields.  The emulator
serves the rows its hand-written generators (``data.py``) do not already serve from these.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

PACKAGE_DIR = Path(__file__).resolve().parents[2] / "tap_twilio"
TABLE_PATH = PACKAGE_DIR / "streams_table.json"
SCHEMA_DIR = PACKAGE_DIR / "schemas"

# streams data.py and server.py serve with hand-written generators
LEGACY_STREAMS = frozenset(
    {
        "account_balance",
        "accounts",
        "addresses",
        "alerts",
        "applications",
        "calls",
        "conference_participants",
        "conferences",
        "incoming_phone_numbers",
        "keys",
        "message_media",
        "messages",
        "notifications",
        "outgoing_caller_ids",
        "queues",
        "recordings",
        "transcriptions",
        "usage_records",
        "usage_triggers",
    }
)
PARAM = re.compile(r"\{(\w+)\}")


@dataclass
class StreamDef:
    """One row of the stream table, with its schema's properties and its URL pattern."""

    name: str
    api: str
    host: str
    path: str
    family: str  # "v2010" or "meta"
    list_key: str
    primary_keys: list[str]
    parent: str | None
    parent_keys: dict[str, str]  # path parameter -> field of the parent record
    path_fields: dict[str, str]  # path parameter -> field of this stream's record
    date_filter: dict[str, str] | None
    replication_key: str | None
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
    def pattern(self) -> re.Pattern[str]:
        return _pattern(self.path)

    def fill(self, values: dict[str, str]) -> str:
        """The path with its parameters filled from ``values``."""
        return PARAM.sub(lambda m: values[m.group(1)], self.path)

    def public_url(self, values: dict[str, str]) -> str:
        """The list's URL on Twilio's own host."""
        return f"https://{self.host}{self.fill(values)}"


@cache
def _pattern(path: str) -> re.Pattern[str]:
    parts = PARAM.split(path)
    regex = "".join(
        re.escape(part) if k % 2 == 0 else f"(?P<{part}>[^/]+)" for k, part in enumerate(parts)
    )
    return re.compile(f"^{regex}$")


@lru_cache(maxsize=1)
def load_streams() -> dict[str, StreamDef]:
    """Every stream of the table by name, children linked to their parents."""
    rows = json.loads(TABLE_PATH.read_text(encoding="utf-8"))["streams"]
    streams: dict[str, StreamDef] = {}
    for row in rows:
        schema = json.loads((SCHEMA_DIR / row["schema"]).read_text(encoding="utf-8"))
        streams[row["name"]] = StreamDef(
            name=row["name"],
            api=row["api"],
            host=row["host"],
            path=row["path"],
            family=row["family"],
            list_key=row["list_key"],
            primary_keys=list(row["primary_keys"]),
            parent=row["parent"],
            parent_keys=dict(row["parent_keys"]),
            path_fields=dict(row["path_fields"]),
            date_filter=row["date_filter"],
            replication_key=row["replication_key"],
            properties=schema.get("properties", {}),
        )
    for stream in streams.values():
        if stream.parent in streams:
            streams[stream.parent].children.append(stream)
    return streams


def platform_streams() -> dict[str, StreamDef]:
    """The streams served from the table (every stream data.py does not serve)."""
    return {n: s for n, s in load_streams().items() if n not in LEGACY_STREAMS}


def hosts() -> frozenset[str]:
    return frozenset(s.host for s in load_streams().values())
