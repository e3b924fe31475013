"""Stream maps (the SDK's `stream_maps` setting) through the CLI: each expression is checked
against its stream's schema before any request, and a mistake ends the run with one line
naming the stream map and the expression, as any bad input does."""

from __future__ import annotations

import pytest

from tests.tap_runner import run_tap

FUNCTIONS = "bool, datetime, float, int, json, md5, rand, randint, sha256, str"
EXPRESSION_ERRORS = {
    "unknown function": (
        {"messages": {"__filter__": "len(body) > 5"}},
        "tap-twilio: error: stream_maps: messages: 'len(body) > 5' calls len(), not a "
        f"function of stream maps ({FUNCTIONS})",
    ),
    "misspelt property": (
        {"calls": {"__filter__": "durations > 5"}},
        "tap-twilio: error: stream_maps: calls: 'durations > 5' reads 'durations', not a "
        "property of calls; did you mean 'duration'?",
    ),
    "misspelt property of a copy": (
        {"calls_completed": {"__source__": "calls", "__filter__": "staus == 'completed'"}},
        "tap-twilio: error: stream_maps: calls_completed: \"staus == 'completed'\" reads "
        "'staus', not a property of calls; did you mean 'status'?",
    ),
    "misspelt property of a new property": (
        {"messages": {"body_hash": "md5(bdy)"}},
        "tap-twilio: error: stream_maps: messages: 'md5(bdy)' reads 'bdy', not a property of "
        "messages; did you mean 'body'?",
    ),
    "not an expression": (
        {"messages": {"__filter__": "body >"}},
        "tap-twilio: error: stream_maps: messages: 'body >' is not an expression "
        "(invalid syntax)",
    ),
}


@pytest.mark.parametrize("maps, line", EXPRESSION_ERRORS.values(), ids=EXPRESSION_ERRORS.keys())
def test_a_stream_map_mistake_fails_before_any_request(fresh_emulator, maps: dict,
                                                       line: str) -> None:
    run = run_tap({**fresh_emulator.config(), "stream_maps": maps})
    assert run.returncode == 1
    assert run.stderr.strip().splitlines()[-1] == line
    assert "Traceback" not in run.stderr
    assert '"type":"RECORD"' not in run.stdout
    assert fresh_emulator.requests == []


def test_expressions_reading_the_sdk_s_names_and_functions_run(emulator) -> None:
    """What the check lets through, the SDK evaluates: the record's properties, `record`,
    `_`, `self`, `config`, the evaluator's functions, names a comprehension binds."""
    maps = {"messages": {"body_hash": "md5(body)", "sid_again": "record['sid']",
                         "direction": "self.upper()", "tag": "config['tag']",
                         "letters": "str([c for c in _['sid']][0])",
                         "__filter__": "int(num_segments) >= 0"}}
    run = run_tap({**emulator.config(), "stream_maps": maps, "stream_map_config": {"tag": "t"}})
    assert run.returncode == 0, run.stderr[-2000:]
    messages = run.records["messages"]
    assert messages
    assert all(m["sid_again"] == m["sid"] and m["tag"] == "t" and m["letters"] == m["sid"][0]
               and m["direction"] == m["direction"].upper() for m in messages)
