"""Fast conversion of raw Twilio records to the types of the stream schemas.

The SDK's per-record type conformance is switched off, so the tap converts records itself:

* ``format: date-time`` fields: RFC 2822 (2010 API) or ISO 8601 (Monitor, usage ``as_of``) →
  RFC 3339 in UTC, ``"2010-08-31T20:36:28+00:00"`` (microseconds kept when present);
* ``format: date`` fields: ``YYYY-MM-DD`` validated and passed through;
* ``number`` fields: exact :class:`~decimal.Decimal` (``"-0.00750"`` → ``Decimal("-0.00750")``,
  never via float; the SDK writers serialize it as a JSON number);
* ``integer`` fields: :class:`int` (``"42"`` → 42, ``"4.0"`` → 4, ``"4.5"`` is an error);
* ``""`` in any of those fields → ``None``;
* keys not in the schema are dropped (e.g. ``auth_token``).

Which fields get which converter is computed once per stream from its schema
(:class:`RecordTransformer`; the converters are in values.py). A value that does not parse
raises :class:`TransformError` naming the stream, the field and the value: bad data is never
turned into a silent null.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from tap_twilio.output.values import (
    CLOCK_UTC,
    DAY_PART,
    MONTHS,
    RFC2822_TWILIO,
    to_date,
    to_decimal,
    to_integer,
    to_rfc3339,
    valid_day,
)

__all__ = [
    "RecordTransformer",
    "TransformError",
    "build_transformer",
    "date_fields",
    "datetime_fields",
    "field_kinds",
    "to_date",
    "to_decimal",
    "to_integer",
    "to_rfc3339",
]

class TransformError(ValueError):
    """A record value that cannot be converted to its schema type."""

    def __init__(self, stream_name: str, field: str, value: Any, expected: str) -> None:
        self.stream_name = stream_name
        self.field = field
        self.value = value
        self.expected = expected
        super().__init__(f"{stream_name}: field {field!r} has value {value!r}, expected {expected}")


# ---------------------------------------------------------------------------------------------
# per-stream record transformer
# ---------------------------------------------------------------------------------------------

Converter = Callable[[Any], Any]

# kind → (converter, what the error message says was expected)
_CONVERTERS: dict[str, tuple[Converter, str]] = {
    "date-time": (to_rfc3339, "an RFC 2822 or ISO 8601 date-time"),
    "date": (to_date, "a YYYY-MM-DD date"),
    "number": (to_decimal, "a decimal number"),
    "integer": (to_integer, "an integer"),
}


def _types(subschema: Mapping[str, Any]) -> set[str]:
    declared = subschema.get("type")
    if isinstance(declared, str):
        return {declared}
    if isinstance(declared, list):
        return set(declared)
    types: set[str] = set()
    for option in subschema.get("anyOf", ()) or ():
        types |= _types(option)
    return types


def _format(subschema: Mapping[str, Any]) -> str | None:
    if "format" in subschema:
        return str(subschema["format"])
    for option in subschema.get("anyOf", ()) or ():
        if option.get("format"):
            return str(option["format"])
    return None


def field_kinds(schema: Mapping[str, Any]) -> dict[str, str]:
    """Top-level fields that need converting → "date-time", "date", "number" or "integer"."""
    kinds: dict[str, str] = {}
    for field, subschema in (schema.get("properties") or {}).items():
        types = _types(subschema)
        fmt = _format(subschema)
        if "string" in types and fmt in ("date-time", "date"):
            kinds[field] = fmt
        elif "number" in types:
            kinds[field] = "number"
        elif "integer" in types:
            kinds[field] = "integer"
    return kinds


def datetime_fields(schema: Mapping[str, Any]) -> list[str]:
    """Names of the schema's top-level ``format: date-time`` fields, in schema order."""
    return [field for field, kind in field_kinds(schema).items() if kind == "date-time"]


def date_fields(schema: Mapping[str, Any]) -> list[str]:
    """Names of the schema's top-level ``format: date`` fields, in schema order."""
    return [field for field, kind in field_kinds(schema).items() if kind == "date"]


# Strings of number, integer and date fields repeat across records (prices, segment counts,
# usage days), so each field converts a distinct string once: up to this many are remembered.
MEMO_SIZE = 4096
_MISSING: Any = object()  # a memo miss (None is a memoized answer)
_DATETIME_EXPECTED = _CONVERTERS["date-time"][1]


class RecordTransformer:
    """Converts one stream's raw Twilio records to its schema's types.

    Build it once per stream; call it on every record. It returns a new dict holding only the
    schema's properties (the input record is not modified), with date-time / date / number /
    integer fields converted. Fields missing from the record stay missing.

    It runs on every record, so it is written for speed: the key filter is a plain copy when
    the record has no unknown keys, Twilio's usual date-time layout ("Tue, 31 Aug 2010
    20:36:28 +0000") is rewritten inline from its remembered day part, and the other
    conversions are memoized per field (see MEMO_SIZE).
    The results are those of the ``to_*`` functions.
    """

    __slots__ = (
        "conversions", "datetime_fields", "day_heads", "memoized", "properties", "stream_name",
    )

    def __init__(self, stream_name: str, schema: Mapping[str, Any]) -> None:
        self.stream_name = stream_name
        self.properties: frozenset[str] = frozenset(schema.get("properties") or ())
        kinds = field_kinds(schema)
        # (field, converter, expected) triples: the only per-record work besides the key filter.
        self.conversions: tuple[tuple[str, Converter, str], ...] = tuple(
            (field, *_CONVERTERS[kind]) for field, kind in kinds.items()
        )
        self.datetime_fields: tuple[str, ...] = tuple(
            field for field, kind in kinds.items() if kind == "date-time"
        )
        # "Tue, 31 Aug 2010 " -> "2010-08-31T", or None for a day part to parse in full.
        self.day_heads: dict[str, str | None] = {}
        # (field, converter, expected, {string: converted}) for the other kinds.
        self.memoized: tuple[tuple[str, Converter, str, dict[str, Any]], ...] = tuple(
            (field, convert, expected, {})
            for field, convert, expected in self.conversions
            if kinds[field] != "date-time"
        )

    def __call__(self, record: Mapping[str, Any]) -> dict[str, Any]:
        properties = self.properties
        if record.keys() <= properties:
            out = dict(record)
        else:
            out = {key: value for key, value in record.items() if key in properties}
        for field in self.datetime_fields:
            value = out.get(field)
            if value is None:
                continue
            if type(value) is str and CLOCK_UTC.match(value, DAY_PART) is not None:
                head = self.day_heads.get(value[:DAY_PART], _MISSING)
                if head is _MISSING:
                    head = self.day_head(value[:DAY_PART])
                if head is not None:
                    out[field] = head + value[DAY_PART : DAY_PART + 8] + "+00:00"
                    continue
            out[field] = self.convert(field, value, to_rfc3339, _DATETIME_EXPECTED)
        for field, convert, expected, memo in self.memoized:
            value = out.get(field)
            if value is None:
                continue
            if type(value) is not str:
                out[field] = self.convert(field, value, convert, expected)
                continue
            converted = memo.get(value, _MISSING)
            if converted is _MISSING:
                converted = self.convert(field, value, convert, expected)
                if len(memo) < MEMO_SIZE:
                    memo[value] = converted
            out[field] = converted
        return out

    def day_head(self, day_part: str) -> str | None:
        """ "Tue, 31 Aug 2010 " -> "2010-08-31T" (remembered), None if not a valid day."""
        match = RFC2822_TWILIO.match(day_part + "00:00:00 +0000")
        head = None
        if match is not None:
            day, name, year, _, _ = match.groups()
            month = MONTHS[name]
            if "01" <= day <= "28" or valid_day(year, month, day):
                head = f"{year}-{month}-{day}T"
        if len(self.day_heads) < MEMO_SIZE:
            self.day_heads[day_part] = head
        return head

    def convert(self, field: str, value: Any, convert: Converter, expected: str) -> Any:
        """One value through its converter; a value that does not parse is a TransformError."""
        try:
            return convert(value)
        except (ValueError, TypeError, ArithmeticError) as exc:
            raise TransformError(self.stream_name, field, value, expected) from exc

    def transform_all(self, records: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Convenience: transform many records."""
        return [self(record) for record in records]

    def __repr__(self) -> str:
        fields = ", ".join(f"{field}→{expected}" for field, _, expected in self.conversions)
        return f"RecordTransformer({self.stream_name!r}: {fields})"


def build_transformer(stream_name: str, schema: Mapping[str, Any]) -> RecordTransformer:
    """The record transformer of `stream_name`: ``RecordTransformer(stream_name, schema)``."""
    return RecordTransformer(stream_name, schema)
