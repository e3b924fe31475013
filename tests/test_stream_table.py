"""The stream table generated from Twilio's OpenAPI specs, its schemas and its docs.

``tap_twilio/streams_table.json`` is what the engine builds streams from: these tests check that
it is complete (at least 120 streams over 12 hosts, today's 19 names kept), coherent (parents
exist and fill every path parameter, keys are fields of the records) and true to the specs (date
filters, list keys, hosts). The spec-dependent tests read Twilio's specs vendored
in ``specs/twilio-oai`` (``TWILIO_OAI_DIR`` points them at another copy).
"""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from jsonschema import Draft7Validator

from tap_twilio.schemas import load_schema, stream_names
from tap_twilio.transform import RecordTransformer
from tests.test_schemas import SPEC_DIR, STREAMS
from tests.test_transform import FORMAT_CHECKER

REPO_ROOT = Path(__file__).resolve().parent.parent
GENERATOR = REPO_ROOT / "scripts" / "generate_streams.py"
TABLE = json.loads((REPO_ROOT / "tap_twilio" / "streams_table.json").read_text("utf-8"))
ROWS: list[dict[str, Any]] = TABLE["streams"]
BY_NAME = {row["name"]: row for row in ROWS}
NAMES = [row["name"] for row in ROWS]

ROW_FIELDS = {
    "name",
    "api",
    "host",
    "path",
    "family",
    "list_key",
    "primary_keys",
    "parent",
    "parent_keys",
    "path_fields",
    "per_account",
    "date_filter",
    "replication_key",
    "selected_by_default",
    "narrowing",
    "schema",
}

# Today's streams, where README's streams table says they are read from.
TODAYS_ENDPOINTS = {
    "account_balance": "api.twilio.com/2010-04-01/Accounts/{AccountSid}/Balance.json",
    "accounts": "api.twilio.com/2010-04-01/Accounts.json",
    "addresses": "api.twilio.com/2010-04-01/Accounts/{AccountSid}/Addresses.json",
    "alerts": "monitor.twilio.com/v1/Alerts",
    "applications": "api.twilio.com/2010-04-01/Accounts/{AccountSid}/Applications.json",
    "calls": "api.twilio.com/2010-04-01/Accounts/{AccountSid}/Calls.json",
    "conference_participants": "api.twilio.com/2010-04-01/Accounts/{AccountSid}/Conferences/"
    "{ConferenceSid}/Participants.json",
    "conferences": "api.twilio.com/2010-04-01/Accounts/{AccountSid}/Conferences.json",
    "incoming_phone_numbers": "api.twilio.com/2010-04-01/Accounts/{AccountSid}/"
    "IncomingPhoneNumbers.json",
    "keys": "api.twilio.com/2010-04-01/Accounts/{AccountSid}/Keys.json",
    "message_media": "api.twilio.com/2010-04-01/Accounts/{AccountSid}/Messages/{MessageSid}/"
    "Media.json",
    "messages": "api.twilio.com/2010-04-01/Accounts/{AccountSid}/Messages.json",
    "notifications": "api.twilio.com/2010-04-01/Accounts/{AccountSid}/Notifications.json",
    "outgoing_caller_ids": "api.twilio.com/2010-04-01/Accounts/{AccountSid}/OutgoingCallerIds.json",
    "queues": "api.twilio.com/2010-04-01/Accounts/{AccountSid}/Queues.json",
    "recordings": "api.twilio.com/2010-04-01/Accounts/{AccountSid}/Recordings.json",
    "transcriptions": "api.twilio.com/2010-04-01/Accounts/{AccountSid}/Transcriptions.json",
    "usage_records": "api.twilio.com/2010-04-01/Accounts/{AccountSid}/Usage/Records/Daily.json",
    "usage_triggers": "api.twilio.com/2010-04-01/Accounts/{AccountSid}/Usage/Triggers.json",
}
# Today's primary keys and incremental fields (README's streams table).
TODAYS_KEYS = {
    "conference_participants": ["conference_sid", "call_sid"],
    "usage_records": ["account_sid", "category", "start_date", "end_date"],
    "account_balance": ["account_sid"],
}
TODAYS_REPLICATION = {
    "alerts": "date_generated",
    "calls": "start_time",
    "conferences": "date_updated",
    "messages": "date_sent",
    "notifications": "message_date",
    "recordings": "date_created",
    "usage_records": "start_date",
}
SIX_REPORTS = ["accounts", "calls", "conferences", "notifications", "messages", "usage_records"]


def path_params(path: str) -> list[str]:
    return re.findall(r"{(\w+)}", path)


def _walk(schema: dict[str, Any], path: str = ""):
    for name, sub in schema.get("properties", {}).items():
        yield f"{path}{name}", sub
        yield from _walk(sub, f"{path}{name}.")
        if isinstance(sub.get("items"), dict):
            yield from _walk(sub["items"], f"{path}{name}[].")


def _load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("generate_streams", GENERATOR)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("generate_streams", module)
    spec.loader.exec_module(module)
    return module


def _spec(api: str) -> dict[str, Any]:
    return json.loads((SPEC_DIR / f"twilio_{api}.json").read_text("utf-8"))


def _spec_get(row: dict[str, Any]) -> dict[str, Any]:
    return _spec(row["api"])["paths"][row["path"]]["get"]


def _query_names(row: dict[str, Any]) -> set[str]:
    return {p["name"] for p in _spec_get(row).get("parameters", []) if p.get("in") == "query"}


# --- no spec needed -------------------------------------------------------------------------


def test_enough_streams_over_enough_hosts() -> None:
    hosts = {row["host"] for row in ROWS}
    assert len(ROWS) >= 120, len(ROWS)
    assert len(hosts) >= 12, sorted(hosts)
    assert all(host.endswith(".twilio.com") for host in hosts)


def test_rows_have_the_table_format() -> None:
    for row in ROWS:
        assert set(row) == ROW_FIELDS, row["name"]
        assert row["family"] == ("v2010" if row["api"] == "api_v2010" else "meta"), row["name"]
        assert row["schema"] == f"{row['name']}.json"
        assert row["primary_keys"], row["name"]
        assert row["per_account"] is (row["name"] != "accounts"), row["name"]


def test_names_unique_and_snake_case() -> None:
    assert len(NAMES) == len(set(NAMES))
    for name in NAMES:
        assert re.fullmatch(r"[a-z][a-z0-9]*(_[a-z0-9]+)*", name), name


def test_todays_streams_keep_their_names_endpoints_and_keys() -> None:
    assert set(STREAMS) == set(TODAYS_ENDPOINTS)
    for name, endpoint in TODAYS_ENDPOINTS.items():
        row = BY_NAME[name]
        assert f"{row['host']}{row['path']}" == endpoint, name
        assert row["primary_keys"] == TODAYS_KEYS.get(name, ["sid"]), name
        assert row["replication_key"] == TODAYS_REPLICATION.get(name), name
        assert row["selected_by_default"], name
    assert BY_NAME["accounts"]["parent"] is None
    assert BY_NAME["alerts"]["parent"] is None
    assert BY_NAME["conference_participants"]["parent"] == "conferences"
    assert BY_NAME["message_media"]["parent"] == "messages"


def test_every_parent_exists_and_fills_every_path_parameter() -> None:
    for row in ROWS:
        params = path_params(row["path"])
        assert sorted(row["parent_keys"]) == sorted(params), row["name"]
        assert sorted(row["path_fields"]) == sorted(params), row["name"]
        if not params:
            assert row["parent"] is None, row["name"]
            continue
        parent = BY_NAME[row["parent"]]
        assert parent["api"] == row["api"], row["name"]
        parent_fields = set(load_schema(parent["name"])["properties"])
        for param, field in row["parent_keys"].items():
            assert field in parent_fields, f"{row['name']}: {param} from {parent['name']}.{field}"


def test_parents_form_trees_from_top_level_lists() -> None:
    """No cycles; every 2010 list hangs under accounts; a newer API's root lists have no
    parent and are read with each account's own credentials."""
    for row in ROWS:
        seen = [row["name"]]
        while BY_NAME[seen[-1]]["parent"] is not None:
            seen.append(BY_NAME[seen[-1]]["parent"])
            assert len(seen) == len(set(seen)), seen
        if row["api"] == "api_v2010":
            assert seen[-1] == "accounts", seen


def test_records_hold_their_path_parameters() -> None:
    for row in ROWS:
        properties = load_schema(row["name"])["properties"]
        for param, field in row["path_fields"].items():
            assert properties.get(field, {}).get("type") == ["string", "null"], (row["name"], param)


def test_schemas_exist_valid_and_hold_the_primary_keys() -> None:
    assert stream_names() == sorted(NAMES)
    for row in ROWS:
        schema = load_schema(row["name"])
        Draft7Validator.check_schema(schema)
        assert set(schema) == {"type", "properties"}
        for key in row["primary_keys"]:
            assert key in schema["properties"], (row["name"], key)
            assert "object" not in schema["properties"][key]["type"], (row["name"], key)


@pytest.mark.parametrize("stream", NAMES)
def test_every_property_nullable_and_plain(stream: str) -> None:
    """generate_schemas.py's rules, on every stream of the table."""
    for path, sub in _walk(load_schema(stream)):
        types = sub.get("type")
        assert isinstance(types, list) and "null" in types, f"{stream}.{path} not nullable"
        assert "enum" not in sub, f"{stream}.{path} has an enum (Twilio adds values)"
        assert not {"pattern", "minLength", "maxLength", "default"} & set(sub), f"{stream}.{path}"
        if "format" in sub:
            assert sub["format"] in ("date-time", "date"), f"{stream}.{path}: {sub['format']}"
            assert types == ["string", "null"], f"{stream}.{path} formatted but not a string"
        if "object" in types:
            assert sub.get("additionalProperties") is True, f"{stream}.{path}"


def test_no_secret_in_a_schema() -> None:
    """Functions' environment variables hold secrets: their values are never read."""
    properties = load_schema("serverless_variables")["properties"]
    assert "key" in properties and "value" not in properties
    assert "auth_token" not in load_schema("accounts")["properties"]


def test_replication_keys_are_date_fields_with_a_filter() -> None:
    incremental = [row for row in ROWS if row["replication_key"]]
    assert len(incremental) >= 15
    for row in incremental:
        assert row["date_filter"] is not None, row["name"]
        prop = load_schema(row["name"])["properties"][row["replication_key"]]
        assert prop.get("format") in ("date-time", "date"), row["name"]
    for row in ROWS:
        if row["date_filter"]:
            keys = {"lower", "upper", "format"}
            if row["date_filter"]["format"] == "date-time":  # an instant: in or out
                keys |= {"lower_exclusive", "upper_exclusive"}
            assert set(row["date_filter"]) == keys, row["name"]
            assert row["date_filter"]["format"] in ("date", "date-time"), row["name"]


def test_default_selection_is_the_reports_and_the_asked_for_lists() -> None:
    selected = [row["name"] for row in ROWS if row["selected_by_default"]]
    assert set(SIX_REPORTS) <= set(selected)
    for name in (
        "conversations_messages",
        "studio_executions",
        "insights_call_summaries",
        "insights_conference_participant_summaries",
        "verify_verification_attempts",
        "taskrouter_workspace_events",
        "messaging_services",
    ):
        assert name in selected, name
    assert len(selected) <= 40, len(selected)  # a plain run stays reasonable
    assert len(selected) < len(ROWS) / 4


def test_docs_list_every_stream() -> None:
    text = (REPO_ROOT / "docs" / "streams.md").read_text("utf-8")
    documented = re.findall(r"^\| `(\w+)` \| `([^`]+)` \|", text, flags=re.MULTILINE)
    assert [name for name, _ in documented] == NAMES
    for name, endpoint in documented:
        assert endpoint == BY_NAME[name]["host"] + BY_NAME[name]["path"]
    plain_run = re.findall(r"^- `(\w+)`$", text, flags=re.MULTILINE)
    assert plain_run == [row["name"] for row in ROWS if row["selected_by_default"]]


# --- spec needed ----------------------------------------------------------------------------


def test_generator_check_passes() -> None:
    run = subprocess.run(
        [sys.executable, str(GENERATOR), str(SPEC_DIR), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr


def test_generator_check_finds_drift_and_stale_files(tmp_path: Path) -> None:
    command = [sys.executable, str(GENERATOR), str(SPEC_DIR), "--root", str(tmp_path)]
    assert subprocess.run(command, capture_output=True, check=False).returncode == 0
    assert subprocess.run([*command, "--check"], capture_output=True, check=False).returncode == 0
    table = tmp_path / "tap_twilio" / "streams_table.json"
    table.write_text(table.read_text("utf-8").replace('"studio_flows"', '"flows"'), "utf-8")
    stale = tmp_path / "tap_twilio" / "schemas" / "gone.json"
    stale.write_text("{}\n", "utf-8")
    bad = subprocess.run([*command, "--check"], capture_output=True, text=True, check=False)
    assert bad.returncode == 1
    assert "streams_table.json" in bad.stderr and "gone.json" in bad.stderr


def test_generator_is_deterministic() -> None:
    generator = _load_generator()
    assert generator.render_all(SPEC_DIR) == generator.render_all(SPEC_DIR)


def test_every_list_endpoint_is_a_stream_or_excluded_with_a_reason() -> None:
    endpoints = set()
    for spec_file in SPEC_DIR.glob("twilio_*.json"):
        spec = json.loads(spec_file.read_text("utf-8"))
        host = spec["servers"][0]["url"].split("://", 1)[1]
        for path, item in spec["paths"].items():
            if item.get("x-twilio", {}).get("pathType") == "list" and "get" in item:
                endpoints.add(f"{host}{path}")
    kept = {f"{row['host']}{row['path']}" for row in ROWS}
    text = (REPO_ROOT / "docs" / "streams-excluded.md").read_text("utf-8")
    excluded = dict(re.findall(r"^\| \w+ \| `([^`]+)` \| (.+) \|$", text, flags=re.MULTILINE))
    assert not kept & set(excluded)
    assert kept | set(excluded) == endpoints
    assert all(reason.strip() for reason in excluded.values())
    for api in ("preview", "chat_v1", "chat_v2", "ip_messaging_v1", "pricing_v1"):
        assert not [row for row in ROWS if row["api"] == api], api
    assert any("deprecated" in reason for reason in excluded.values())
    assert any("catalog" in reason for reason in excluded.values())


def test_rows_match_their_spec() -> None:
    """Host, path and list key as the spec has them; a meta page's list key is the one its
    examples name in `meta.key`."""
    checked_meta_keys = 0
    for row in ROWS:
        spec = _spec(row["api"])
        assert spec["servers"][0]["url"] == f"https://{row['host']}", row["name"]
        response = _spec_get(row)["responses"]["200"]["content"]["application/json"]
        if row["list_key"] is None:
            assert row["name"] == "account_balance"
            continue
        assert response["schema"]["properties"][row["list_key"]]["type"] == "array"
        paging = "meta" if row["family"] == "meta" else "next_page_uri"
        assert paging in response["schema"]["properties"], row["name"]
        for example in response.get("examples", {}).values():
            meta = example.get("value", {}).get("meta")
            if meta and "key" in meta:
                assert meta["key"] == row["list_key"], row["name"]
                checked_meta_keys += 1
    assert checked_meta_keys >= 100


def test_date_filters_are_the_specs_query_parameters() -> None:
    for row in ROWS:
        if row["date_filter"]:
            names = _query_names(row)
            assert row["date_filter"]["lower"] in names, row["name"]
            assert row["date_filter"]["upper"] in names, row["name"]


# The bounds' own instants, as their parameter texts say: "on or after" keeps it, "before"
# leaves it out (None: whole days, `YYYY-MM-DD`).
@pytest.mark.parametrize(
    ("stream", "lower", "upper", "value_format", "field", "exclusive"),
    [
        ("studio_executions", "DateCreatedFrom", "DateCreatedTo", "date-time", "date_created",
         (False, True)),
        ("insights_call_summaries", "StartTime", "EndTime", "date-time", "start_time",
         (False, False)),
        ("taskrouter_workspace_events", "StartDate", "EndDate", "date-time", "event_date",
         (False, False)),
        (
            "verify_verification_attempts",
            "DateCreatedAfter",
            "DateCreatedBefore",
            "date-time",
            "date_created",
            (True, True),
        ),
        ("video_rooms", "DateCreatedAfter", "DateCreatedBefore", "date-time", "date_created",
         (False, True)),
        ("monitor_events", "StartDate", "EndDate", "date-time", "event_date", (False, False)),
        ("alerts", "StartDate", "EndDate", "date-time", "date_generated", (False, False)),
        ("calls", "StartTime>", "StartTime<", "date", "start_time", None),
        ("conferences", "DateUpdated>", "DateUpdated<", "date", "date_updated", None),
        ("usage_records", "StartDate", "EndDate", "date", "start_date", None),
    ],
)
def test_date_filter_spot_checks(
    stream: str, lower: str, upper: str, value_format: str, field: str,
    exclusive: tuple[bool, bool] | None,
) -> None:
    row = BY_NAME[stream]
    expected: dict[str, object] = {"lower": lower, "upper": upper, "format": value_format}
    if exclusive is not None:
        expected |= {"lower_exclusive": exclusive[0], "upper_exclusive": exclusive[1]}
    assert row["date_filter"] == expected
    assert row["replication_key"] == field
    assert {lower, upper} <= _query_names(row)
    item = _spec_get(row)["responses"]["200"]["content"]["application/json"]["schema"]
    ref = item["properties"][row["list_key"]]["items"]["$ref"].rsplit("/", 1)[1]
    assert field in _spec(row["api"])["components"]["schemas"][ref]["properties"]


def test_spot_checks_of_parents_against_the_spec() -> None:
    executions = BY_NAME["studio_executions"]
    assert (executions["host"], executions["path"]) == (
        "studio.twilio.com",
        "/v2/Flows/{FlowSid}/Executions",
    )
    assert executions["parent"] == "studio_flows" and executions["parent_keys"] == {
        "FlowSid": "sid"
    }
    steps = BY_NAME["studio_execution_steps"]
    assert steps["parent"] == "studio_executions"
    assert steps["parent_keys"] == {"FlowSid": "flow_sid", "ExecutionSid": "sid"}
    # The spec's own link from the executions list to its steps says the same.
    dependents = _spec("studio_v2")["paths"]["/v2/Flows/{FlowSid}/Executions"]["x-twilio"]
    assert dependents["dependentProperties"]["steps"]["mapping"] == {
        "flow_sid": "flow_sid",
        "execution_sid": "sid",
    }
    messages = BY_NAME["conversations_messages"]
    assert messages["parent"] == "conversations"
    assert messages["parent_keys"] == {
        "ChatServiceSid": "chat_service_sid",
        "ConversationSid": "sid",
    }
    participants = BY_NAME["insights_conference_participant_summaries"]
    assert participants["parent"] == "insights_conference_summaries"
    assert participants["parent_keys"] == {"ConferenceSid": "conference_sid"}


def _spec_examples(row: dict[str, Any]) -> list[dict[str, Any]]:
    response = _spec_get(row)["responses"]["200"]["content"]["application/json"]
    records = []
    for example in response.get("examples", {}).values():
        page = example.get("value") or {}
        records += [r for r in page.get(row["list_key"]) or [] if isinstance(r, dict)]
    return records


NEW_STREAMS = [name for name in NAMES if name not in STREAMS]
WITH_EXAMPLES = [name for name in NEW_STREAMS if _spec_examples(BY_NAME[name])]


@pytest.mark.parametrize("stream", WITH_EXAMPLES)
def test_spec_example_records_transform_and_validate(stream: str) -> None:
    """Each stream's example records from its spec, as the tap converts them, fit its schema."""
    row = BY_NAME[stream]
    schema = load_schema(stream)
    transform = RecordTransformer(stream, schema)
    validator = Draft7Validator(schema, format_checker=FORMAT_CHECKER)
    examples = _spec_examples(row)
    assert examples
    for raw in examples:
        added = {f: "XX" + "a" * 32 for f in row["path_fields"].values() if f not in raw}
        record = {**raw, **added}  # what the tap adds from the path
        validator.validate(transform(json.loads(json.dumps(record), parse_float=Decimal)))


def test_most_new_streams_have_spec_examples() -> None:
    """The example test above covers most streams."""
    missing = sorted(set(NEW_STREAMS) - set(WITH_EXAMPLES))
    assert len(WITH_EXAMPLES) >= len(NEW_STREAMS) * 0.8, missing
