"""The `stream_maps` setting checked against each stream's schema before any request.

The SDK evaluates a stream map's expressions record by record: a misspelt property or a
function its evaluator does not have fails only at the stream's first record, after the
records of the streams read before it were written. Here each expression is parsed and every
name it reads must be a property of its stream's schema, a name the SDK gives expressions
(`record`, `_`, `config`, `self`, ...) or one of the SDK evaluator's functions.
"""

from __future__ import annotations

import ast
import difflib
import fnmatch
from collections.abc import Iterator, Mapping
from functools import cache
from typing import Any

from singer_sdk.mapper import CustomStreamMap

from tap_twilio.settings import SettingError

# Options of a stream map whose values are not expressions.
OPTIONS = ("__source__", "__alias__", "__key_properties__", "__else__")
NULL = "__NULL__"
# What the SDK puts beside the record's properties for an expression to read.
SDK_NAMES = frozenset({"_", "record", "config", "self", "fake", "__stream_name__",
                       "__original_stream_name__"})


@cache
def sdk_functions() -> frozenset[str]:
    """The functions the SDK's expressions may call (its evaluator's: int, str, md5, ...)."""
    probe = CustomStreamMap("probe", map_config={}, faker_config={},
                            raw_schema={"properties": {}}, key_properties=None,
                            map_transform={}, flattening_options=None)
    return frozenset(probe.functions)


def map_expressions(stream_maps: Mapping[str, Any]) -> Iterator[tuple[str, str, str]]:
    """(stream map name, source stream or pattern, expression) for each expression."""
    for name, stream_map in stream_maps.items():
        if not isinstance(stream_map, Mapping):
            continue  # `null` (the stream removed) or a `__else__` default
        source = stream_map.get("__source__") or name
        for key, value in stream_map.items():
            if key not in OPTIONS and isinstance(value, str) and value != NULL:
                yield name, str(source), value


def names_read(expression: str) -> tuple[set[str], set[str]]:
    """The names an expression reads (those it binds itself, in a comprehension, left out)
    and those of them it calls; a SyntaxError if it is no Python expression."""
    tree = ast.parse(expression.strip(), mode="eval")
    loaded: set[str] = set()
    bound: set[str] = set()
    called: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (loaded if isinstance(node.ctx, ast.Load) else bound).add(node.id)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            called.add(node.func.id)
    return loaded - bound, called


def check_stream_maps(stream_maps: Any, schemas: Mapping[str, Mapping[str, Any]]) -> None:
    """SettingError naming the stream map and the expression for the first expression that
    does not parse, or reads a name its stream's records do not have."""
    if not isinstance(stream_maps, Mapping):
        return  # the SDK's own validation of the setting says what is wrong
    for name, source, expression in map_expressions(stream_maps):
        where = f"stream_maps: {name}: {expression!r}"
        try:
            names, called = names_read(expression)
        except SyntaxError as exc:
            raise SettingError(f"{where} is not an expression ({exc.msg})") from None
        for stream in sorted(s for s in schemas if s == source or fnmatch.fnmatch(s, source)):
            properties = set(schemas[stream].get("properties", {}))
            missing = sorted(names - properties - SDK_NAMES - sdk_functions())
            if missing and missing[0] in called:
                functions = ", ".join(sorted(sdk_functions()))
                raise SettingError(f"{where} calls {missing[0]}(), not a function of stream "
                                   f"maps ({functions})")
            if missing:
                close = difflib.get_close_matches(missing[0], properties, n=1)
                meant = f"; did you mean {close[0]!r}?" if close else ""
                raise SettingError(f"{where} reads {missing[0]!r}, not a property of "
                                   f"{stream}{meant}")
