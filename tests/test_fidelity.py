"""Typed output: every record validates against its SCHEMA message, and equals Twilio's
record field by field after the documented conversions (checked here independently)."""

from __future__ import annotations

import datetime as dt
import email.utils
from decimal import Decimal

import pytest
from jsonschema import Draft7Validator, FormatChecker

from tests.tap_runner import record_key, truth

STREAMS = ["accounts", "calls", "messages", "conferences", "conference_participants",
           "notifications", "message_media", "usage_records", "recordings", "transcriptions",
           "incoming_phone_numbers", "outgoing_caller_ids", "addresses", "applications", "keys",
           "queues", "usage_triggers", "account_balance", "alerts"]


@pytest.fixture(scope="module")
def run(default_run):
    assert default_run.returncode == 0, default_run.stderr[-3000:]
    return default_run


def expected_datetime(raw: str | None) -> str | None:
    if raw in (None, ""):
        return None
    if raw[:4].rstrip(",").isalpha():  # RFC 2822, as the 2010 API sends
        parsed = email.utils.parsedate_to_datetime(raw)
    else:  # ISO 8601, as Monitor sends
        parsed = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
    return parsed.astimezone(dt.timezone.utc).isoformat()


def expected_value(raw, prop: dict):
    types = prop.get("type", [])
    if raw is None or (raw == "" and "string" not in types):
        return None
    if prop.get("format") == "date-time":
        return expected_datetime(raw)
    if "integer" in types:
        return int(Decimal(str(raw)))
    if "number" in types:
        return Decimal(str(raw))
    return raw


@pytest.mark.parametrize("stream", STREAMS)
def test_records_validate_against_their_schema_message(run, stream) -> None:
    schema = run.schemas[stream]["schema"]
    validator = Draft7Validator(schema, format_checker=FormatChecker())
    assert run.records[stream], f"{stream}: no records to check"
    for record in run.records[stream]:
        errors = [e.message for e in validator.iter_errors(record)]
        assert not errors, (stream, record.get("sid"), errors)


@pytest.mark.parametrize("stream", STREAMS)
def test_records_equal_twilio_after_conversion(emulator, run, stream) -> None:
    properties = run.schemas[stream]["schema"]["properties"]
    listed = truth(emulator, stream)
    emitted = {record_key(stream, r): r for r in run.records[stream]}
    assert len(emitted) == len(listed)
    for raw in listed:
        record = emitted[record_key(stream, raw)]
        for name, prop in properties.items():
            if name not in raw:
                continue  # a context key the tap adds (e.g. a child's parent SID)
            assert record[name] == expected_value(raw[name], prop), (stream, name, raw[name])
        assert set(record) <= set(properties)


def test_no_account_auth_token_is_emitted(emulator, run) -> None:
    assert "auth_token" not in run.schemas["accounts"]["schema"]["properties"]
    assert all("auth_token" not in r for r in run.records["accounts"])
    for token in emulator.auth_tokens.values():
        assert token not in run.stdout


def test_edge_cases_arrive_typed(run) -> None:
    messages = run.records["messages"]
    prices = [m["price"] for m in messages if m["price"] is not None]
    assert any(p < 0 for p in prices) and any(p == 0 for p in prices)
    assert all(isinstance(p, Decimal) for p in prices)  # exact, not binary floats
    assert any(m["price"] is None for m in messages)
    assert any(m["date_sent"] is None for m in messages)
    assert any(len(m["body"] or "") >= 1600 for m in messages)
    assert any(any(ord(c) > 0xFFFF for c in m["body"] or "") for m in messages)
    assert all(isinstance(m["num_segments"], int) for m in messages if m["num_segments"])
    assert all(c["date_created"].endswith("+00:00") for c in run.records["calls"])
