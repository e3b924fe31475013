"""Stream maps (the SDK's `stream_maps` setting) through the CLI: an expression that fails
ends the run with one line that says why, as any bad input does."""

from __future__ import annotations

import pytest

from tests.tap_runner import run_tap

EXPRESSION_ERRORS = {
    "unknown function": (
        {"messages": {"__filter__": "len(body) > 5"}},
        "tap-twilio: error: stream_maps: Failed to evaluate simpleeval expressions "
        "len(body) > 5 (Function 'len' not defined, for expression 'len(body) > 5')",
    ),
    "unknown name": (
        {"calls": {"__filter__": "durations > 5"}},
        "tap-twilio: error: stream_maps: Failed to evaluate simpleeval expressions "
        "durations > 5 ('durations' is not defined for expression 'durations > 5')",
    ),
    "not an expression": (
        {"messages": {"__filter__": "body >"}},
        "tap-twilio: error: stream_maps: Failed to parse expression body > "
        "(invalid syntax (<unknown>, line 1))",
    ),
}


@pytest.mark.parametrize("maps, line", EXPRESSION_ERRORS.values(), ids=EXPRESSION_ERRORS.keys())
def test_a_stream_map_expression_error_says_its_cause(emulator, maps: dict, line: str) -> None:
    run = run_tap({**emulator.config(), "stream_maps": maps})
    assert run.returncode == 1
    assert run.stderr.strip().splitlines()[-1] == line
    assert "Traceback" not in run.stderr
