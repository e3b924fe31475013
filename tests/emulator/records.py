"""Deterministic records of a list, built from the spec's description of its records.

Record i of a list is a pure function of (seed, account, list, the list's path parameters,
i): every property the spec lists gets a value of the spec's type (a date in the API's format,
a decimal as the string Twilio sends), enums one of the spec's values, SIDs the two-letter
prefix of the spec's pattern, the fields that name the parent (``path_fields``) the parent's
values, and ``url``/``links`` (``uri`` and ``subresource_uris`` on the 2010 API) point where
Twilio's would.  Index 0 is the newest.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .table import StreamDef, snake
from .values import hex32, iso8601, iso_date, key_of, phone, rfc2822, rnd, unit

SID_PATTERN = re.compile(r"^\^([A-Z]{2})\[0-9a-fA-F\]\{32\}\$$")
# SID fields the specs give no pattern for, where Twilio's prefix is known
SID_PREFIXES = {"account_sid": "AC", "port_in_request_sid": "KW", "resource_sid": "PN"}
# "service_sid" means a different product's Service on each host
SERVICE_PREFIXES = {
    "messaging.twilio.com": "MG",
    "verify.twilio.com": "VA",
    "serverless.twilio.com": "ZS",
    "intelligence.twilio.com": "GA",
    "proxy.twilio.com": "KS",
}
DEFAULT_SERVICE_PREFIX = "IS"  # Sync, Conversations, Notify, Chat
DATE_FORMATS = ("date-time", "date-time-rfc-2822")
NAME_FIELDS = frozenset({"friendly_name", "unique_name", "name", "display_name", "description"})


def last_segment(stream: StreamDef) -> str:
    """The last word of the list's path: 'Executions' for /v2/Flows/{FlowSid}/Executions."""
    return stream.path.removesuffix(".json").rsplit("/", 1)[-1]


def singular(word: str) -> str:
    """'Flows' -> 'flow', 'Activities' -> 'activity', 'Addresses' -> 'address' (snake case)."""
    snake_word = snake(word)
    if snake_word.endswith("ies"):
        return snake_word[:-3] + "y"
    if snake_word.endswith(("sses", "xes", "ches", "shes")):
        return snake_word[:-2]
    return snake_word[:-1] if snake_word.endswith("s") else snake_word


def sid_prefix(field_name: str, host: str) -> str:
    """A SID field's prefix where the spec does not say: by its name (and host)."""
    if field_name in ("service_sid", "chat_service_sid") and host in SERVICE_PREFIXES:
        return SERVICE_PREFIXES[host]
    if field_name.endswith("service_sid") and field_name != "messaging_service_sid":
        return DEFAULT_SERVICE_PREFIX
    if field_name in SID_PREFIXES:
        return SID_PREFIXES[field_name]
    return field_name[:2].upper()


def own_sid_field(stream: StreamDef) -> str:
    """The field other resources would name this stream's SID with: 'Flows' -> 'flow_sid'."""
    return singular(last_segment(stream)) + "_sid"


def known_values(prop: dict) -> list[str]:
    """The enum values the spec lists for a property."""
    return [str(v) for v in prop.get("enum") or []]


def spec_prefixes(stream: StreamDef) -> dict[str, str]:
    """{field: prefix} of the SID fields whose pattern the spec gives (``^FW[0-9a-fA-F]{32}$``)."""
    out = {}
    for name, prop in stream.properties.items():
        m = SID_PATTERN.match(prop.get("pattern") or "")
        if m:
            out[name] = m.group(1)
    return out


def types_of(prop: dict) -> list[str]:
    kind = prop.get("type") or "string"
    return [kind] if isinstance(kind, str) else [k for k in kind if k != "null"] or ["string"]


@dataclass
class ListSpec:
    """One list to build: a stream, the account and path parameters, its size and time span."""

    stream: StreamDef
    account_sid: str
    params: dict[str, str]  # the list's path parameters (AccountSid included on the 2010 API)
    n: int
    lo_ts: int  # oldest record time
    hi_ts: int  # newest record time (the emulator's "now")
    seed: int


class ListBuilder:
    """Builds the records of one list, newest first."""

    def __init__(self, spec: ListSpec) -> None:
        self.spec = spec
        self.stream = s = spec.stream
        self.key = key_of(spec.seed, spec.account_sid, s.name, sorted(spec.params.items()))
        self.step = max(0, spec.hi_ts - spec.lo_ts) / spec.n if spec.n else 0.0
        self.filled = {s.path_fields[p]: v for p, v in spec.params.items() if p in s.path_fields}
        self.order_fields = s.order_fields
        self.prefixes = spec_prefixes(s)
        self.own_prefix = self.prefixes.get("sid") or sid_prefix(own_sid_field(s), s.host)

    def build(self) -> list[dict]:
        return [self.record(i) for i in range(self.spec.n)]

    def base_ts(self, i: int) -> int:
        """Time of record i: strictly decreasing in i while the span allows."""
        return self.spec.hi_ts - int((i + 0.9 * unit(self.key, i, 1)) * self.step)

    def record(self, i: int) -> dict:
        ts = self.base_ts(i)
        rec: dict[str, Any] = {}
        for name, prop in self.stream.properties.items():
            if name not in ("links", "subresource_uris", "url", "uri"):
                rec[name] = self.value(name, prop, i, ts)
        for name in ("links", "subresource_uris", "url", "uri"):
            if name in self.stream.properties:
                rec[name] = self.reference(name, rec)
        return rec

    # --- one field ---------------------------------------------------------------------------
    def value(self, name: str, prop: dict, i: int, ts: int) -> Any:
        if name in self.filled:
            return self.filled[name]
        salt = key_of(name) & 0xFFFF
        if not prop.get("type"):  # the spec leaves it free-form: Twilio sends a JSON object
            return {}
        kind = types_of(prop)[0]
        if kind == "integer":
            return i if name == self.stream.id_field else rnd(self.key, i, salt) % 1000
        if kind == "number":
            return round(unit(self.key, i, salt) * 100, 2)
        if kind == "boolean":
            return rnd(self.key, i, salt) % 2 == 1
        if kind == "object":
            return {}
        if kind == "array":
            return self.array(name, prop.get("items") or {}, i)
        if prop.get("format") in DATE_FORMATS:
            return self.date_time(name, ts, i, salt)
        if prop.get("format") == "date":
            return iso_date(ts // 86400)
        return self.string(name, prop, i, salt)

    def date_time(self, name: str, ts: int, i: int, salt: int) -> str | None:
        if name not in self.order_fields:
            ts = min(ts + rnd(self.key, i, salt) % 3600, self.spec.hi_ts)
        return rfc2822(ts) if self.stream.family == "v2010" else iso8601(ts)

    def decimal(self, i: int, salt: int) -> str:
        """A price or amount: Twilio sends decimals as strings (``"-0.00750"``)."""
        return f"{-unit(self.key, i, salt) * 10:.5f}"

    def string(self, name: str, prop: dict, i: int, salt: int) -> str:
        if name == "sid":
            return self.own_prefix + hex32(self.key, i, 7)
        if name == "account_sid":
            return self.spec.account_sid
        if name.endswith("_sid") or name in self.prefixes:
            prefix = self.prefixes.get(name) or sid_prefix(name, self.stream.host)
            return prefix + hex32(self.key, i, salt)
        if prop.get("format") == "decimal":
            return self.decimal(i, salt)
        values = known_values(prop)
        if name == self.stream.id_field:
            # unique across parents too, as Twilio's identifiers are
            return values[i] if i < len(values) else f"{name}-{i:04d}-{hex32(self.key, i, 9)[:8]}"
        if values:
            return values[rnd(self.key, i, salt) % len(values)]
        if name.endswith("_url"):
            return f"https://example.com/{self.stream.name}/{name}"
        if name == "api_version" and self.stream.family == "v2010":
            return "2010-04-01"
        if name.endswith("_method"):
            return "POST"
        if "phone_number" in name or name in ("to", "from", "phone"):
            return phone(rnd(self.key, i, salt) % 1000)
        if name == "ip_address":
            return f"10.{rnd(self.key, i, salt) % 256}.{i // 256 % 256}.{i % 256}"
        if name in NAME_FIELDS:
            return f"{singular(last_segment(self.stream)).replace('_', ' ').title()} {i + 1}"
        return f"{name}-{hex32(self.key, i, salt)[:8]}"

    def array(self, name: str, items: dict, i: int) -> list:
        if not items:
            return []
        values = known_values(items)
        if values:
            return [values[i % len(values)]]
        kind = types_of(items)[0]
        return [{}] if kind == "object" else [f"{name}-{i}"] if kind == "string" else []

    # --- where the record and its children are ----------------------------------------------
    def reference(self, name: str, rec: dict) -> Any:
        s = self.stream
        if name in ("url", "uri"):
            ident = rec.get(s.id_field or "sid") or rec.get("sid")
            path = s.fill(self.spec.params).removesuffix(".json") + f"/{ident}"
            return f"https://{s.host}{path}" if name == "url" else path + ".json"
        links = {}
        for child in s.children:
            values = child.child_params(s, self.spec.params, rec)
            url = child.fill(values) if name == "subresource_uris" else child.public_url(values)
            links[snake(last_segment(child))] = url
        return links
