#!/usr/bin/env python3
"""Generate tap-twilio's stream schemas from Twilio's OpenAPI specs.

This script makes the schemas of the 2010 API's streams and Monitor alerts (``STREAMS``) and
holds the rules; ``scripts/generate_streams.py`` applies the same rules, through this module's
functions, to the other streams of the stream table and writes their files beside these.

Usage (developers only; the tap never reads the spec at run time)::

    python scripts/generate_schemas.py [SPEC_DIR]          # (re)write the schemas
    python scripts/generate_schemas.py [SPEC_DIR] --check  # exit 1 if they differ

SPEC_DIR (default: the copy vendored in ``specs/twilio-oai``) holds ``twilio_api_v2010.json``
and ``twilio_monitor_v1.json`` from https://github.com/twilio/twilio-oai (``spec/json/``). The
output is deterministic: keys sorted, ``indent=2``, trailing newline, so re-running on the same
spec reproduces the files byte for byte.

Rules (Singer style, JSON Schema draft 7):

* every property of the spec's list-item schema is kept, except the ones in ``REMOVED_FIELDS``;
* every property is nullable (enum ``$ref`` s carry no ``nullable`` flag, yet real data has nulls);
* ``date-time-rfc-2822`` and ISO ``date-time`` become ``format: date-time`` (the tap converts the
  values to RFC 3339, see ``tap_twilio/output/transform.py``); ``date`` stays
  ``format: date``; every other ``format`` (uri, phone-number, currency, http-method, ...) is
  dropped because targets do not know them and Twilio sends relative URIs and empty strings in
  such fields;
* enums become plain strings (Twilio adds values); their known values go into the description;
* ``pattern`` / ``minLength`` / ``maxLength`` / ``default`` are dropped (Twilio sends ``""`` in some
  SID fields, and a tap must not reject data over a regex);
* objects become ``{"type": ["object", "null"], "additionalProperties": true}`` (known
  sub-properties kept, also nullable); arrays keep their item type;
* numeric strings are typed by the one table ``FIELD_TYPE_OVERRIDES`` below;
* the keys a child stream gets from its parent's context are added when the spec lacks them.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT_DIR = REPO_ROOT / "tap_twilio" / "schemas"
DEFAULT_SPEC_DIR = REPO_ROOT / "specs" / "twilio-oai"
STREAM_TABLE = REPO_ROOT / "tap_twilio" / "streams_table.json"

SPEC_FILES = {
    "api_v2010": "twilio_api_v2010.json",
    "monitor_v1": "twilio_monitor_v1.json",
}


@dataclass(frozen=True)
class StreamSpec:
    """Where a stream's record schema lives in the spec."""

    spec: str  # key of SPEC_FILES
    path: str  # list (or fetch) path; used to check that `item_schema` is the right one
    list_key: str | None  # key of the record array in the list response; None = single object
    item_schema: str  # components.schemas name of one record
    # Keys the stream's records get from the parent context (must be in the schema).
    context_keys: tuple[str, ...] = ()
    # Other spec schemas the same stream schema serves; they must have identical properties.
    same_as: tuple[str, ...] = ()


_ACCOUNT = ("account_sid",)
_USAGE_VARIANTS = tuple(
    f"api.v2010.account.usage.usage_record.usage_record_{v}"
    for v in (
        "daily",
        "monthly",
        "yearly",
        "all_time",
        "today",
        "yesterday",
        "this_month",
        "last_month",
    )
)
_A = "/2010-04-01/Accounts/{AccountSid}"

STREAMS: dict[str, StreamSpec] = {
    "accounts": StreamSpec(
        "api_v2010", "/2010-04-01/Accounts.json", "accounts", "api.v2010.account"
    ),
    "calls": StreamSpec(
        "api_v2010", f"{_A}/Calls.json", "calls", "api.v2010.account.call", _ACCOUNT
    ),
    "conferences": StreamSpec(
        "api_v2010",
        f"{_A}/Conferences.json",
        "conferences",
        "api.v2010.account.conference",
        _ACCOUNT,
    ),
    "notifications": StreamSpec(
        "api_v2010",
        f"{_A}/Notifications.json",
        "notifications",
        "api.v2010.account.notification",
        _ACCOUNT,
    ),
    "messages": StreamSpec(
        "api_v2010", f"{_A}/Messages.json", "messages", "api.v2010.account.message", _ACCOUNT
    ),
    "usage_records": StreamSpec(
        "api_v2010",
        f"{_A}/Usage/Records.json",
        "usage_records",
        "api.v2010.account.usage.usage_record",
        _ACCOUNT,
        same_as=_USAGE_VARIANTS,
    ),
    "recordings": StreamSpec(
        "api_v2010", f"{_A}/Recordings.json", "recordings", "api.v2010.account.recording", _ACCOUNT
    ),
    "transcriptions": StreamSpec(
        "api_v2010",
        f"{_A}/Transcriptions.json",
        "transcriptions",
        "api.v2010.account.transcription",
        _ACCOUNT,
    ),
    "conference_participants": StreamSpec(
        "api_v2010",
        f"{_A}/Conferences/{{ConferenceSid}}/Participants.json",
        "participants",
        "api.v2010.account.conference.participant",
        ("account_sid", "conference_sid"),
    ),
    "message_media": StreamSpec(
        "api_v2010",
        f"{_A}/Messages/{{MessageSid}}/Media.json",
        "media_list",
        "api.v2010.account.message.media",
        ("account_sid", "parent_sid"),
    ),
    "incoming_phone_numbers": StreamSpec(
        "api_v2010",
        f"{_A}/IncomingPhoneNumbers.json",
        "incoming_phone_numbers",
        "api.v2010.account.incoming_phone_number",
        _ACCOUNT,
    ),
    "outgoing_caller_ids": StreamSpec(
        "api_v2010",
        f"{_A}/OutgoingCallerIds.json",
        "outgoing_caller_ids",
        "api.v2010.account.outgoing_caller_id",
        _ACCOUNT,
    ),
    "addresses": StreamSpec(
        "api_v2010", f"{_A}/Addresses.json", "addresses", "api.v2010.account.address", _ACCOUNT
    ),
    "applications": StreamSpec(
        "api_v2010",
        f"{_A}/Applications.json",
        "applications",
        "api.v2010.account.application",
        _ACCOUNT,
    ),
    # The spec's key record has no account_sid: the tap adds it from the context.
    "keys": StreamSpec("api_v2010", f"{_A}/Keys.json", "keys", "api.v2010.account.key", _ACCOUNT),
    "queues": StreamSpec(
        "api_v2010", f"{_A}/Queues.json", "queues", "api.v2010.account.queue", _ACCOUNT
    ),
    "usage_triggers": StreamSpec(
        "api_v2010",
        f"{_A}/Usage/Triggers.json",
        "usage_triggers",
        "api.v2010.account.usage.usage_trigger",
        _ACCOUNT,
    ),
    "account_balance": StreamSpec(
        "api_v2010", f"{_A}/Balance.json", None, "api.v2010.account.balance", _ACCOUNT
    ),
    "alerts": StreamSpec("monitor_v1", "/v1/Alerts", "alerts", "monitor.v1.alert"),
}

# Properties never written to a schema (so the transformer drops them from records).
REMOVED_FIELDS: dict[tuple[str, str], str] = {
    ("accounts", "auth_token"): "a credential must never land in a warehouse",
}

_NUMBER = {"type": ["number", "null"]}
_INTEGER = {"type": ["integer", "null"]}
_DATETIME = {"type": ["string", "null"], "format": "date-time"}
_OBJECT = {"type": ["object", "null"], "additionalProperties": True}

# ---------------------------------------------------------------------------------------------
# FIELD TYPE OVERRIDES: the one place where a spec type is replaced.
#
# Twilio sends money, counts and durations as JSON strings ("-0.00750", "3", "1000"). Each entry
# says what the value really is; the tap's transformer converts it (Decimal for number, int for
# integer, never via float). integer = the value is always whole (seconds, milliseconds, item
# counts); number = fractional values occur (money, usage measured in minutes / GB / ...).
# Evidence: the spec descriptions (quoted) and the spec's example pages (examples.json).
# The generator fails if an entry names a field the spec does not have (keeps the table honest).
# Deliberately KEPT AS STRING (not numbers although they look numeric): `error_code` in
# notifications and alerts (string in the spec, the alerts example is the placeholder
# "error_code"; messages/recordings' error_code is an integer in the spec already), all SIDs,
# `api_version`, `price_unit`/`currency`, `usage_unit`/`count_unit`.
# ---------------------------------------------------------------------------------------------
FIELD_TYPE_OVERRIDES: dict[tuple[str, str], dict[str, Any]] = {
    # -- money: decimal strings --------------------------------------------------------------
    # "The charge for this call" — examples "-0.100", "-0.200"
    ("calls", "price"): _NUMBER,
    # "The amount billed for the message" — example "-0.00750"
    ("messages", "price"): _NUMBER,
    # "The one-time cost of creating the recording" — example "0.04"
    ("recordings", "price"): _NUMBER,
    # (usage_records.price and transcriptions.price are `number` in the spec already; the wire
    # sends strings — "2192.84855", "0", "0.00000" — and the transformer converts them.)
    # "The balance of the Account" — example "0.05"
    ("account_balance", "balance"): _NUMBER,
    # "The current value of the field the trigger is watching" / "The value at which the trigger
    # will fire. Must be a positive, numeric value." The watched field is count, usage or price
    # (`trigger_by`), so fractional values occur — examples "0", "50".
    ("usage_triggers", "current_value"): _NUMBER,
    ("usage_triggers", "trigger_value"): _NUMBER,
    # -- usage quantities: fractional (minutes, GB, ...) ---------------------------------------
    # "The number of usage events, such as the number of calls" — "0", null; fractional for
    # some categories, so number.
    ("usage_records", "count"): _NUMBER,
    # "The amount used to bill usage and measured in units described in usage_unit" (minutes,
    # GB, ...) — "2192.84855"
    ("usage_records", "usage"): _NUMBER,
    # -- whole counts and durations ----------------------------------------------------------
    # "The length of the call in seconds" — "3", "4"
    ("calls", "duration"): _INTEGER,
    # "The wait time in milliseconds before the call is placed" — "1000"
    ("calls", "queue_time"): _INTEGER,
    # "The wait time in milliseconds before participant's call is placed" — null
    ("conference_participants", "queue_time"): _INTEGER,
    # "The number of segments that make up the complete message" — "1"
    ("messages", "num_segments"): _INTEGER,
    # "The number of media files associated with the Message resource" — "0", "3"
    ("messages", "num_media"): _INTEGER,
    # "The length of the recording in seconds" — "4", "6"
    ("recordings", "duration"): _INTEGER,
    # "The duration of the transcribed audio in seconds" — "10"
    ("transcriptions", "duration"): _INTEGER,
    # "An integer log level ...: `0` is ERROR, `1` is WARNING" — "1"
    ("notifications", "log"): _INTEGER,
    # -- timestamps the spec types as plain strings --------------------------------------------
    # "Usage records up to date as of this timestamp, formatted as YYYY-MM-DDTHH:MM:SS+00:00"
    ("usage_records", "as_of"): _DATETIME,
    # -- untyped in the spec -----------------------------------------------------------------
    # "How to decrypt the recording if it was encrypted" — an object in the examples
    # ({"encryption_public_key_sid": ..., "encryption_cek": ..., "encryption_iv": ...}).
    ("recordings", "encryption_details"): _OBJECT,
}

_ADDED_DESCRIPTIONS = {
    "account_sid": "The SID of the Account the record was read from (added by the tap).",
    "conference_sid": "The SID of the Conference the record belongs to (added by the tap).",
    "parent_sid": "The SID of the Message the record belongs to (added by the tap).",
}

# Twilio's descriptions say "in RFC 2822 format"; what the tap writes is RFC 3339.
_DATETIME_NOTE = "The tap emits it as RFC 3339 in UTC."

_DATETIME_FORMATS = {"date-time-rfc-2822", "date-time"}


class SpecError(Exception):
    """The spec does not look the way this generator expects."""


def load_specs(spec_dir: Path) -> dict[str, dict[str, Any]]:
    specs = {}
    for key, filename in SPEC_FILES.items():
        path = spec_dir / filename
        if not path.is_file():
            raise SpecError(f"{path} not found (expected Twilio's spec/json/{filename})")
        specs[key] = json.loads(path.read_text(encoding="utf-8"))
    return specs


def ref_name(ref: str) -> str:
    prefix = "#/components/schemas/"
    if not ref.startswith(prefix):
        raise SpecError(f"unsupported $ref {ref!r}")
    return ref[len(prefix) :]


def _list_item_ref(spec: dict[str, Any], stream: StreamSpec) -> str:
    """The schema name the spec's GET response uses for one record of `stream`."""
    try:
        response = spec["paths"][stream.path]["get"]["responses"]["200"]
        schema = response["content"]["application/json"]["schema"]
        if stream.list_key is not None:
            schema = schema["properties"][stream.list_key]["items"]
        return ref_name(schema["$ref"])
    except KeyError as exc:
        raise SpecError(f"{stream.path}: no GET 200 list item schema ({exc})") from exc


def _description(text: str | None) -> str | None:
    if not text:
        return None
    return " ".join(text.split())


def convert_property(prop: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    """One OpenAPI property → one nullable Singer JSON schema."""
    description = _description(prop.get("description"))
    if "$ref" in prop:
        target = components[ref_name(prop["$ref"])]
        converted = convert_property(target, components)
        if description:
            converted["description"] = description
        return converted

    spec_type = prop.get("type")
    out: dict[str, Any]
    if spec_type == "string":
        fmt = prop.get("format")
        out = {"type": ["string", "null"]}
        if fmt in _DATETIME_FORMATS:
            out["format"] = "date-time"
        elif fmt == "date":
            out["format"] = "date"
        enum = prop.get("enum")
        if enum:
            known = "Known values (Twilio may add more): " + ", ".join(f"`{v}`" for v in enum) + "."
            description = f"{description} {known}" if description else known
    elif spec_type in ("integer", "number", "boolean"):
        out = {"type": [spec_type, "null"]}
    elif spec_type == "object":
        out = dict(_OBJECT)
        sub = prop.get("properties")
        if sub:
            out["properties"] = {k: convert_property(v, components) for k, v in sub.items()}
    elif spec_type == "array":
        out = {"type": ["array", "null"]}
        if "items" in prop:
            out["items"] = convert_property(prop["items"], components)
    elif spec_type is None:
        out = {}  # untyped ("any"); streams override these in FIELD_TYPE_OVERRIDES
    else:
        raise SpecError(f"unsupported property type {spec_type!r}")
    if description:
        out["description"] = description
    return out


def build_schema(
    name: str,
    stream: StreamSpec,
    specs: dict[str, dict[str, Any]],
    *,
    field_types: dict[str, dict[str, Any]] | None = None,
    added_descriptions: dict[str, str] | None = None,
    removed: frozenset[str] = frozenset(),
) -> dict[str, Any]:
    """One stream's schema. For streams outside this script's tables: `field_types` types
    fields the spec leaves untyped, `added_descriptions` describes context keys the spec lacks,
    `removed` names fields never written (as REMOVED_FIELDS does)."""
    spec = specs[stream.spec]
    components = spec["components"]["schemas"]
    referenced = _list_item_ref(spec, stream)
    if referenced != stream.item_schema:
        raise SpecError(f"{name}: {stream.path} returns {referenced!r}, not {stream.item_schema!r}")
    spec_props: dict[str, Any] = components[stream.item_schema]["properties"]
    for other in stream.same_as:
        if components[other]["properties"] != spec_props:
            raise SpecError(f"{name}: {other} differs from {stream.item_schema}; split the stream")

    properties: dict[str, Any] = {}
    for field, prop in spec_props.items():
        if (name, field) in REMOVED_FIELDS or field in removed:
            continue
        converted = convert_property(prop, components)
        override = FIELD_TYPE_OVERRIDES.get((name, field)) or (field_types or {}).get(field)
        if override is not None:
            description = converted.get("description")
            converted = json.loads(json.dumps(override))  # deep copy
            if description:
                converted["description"] = description
        if converted.get("format") == "date-time":
            text = converted.get("description", "")
            if text and not text.endswith("."):
                text += "."
            converted["description"] = f"{text} {_DATETIME_NOTE}".strip()
        if not converted.get("type"):
            raise SpecError(
                f"{name}.{field} is untyped in the spec; add it to FIELD_TYPE_OVERRIDES"
            )
        properties[field] = converted
    for key in stream.context_keys:
        if key not in properties:
            properties[key] = {
                "type": ["string", "null"],
                "description": {**_ADDED_DESCRIPTIONS, **(added_descriptions or {})}[key],
            }
    return {"type": "object", "properties": properties}


def _check_tables(specs: dict[str, dict[str, Any]]) -> None:
    for table_name, table in (
        ("FIELD_TYPE_OVERRIDES", FIELD_TYPE_OVERRIDES),
        ("REMOVED_FIELDS", REMOVED_FIELDS),
    ):
        for stream_name, field in table:
            stream = STREAMS.get(stream_name)
            if stream is None:
                raise SpecError(f"{table_name}: unknown stream {stream_name!r}")
            components = specs[stream.spec]["components"]["schemas"]
            if field not in components[stream.item_schema]["properties"]:
                raise SpecError(
                    f"{table_name}: {stream_name}.{field} is not in {stream.item_schema}"
                )


def build_all(spec_dir: Path) -> dict[str, dict[str, Any]]:
    """Every stream's schema, keyed by stream name."""
    specs = load_specs(spec_dir)
    _check_tables(specs)
    return {name: build_schema(name, stream, specs) for name, stream in sorted(STREAMS.items())}


def spec_property_names(spec_dir: Path) -> dict[str, list[str]]:
    """The property names the spec lists for each stream (for tests)."""
    specs = load_specs(spec_dir)
    return {
        name: list(specs[s.spec]["components"]["schemas"][s.item_schema]["properties"])
        for name, s in STREAMS.items()
    }


def table_schema_files() -> set[str]:
    """Schema files of the stream table's other streams (generate_streams.py writes them)."""
    if not STREAM_TABLE.is_file():
        return set()
    rows = json.loads(STREAM_TABLE.read_text(encoding="utf-8"))["streams"]
    return {row["schema"] for row in rows} - {f"{name}.json" for name in STREAMS}


def render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def render_all(spec_dir: Path) -> dict[str, str]:
    """File name → file content for every schema file."""
    return {f"{name}.json": render(schema) for name, schema in build_all(spec_dir).items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "spec_dir",
        type=Path,
        nargs="?",
        default=DEFAULT_SPEC_DIR,
        help="folder with twilio_api_v2010.json etc.",
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT_DIR, help="schema folder")
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 if the files in --out differ from what would be generated",
    )
    args = parser.parse_args(argv)
    try:
        files = render_all(args.spec_dir)
    except SpecError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    out_dir: Path = args.out
    if args.check:
        problems = []
        for filename, content in files.items():
            path = out_dir / filename
            if not path.is_file():
                problems.append(f"{path}: missing")
            elif path.read_text(encoding="utf-8") != content:
                problems.append(f"{path}: differs from the generated schema")
        others = table_schema_files()
        stale = sorted(
            p.name for p in out_dir.glob("*.json") if p.name not in files and p.name not in others
        )
        problems += [f"{out_dir / name}: not generated (stale?)" for name in stale]
        for problem in problems:
            print(problem, file=sys.stderr)
        if problems:
            print("run: python scripts/generate_schemas.py", file=sys.stderr)
            return 1
        print(f"{len(files)} schema files up to date in {out_dir}")
        return 0

    out_dir.mkdir(parents=True, exist_ok=True)
    for filename, content in files.items():
        path = out_dir / filename
        if not path.is_file() or path.read_text(encoding="utf-8") != content:
            path.write_text(content, encoding="utf-8", newline="\n")
            print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
