"""Value conversions of tap_twilio.output.transform, and whole records checked by schema."""

from __future__ import annotations

import copy
import json
import os
import re
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft7Validator, FormatChecker

from tap_twilio.output.transform import (
    RecordTransformer,
    TransformError,
    build_transformer,
    date_fields,
    datetime_fields,
    field_kinds,
    to_date,
    to_decimal,
    to_integer,
    to_rfc3339,
)
from tap_twilio.schemas import load_schema, stream_names
from tests.test_schemas import STREAMS as SCHEMA_STREAMS

# jsonschema checks "date-time" only when rfc3339-validator is installed: check it ourselves.
_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})\Z", re.ASCII)
FORMAT_CHECKER = FormatChecker()
AC = "/2010-04-01/Accounts/ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"


@FORMAT_CHECKER.checks("date-time", raises=ValueError)
def _is_rfc3339(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if not _RFC3339.match(value):
        raise ValueError(f"{value!r} is not RFC 3339")
    datetime.fromisoformat(value)
    return True


def validate(stream: str, record: dict[str, Any]) -> None:
    Draft7Validator(load_schema(stream), format_checker=FORMAT_CHECKER).validate(record)


# --- to_rfc3339 ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Tue, 31 Aug 2010 20:36:28 +0000", "2010-08-31T20:36:28+00:00"),
        ("Tue, 31 Aug 2010 20:36:28 -0000", "2010-08-31T20:36:28+00:00"),
        ("Tue, 31 Aug 2010 20:36:28 GMT", "2010-08-31T20:36:28+00:00"),
        ("Tue, 31 Aug 2010 20:36:28 UT", "2010-08-31T20:36:28+00:00"),
        ("Mon, 14 Feb 2022 22:23:00 +0100", "2022-02-14T21:23:00+00:00"),
        ("Mon, 14 Feb 2022 22:23:00 -0530", "2022-02-15T03:53:00+00:00"),
        ("Fri, 31 Dec 2021 23:30:00 -0100", "2022-01-01T00:30:00+00:00"),  # crosses the year
        ("Thu, 29 Feb 2024 12:00:00 +0000", "2024-02-29T12:00:00+00:00"),  # leap day
        ("Tue, 1 Aug 2010 20:36:28 +0000", "2010-08-01T20:36:28+00:00"),  # one-digit day
        ("31 Aug 2010 20:36:28 +0000", "2010-08-31T20:36:28+00:00"),  # no weekday
        ("Tue, 31 Aug 2010 20:36:28 EST", "2010-09-01T01:36:28+00:00"),  # named zone
        ("2015-07-30T20:00:00Z", "2015-07-30T20:00:00+00:00"),
        ("2015-07-30T20:00:00z", "2015-07-30T20:00:00+00:00"),
        ("2019-06-24T22:32:49+00:00", "2019-06-24T22:32:49+00:00"),
        ("2015-07-30T20:00:00.123Z", "2015-07-30T20:00:00.123000+00:00"),
        ("2015-07-30T20:00:00.123456789Z", "2015-07-30T20:00:00.123456+00:00"),
        ("2015-07-30T20:00:00.000Z", "2015-07-30T20:00:00+00:00"),
        ("2015-07-30T20:00:00+02:00", "2015-07-30T18:00:00+00:00"),
        ("2015-07-30T20:00:00.5-01:30", "2015-07-30T21:30:00.500000+00:00"),
        ("2015-07-30T20:00:00+0200", "2015-07-30T18:00:00+00:00"),
        ("2015-07-30 20:00:00", "2015-07-30T20:00:00+00:00"),  # bare: Twilio times are GMT
        ("2015-07-30T20:00Z", "2015-07-30T20:00:00+00:00"),
    ],
)
def test_to_rfc3339(raw: str, expected: str) -> None:
    assert to_rfc3339(raw) == expected
    assert datetime.fromisoformat(expected).utcoffset().total_seconds() == 0


def test_to_rfc3339_empty() -> None:
    assert to_rfc3339(None) is None
    assert to_rfc3339("") is None


def test_to_rfc3339_aware_datetime() -> None:
    moment = datetime(2020, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    assert to_rfc3339(moment) == "2020-01-02T03:04:05+00:00"  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "raw",
    [
        "garbage",
        " ",
        "Tue, 31 Feb 2010 20:36:28 +0000",  # no such day
        "Tue, 29 Feb 2023 20:36:28 +0000",  # not a leap year
        "Tue, 31 Aug 2010 24:36:28 +0000",
        "Tue, 31 Aug 2010 20:36:28 XYZ",  # unknown zone (the stdlib would read it as UTC)
        "Tue, 31 Aug 2010 20:36:28",  # no zone
        "Tue, 31 Foo 2010 20:36:28 +0000",
        "2015-13-30T20:00:00Z",
        "2015-07-30T25:00:00Z",
        "2015-07-30T20:00:00+25:00",
        "2015-07-30",  # a date is not a date-time
        "1438286400",
        "2015-07-30T20:00:00Z trailing",
    ],
)
def test_to_rfc3339_rejects(raw: str) -> None:
    with pytest.raises(ValueError):
        to_rfc3339(raw)


def test_to_rfc3339_rejects_non_strings() -> None:
    with pytest.raises(ValueError):
        to_rfc3339(1438286400)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        to_rfc3339(datetime(2020, 1, 1))  # type: ignore[arg-type]  # naive


# --- to_decimal / to_integer / to_date -----------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("-0.00750", "-0.00750"),
        ("0.00000", "0.00000"),
        ("2192.84855", "2192.84855"),
        ("0", "0"),
        ("-0.100", "-0.100"),
        ("1e3", "1E+3"),
        (Decimal("0.05"), "0.05"),
        (5, "5"),
        (0.1, "0.1"),  # via repr, not the binary value 0.1000000000000000055...
    ],
)
def test_to_decimal(raw: Any, expected: str) -> None:
    result = to_decimal(raw)
    assert isinstance(result, Decimal)
    assert str(result) == expected


def test_to_decimal_exact() -> None:
    result = to_decimal("-0.00750")
    assert result == Decimal("-0.00750")
    assert result.as_tuple() == Decimal("-0.00750").as_tuple()  # scale kept
    assert to_decimal("0.00000") == 0
    assert to_decimal(None) is None
    assert to_decimal("") is None


@pytest.mark.parametrize(
    "raw", ["abc", "1,5", "NaN", "Infinity", "-inf", "1_000", "٣", " ", True, float("nan"), [1]]
)
def test_to_decimal_rejects(raw: Any) -> None:
    with pytest.raises(ValueError):
        to_decimal(raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("42", 42),
        ("0", 0),
        ("-3", -3),
        ("4.0", 4),
        ("1000", 1000),
        (7, 7),
        (Decimal("8"), 8),
        (9.0, 9),
        ("1e3", 1000),
    ],
)
def test_to_integer(raw: Any, expected: int) -> None:
    result = to_integer(raw)
    assert result == expected
    assert type(result) is int


@pytest.mark.parametrize(
    "raw", ["4.5", "abc", "1_000", "٣", "NaN", " ", True, 4.5, Decimal("4.5"), "0x10"]
)
def test_to_integer_rejects(raw: Any) -> None:
    with pytest.raises(ValueError):
        to_integer(raw)


def test_to_integer_empty() -> None:
    assert to_integer(None) is None
    assert to_integer("") is None


def test_to_date() -> None:
    assert to_date("2008-01-02") == "2008-01-02"
    assert to_date("2024-02-29") == "2024-02-29"
    assert to_date(None) is None
    assert to_date("") is None
    for bad in ["2008-1-2", "2008-02-30", "20080102", "2008-01-02T00:00:00Z", "yesterday"]:
        with pytest.raises(ValueError):
            to_date(bad)


# --- RecordTransformer ---------------------------------------------------------------------

MESSAGE = {
    "account_sid": "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "api_version": "2010-04-01",
    "body": "testing",
    "date_created": "Fri, 24 May 2019 17:44:46 +0000",
    "date_sent": "Fri, 24 May 2019 17:44:50 +0000",
    "date_updated": "Fri, 24 May 2019 17:44:50 +0000",
    "direction": "outbound-api",
    "error_code": None,
    "error_message": None,
    "from": "+12019235161",
    "messaging_service_sid": "MGaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "num_media": "0",
    "num_segments": "1",
    "price": "-0.00750",
    "price_unit": "USD",
    "sid": "SMded05904ccb347238880ca9264e8fe1c",
    "status": "sent",
    "subresource_uris": {
        "media": f"{AC}/Messages/SMded05904ccb347238880ca9264e8fe1c/Media.json",
        "feedback": f"{AC}/Messages/SMded05904ccb347238880ca9264e8fe1c/Feedback.json",
    },
    "to": "+18182008801",
    "uri": f"{AC}/Messages/SMded05904ccb347238880ca9264e8fe1c.json",
}

CALL = {
    "account_sid": "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "answered_by": "machine_start",
    "api_version": "2010-04-01",
    "caller_name": "callerid1",
    "date_created": "Fri, 18 Oct 2019 17:00:00 +0000",
    "date_updated": "Fri, 18 Oct 2019 17:01:00 +0000",
    "direction": "outbound-api",
    "duration": "4",
    "end_time": "Fri, 18 Oct 2019 17:03:00 +0000",
    "forwarded_from": "calledvia1",
    "from": "+13051416799",
    "from_formatted": "(305) 141-6799",
    "group_sid": "GPdeadbeefdeadbeefdeadbeefdeadbeef",
    "parent_call_sid": "CAdeadbeefdeadbeefdeadbeefdeadbeef",
    "phone_number_sid": "PNdeadbeefdeadbeefdeadbeefdeadbeef",
    "price": "-0.200",
    "price_unit": "USD",
    "sid": "CAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "start_time": "Fri, 18 Oct 2019 17:02:00 +0000",
    "status": "completed",
    "subresource_uris": {
        "notifications": f"{AC}/Calls/CAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/Notifications.json",
        "recordings": f"{AC}/Calls/CAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/Recordings.json",
    },
    "to": "+13051913581",
    "to_formatted": "(305) 191-3581",
    "trunk_sid": "TKdeadbeefdeadbeefdeadbeefdeadbeef",
    "uri": f"{AC}/Calls/CAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.json",
    "queue_time": "1000",
}

ACCOUNT = {
    "auth_token": "auth_token",
    "date_created": "Thu, 30 Jul 2015 20:00:00 +0000",
    "date_updated": "Thu, 30 Jul 2015 20:00:00 +0000",
    "friendly_name": "friendly_name",
    "owner_account_sid": "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "sid": "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "status": "active",
    "subresource_uris": {"calls": f"{AC}/Calls.json"},
    "type": "Full",
    "uri": f"{AC}.json",
}

USAGE_RECORD = {
    "account_sid": "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "api_version": "2010-04-01",
    "as_of": "2019-06-24T22:32:49+00:00",
    "category": "calleridlookups",
    "count": None,
    "count_unit": "",
    "description": "Caller Name Lookups",
    "end_date": "2008-01-02",
    "price": "2192.84855",
    "price_unit": "usd",
    "start_date": "2008-01-02",
    "subresource_uris": {"daily": "/x"},
    "uri": f"{AC}/Usage/Records.json",
    "usage": "2192.84855",
    "usage_unit": "usd",
}


def transformer(stream: str) -> RecordTransformer:
    return RecordTransformer(stream, load_schema(stream))


def test_message_record() -> None:
    raw = copy.deepcopy(MESSAGE)
    out = transformer("messages")(raw)
    assert raw == MESSAGE  # input untouched
    assert out["date_created"] == "2019-05-24T17:44:46+00:00"
    assert out["date_sent"] == "2019-05-24T17:44:50+00:00"
    assert out["price"] == Decimal("-0.00750") and str(out["price"]) == "-0.00750"
    assert out["num_media"] == 0 and out["num_segments"] == 1
    assert out["error_code"] is None
    assert out["subresource_uris"] == MESSAGE["subresource_uris"]
    assert out["body"] == "testing"
    validate("messages", out)


def test_call_record() -> None:
    out = transformer("calls")(copy.deepcopy(CALL))
    assert out["start_time"] == "2019-10-18T17:02:00+00:00"
    assert out["end_time"] == "2019-10-18T17:03:00+00:00"
    assert out["duration"] == 4 and out["queue_time"] == 1000
    assert out["price"] == Decimal("-0.200")
    validate("calls", out)
    # An ongoing call: no end yet, empty duration and price.
    ongoing = {**CALL, "end_time": None, "duration": "", "price": None, "status": "in-progress"}
    out = transformer("calls")(ongoing)
    assert out["end_time"] is None and out["duration"] is None and out["price"] is None
    validate("calls", out)


def test_account_record_drops_auth_token() -> None:
    out = transformer("accounts")(copy.deepcopy(ACCOUNT))
    assert "auth_token" not in out
    assert out["date_updated"] == "2015-07-30T20:00:00+00:00"
    assert "auth_token" not in json.dumps(out)
    validate("accounts", out)


def test_usage_record() -> None:
    out = transformer("usage_records")(copy.deepcopy(USAGE_RECORD))
    assert out["price"] == Decimal("2192.84855") and out["usage"] == Decimal("2192.84855")
    assert out["count"] is None
    assert out["start_date"] == "2008-01-02"
    assert out["as_of"] == "2019-06-24T22:32:49+00:00"
    validate("usage_records", out)


def test_unknown_keys_dropped_and_missing_stay_missing() -> None:
    out = transformer("messages")({"sid": "SM1", "price": "1.5", "brand_new_field": 1})
    assert out == {"sid": "SM1", "price": Decimal("1.5")}


def test_spec_number_already_decimal() -> None:
    # The SDK parses JSON with parse_float=Decimal: numbers may arrive as Decimal or int.
    out = transformer("usage_records")({"price": Decimal("0.5"), "usage": 3, "count": "2.5"})
    assert out == {"price": Decimal("0.5"), "usage": Decimal(3), "count": Decimal("2.5")}


@pytest.mark.parametrize(
    ("stream", "field", "value", "expected"),
    [
        ("messages", "price", "abc", "expected a decimal number"),
        ("messages", "num_media", "4.5", "expected an integer"),
        ("calls", "start_time", "yesterday", "expected an RFC 2822 or ISO 8601 date-time"),
        ("usage_records", "start_date", "2008/01/02", "expected a YYYY-MM-DD date"),
        ("alerts", "date_generated", "2015-07-30T20:00:00+99:00", "date-time"),
    ],
)
def test_bad_value_names_stream_field_value(
    stream: str, field: str, value: str, expected: str
) -> None:
    with pytest.raises(TransformError) as info:
        transformer(stream)({field: value})
    message = str(info.value)
    assert message.startswith(f"{stream}: field {field!r} has value {value!r}")
    assert expected in message
    assert isinstance(info.value, ValueError)
    assert (info.value.stream_name, info.value.field, info.value.value) == (stream, field, value)


def test_error_message_example() -> None:
    expected = r"^messages: field 'price' has value 'abc', expected a decimal number$"
    with pytest.raises(ValueError, match=expected):
        transformer("messages")({"price": "abc"})


def test_field_helpers() -> None:
    schema = load_schema("messages")
    assert sorted(datetime_fields(schema)) == ["date_created", "date_sent", "date_updated"]
    assert date_fields(load_schema("usage_records")) == ["end_date", "start_date"]
    kinds = field_kinds(schema)
    assert kinds["price"] == "number" and kinds["num_media"] == "integer"
    assert kinds["error_code"] == "integer"
    assert "body" not in kinds
    t = build_transformer("messages", schema)
    assert isinstance(t, RecordTransformer)
    assert set(t.datetime_fields) == {"date_created", "date_sent", "date_updated"}
    # anyOf-style schemas (as the SDK's typing helpers write them) are understood too.
    any_of = {
        "properties": {
            "x": {"anyOf": [{"type": "string", "format": "date-time"}, {"type": "null"}]}
        }
    }
    assert datetime_fields(any_of) == ["x"]


def test_every_stream_has_a_transformer() -> None:
    for stream in stream_names():
        t = transformer(stream)
        assert t({}) == {}


DATE_TIMES = [
    "Tue, 31 Aug 2010 20:36:28 +0000", "Tue, 01 Aug 2010 00:00:00 +0000",
    "Sat, 28 Feb 2015 23:59:59 GMT", "Thu, 29 Feb 2024 12:00:00 +0000",
    "Wed, 29 Feb 2023 12:00:00 +0000", "Mon, 31 Apr 2023 12:00:00 +0000",
    "Mon, 30 Apr 2023 12:00:00 -0000", "Fri, 24 May 2019 17:44:46 +0530",
    "Fri, 24 May 2019 17:44:46 -0800", "Fri, 24 May 2019 24:00:00 +0000",
    "Fri, 4 May 2019 17:44:46 +0000", "24 May 2019 17:44:46 +0000",
    "2015-07-30T20:00:00Z", "2015-07-30T20:00:00.25-01:00", "", "yesterday", 5,
    "Tue, 31 Aug 2010 20:36:60 +0000", "Tue, 31 Aug 2010 20:36:28 +0000\n",
    "Tue, 31 Aug 2010 20:36:28 +00000", "Tue, 31 aug 2010 20:36:28 +0000",
    "Tux, 31 Aug 2010 20:36:28 +0000", "Tue, 31 Aug 2010 2036:28 +0000",
    "Tue, 31 Aug 2010 20:36:28 +0000"[:25], "Sun, 31 Dec 2023 23:59:59 +0000",
    "Tue, 31 Aug 201020:36:28 +0000", "Tue, 32 Aug 2010 20:36:28 +0000",
]


@pytest.mark.parametrize("value", DATE_TIMES)
def test_record_date_times_are_those_of_to_rfc3339(value: Any) -> None:
    """The transformer's inline path for Twilio's layout gives what to_rfc3339 gives (or
    the same refusal), for every field and however often a value comes."""
    t = transformer("messages")
    try:
        expected: Any = to_rfc3339(value)
    except ValueError:
        expected = TransformError
    for _ in range(2):
        for field in t.datetime_fields:
            if expected is TransformError:
                with pytest.raises(TransformError, match=field):
                    t({field: value})
            else:
                assert t({field: value}) == {field: expected}


def test_repeated_values_convert_alike_and_bad_ones_always_fail() -> None:
    t = transformer("messages")
    prices = [t({**MESSAGE, "price": "-0.00750"})["price"] for _ in range(3)]
    assert prices == [Decimal("-0.00750")] * 3 and str(prices[-1]) == "-0.00750"
    assert t({"num_media": "0"}) == {"num_media": 0} and t({"num_media": "00"}) == {"num_media": 0}
    assert t({"num_segments": ""}) == {"num_segments": None}
    for _ in range(2):  # a refused value is refused every time, never remembered
        with pytest.raises(TransformError, match="price"):
            t({"price": "abc"})
        with pytest.raises(TransformError, match="num_media"):
            t({"num_media": "4.5"})
    # Many distinct values (more than are remembered) still convert exactly.
    for i in range(5000):
        assert t({"price": f"-{i}.5"}) == {"price": Decimal(f"-{i}.5")}


def test_transformed_record_serializes_as_json_numbers() -> None:
    """Decimal → JSON number (the SDK writers use simplejson/msgspec with decimal support)."""
    import simplejson

    out = transformer("messages")(copy.deepcopy(MESSAGE))
    text = simplejson.dumps(out, use_decimal=True)
    assert '"price": -0.00750' in text
    assert json.loads(text)["price"] == -0.0075


# --- every example record of the spec (specs/twilio-oai) ----------------------------------


def _examples() -> dict[str, Any]:
    folder = os.environ.get("TWILIO_OAI_DIR")
    root = Path(__file__).resolve().parent.parent
    path = Path(folder) if folder else root / "specs" / "twilio-oai"
    return json.loads((path / "examples.json").read_text(encoding="utf-8"))


EXAMPLES = _examples()
EXAMPLE_KEYS = {"account_balance": "balance", "conference_participants": "conference_participants"}


@pytest.mark.parametrize("stream", SCHEMA_STREAMS)
def test_spec_example_records_transform_and_validate(stream: str) -> None:
    """examples.json holds the 2010 and Monitor examples of generate_schemas.py's streams; the
    other streams' spec examples are checked in test_stream_table.py."""
    entry = EXAMPLES[EXAMPLE_KEYS.get(stream, stream)]
    records: list[dict[str, Any]] = []
    for example in entry["examples"].values():
        body = example.get("value", example)
        if not any(isinstance(v, list) for v in body.values()):
            records.append(body)  # a single object (balance)
        for value in body.values():
            if isinstance(value, list):
                records.extend(r for r in value if isinstance(r, dict))
    assert records, f"no example records for {stream}"
    t = transformer(stream)
    for raw in records:
        out = t(json.loads(json.dumps(raw), parse_float=Decimal))
        validate(stream, out)
        for field in t.datetime_fields:
            if out.get(field) is not None:
                assert out[field].endswith("+00:00"), (field, out[field])
