"""The committed stream schemas: valid, complete, and exactly what the generator makes of the spec.

The spec-dependent tests read Twilio's OpenAPI specs vendored in ``specs/twilio-oai``
(``TWILIO_OAI_DIR`` points them at another copy).
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from jsonschema import Draft7Validator

from tap_twilio.schemas import load_schema, stream_names

REPO_ROOT = Path(__file__).resolve().parent.parent
SCHEMA_DIR = REPO_ROOT / "tap_twilio" / "schemas"
GENERATOR = REPO_ROOT / "scripts" / "generate_schemas.py"
STREAM_TABLE = REPO_ROOT / "tap_twilio" / "streams_table.json"

STREAMS = [
    "accounts",
    "calls",
    "conferences",
    "notifications",
    "messages",
    "usage_records",
    "recordings",
    "transcriptions",
    "conference_participants",
    "message_media",
    "incoming_phone_numbers",
    "outgoing_caller_ids",
    "addresses",
    "applications",
    "keys",
    "queues",
    "usage_triggers",
    "account_balance",
    "alerts",
]

# Keys child streams get from their parents' context: they must be schema properties.
CONTEXT_KEYS: dict[str, set[str]] = {
    name: {"account_sid"} for name in STREAMS if name not in ("accounts", "alerts")
}
CONTEXT_KEYS["conference_participants"] |= {"conference_sid"}
CONTEXT_KEYS["message_media"] |= {"parent_sid"}


# Twilio's specs, vendored with the repository; TWILIO_OAI_DIR points the tests at another copy
SPEC_DIR = Path(os.environ.get("TWILIO_OAI_DIR") or REPO_ROOT / "specs" / "twilio-oai")


def _load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("generate_schemas", GENERATOR)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("generate_schemas", module)
    spec.loader.exec_module(module)
    return module


def _walk(schema: dict[str, Any], path: str = ""):
    """(path, subschema) for every property, nested ones included."""
    for name, sub in schema.get("properties", {}).items():
        yield f"{path}{name}", sub
        yield from _walk(sub, f"{path}{name}.")
        if isinstance(sub.get("items"), dict):
            yield from _walk(sub["items"], f"{path}{name}[].")


# --- no spec needed -------------------------------------------------------------------------


def test_one_schema_file_per_stream() -> None:
    """One file per stream of the stream table; the 19 above among them."""
    table = json.loads(STREAM_TABLE.read_text(encoding="utf-8"))["streams"]
    assert stream_names() == sorted(row["name"] for row in table)
    assert set(STREAMS) <= set(stream_names())


@pytest.mark.parametrize("stream", STREAMS)
def test_schema_is_valid_draft7(stream: str) -> None:
    schema = load_schema(stream)
    Draft7Validator.check_schema(schema)
    assert schema["type"] == "object"
    # Only the schema itself: keys and replication live in the tap's stream table.
    assert set(schema) == {"type", "properties"}
    assert schema["properties"]


@pytest.mark.parametrize("stream", STREAMS)
def test_every_property_nullable_and_plain(stream: str) -> None:
    for path, sub in _walk(load_schema(stream)):
        types = sub.get("type")
        assert isinstance(types, list) and "null" in types, f"{stream}.{path} not nullable"
        assert "enum" not in sub, f"{stream}.{path} has an enum (Twilio adds values)"
        assert not {"pattern", "minLength", "maxLength"} & set(sub), f"{stream}.{path}"
        if "format" in sub:
            assert sub["format"] in ("date-time", "date"), f"{stream}.{path}: {sub['format']}"
            assert types == ["string", "null"], f"{stream}.{path} formatted but not a string"
        if "object" in types:
            assert sub.get("additionalProperties") is True, f"{stream}.{path}"


@pytest.mark.parametrize("stream", sorted(CONTEXT_KEYS))
def test_context_keys_present(stream: str) -> None:
    properties = load_schema(stream)["properties"]
    for key in CONTEXT_KEYS[stream]:
        assert properties.get(key, {}).get("type") == ["string", "null"], f"{stream}.{key}"


def test_accounts_schema_has_no_auth_token() -> None:
    schema = load_schema("accounts")
    assert "auth_token" not in schema["properties"]
    assert "auth_token" not in json.dumps(schema)


def test_known_field_types() -> None:
    """Spot checks of the override table and the format mapping."""

    def prop(stream: str, field: str) -> dict[str, Any]:
        return load_schema(stream)["properties"][field]

    number, integer = ["number", "null"], ["integer", "null"]
    assert prop("messages", "price")["type"] == number
    assert prop("calls", "price")["type"] == number
    assert prop("usage_records", "price")["type"] == number
    assert prop("usage_records", "usage")["type"] == number
    assert prop("usage_records", "count")["type"] == number
    assert prop("account_balance", "balance")["type"] == number
    assert prop("messages", "num_segments")["type"] == integer
    assert prop("messages", "num_media")["type"] == integer
    assert prop("calls", "duration")["type"] == integer
    assert prop("calls", "queue_time")["type"] == integer
    assert prop("recordings", "duration")["type"] == integer
    assert prop("transcriptions", "duration")["type"] == integer
    assert prop("messages", "error_code")["type"] == integer
    assert prop("notifications", "error_code")["type"] == ["string", "null"]
    assert prop("messages", "date_sent")["type"] == ["string", "null"]
    assert prop("messages", "date_sent")["format"] == "date-time"
    assert prop("alerts", "date_generated")["format"] == "date-time"
    assert prop("usage_records", "as_of")["format"] == "date-time"
    assert prop("usage_records", "start_date")["format"] == "date"
    assert prop("calls", "status")["type"] == ["string", "null"]
    assert prop("calls", "subresource_uris")["type"] == ["object", "null"]
    assert prop("queues", "current_size")["type"] == integer


def test_files_are_canonical_json() -> None:
    """Sorted keys, indent 2, trailing newline: what the generator writes."""
    for path in sorted(SCHEMA_DIR.glob("*.json")):
        text = path.read_text(encoding="utf-8")
        canonical = json.dumps(json.loads(text), indent=2, sort_keys=True, ensure_ascii=False)
        assert text == canonical + "\n", path.name


# --- spec needed ----------------------------------------------------------------------------


def test_committed_schemas_match_generator() -> None:
    generator = _load_generator()
    generated = generator.render_all(SPEC_DIR)
    committed = {p.name: p.read_text(encoding="utf-8") for p in SCHEMA_DIR.glob("*.json")}
    # The other streams' files are scripts/generate_streams.py's (tests/test_stream_table.py).
    assert sorted(committed) == sorted(set(generated) | generator.table_schema_files())
    stale = [name for name in generated if committed[name] != generated[name]]
    assert not stale, f"re-run scripts/generate_schemas.py: {stale} differ"


def test_usage_categories_are_twilios() -> None:
    """The categories `category` is checked against: the spec's enum before Twilio dropped
    it (kept in resources.json), one per line, in the spec's order."""
    from tap_twilio.settings import USAGE_CATEGORIES_FILE

    resources = json.loads((SPEC_DIR / "resources.json").read_text(encoding="utf-8"))
    values = resources["_meta"]["usage_categories_legacy_enum"]["values"]
    assert USAGE_CATEGORIES_FILE.read_text(encoding="utf-8") == "".join(
        f"{value}\n" for value in values)


def test_generator_is_deterministic() -> None:
    generator = _load_generator()
    assert generator.render_all(SPEC_DIR) == generator.render_all(SPEC_DIR)


def test_generator_check_flag(tmp_path: Path) -> None:
    out = tmp_path / "schemas"
    run = [sys.executable, str(GENERATOR), str(SPEC_DIR), "--out", str(out)]
    assert subprocess.run(run, capture_output=True, check=False).returncode == 0
    ok = subprocess.run([*run, "--check"], capture_output=True, text=True, check=False)
    assert ok.returncode == 0, ok.stderr
    (out / "calls.json").write_text("{}\n", encoding="utf-8")
    bad = subprocess.run([*run, "--check"], capture_output=True, text=True, check=False)
    assert bad.returncode == 1
    assert "calls.json" in bad.stderr


@pytest.mark.parametrize("stream", STREAMS)
def test_property_names_match_spec(stream: str) -> None:
    generator = _load_generator()
    spec_names = set(generator.spec_property_names(SPEC_DIR)[stream])
    removed = {field for (name, field) in generator.REMOVED_FIELDS if name == stream}
    added = CONTEXT_KEYS.get(stream, set()) - spec_names
    schema_names = set(load_schema(stream)["properties"])
    assert schema_names == (spec_names - removed) | added
    assert len(schema_names) == len(spec_names) - len(removed) + len(added)


def test_usage_record_variants_share_properties() -> None:
    generator = _load_generator()
    specs = generator.load_specs(SPEC_DIR)
    components = specs["api_v2010"]["components"]["schemas"]
    base = components["api.v2010.account.usage.usage_record"]["properties"]
    for variant in ("daily", "monthly", "yearly", "all_time"):
        name = f"api.v2010.account.usage.usage_record.usage_record_{variant}"
        assert components[name]["properties"] == base, name
