"""The private names of singer-sdk the tap uses (tap_twilio/sdk_compat.py) still exist with
the signatures they were checked with; an SDK upgrade that changes one fails here, naming
it. And no module of the tap but sdk_compat.py names one."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from tap_twilio import sdk_compat

PACKAGE = Path(sdk_compat.__file__).parent


@pytest.mark.parametrize(
    ("owner", "name"), list(sdk_compat.PRIVATE_NAMES),
    ids=[f"{owner.__name__}.{name}" for owner, name in sdk_compat.PRIVATE_NAMES],
)
def test_a_private_sdk_name_is_as_it_was_checked(owner: type, name: str) -> None:
    recorded = sdk_compat.PRIVATE_NAMES[(owner, name)]
    where = f"{owner.__name__}.{name} (checked with {sdk_compat.CHECKED_WITH})"
    if recorded is None:  # an attribute its owner's __init__ sets
        assert f"self.{name}" in inspect.getsource(owner.__init__), f"{where} is gone"
        return
    assert hasattr(owner, name), f"{where} is gone"
    signature = str(inspect.signature(getattr(owner, name)))
    assert signature == recorded, f"{where} changed its signature to {signature}"


def sdk_private_names() -> set[str]:
    return {name for _, name in sdk_compat.PRIVATE_NAMES}


def test_no_other_module_uses_a_private_sdk_name() -> None:
    private = sdk_private_names() | {"_tap", "_state", "_process_record", "_ready_to_log",
                                     "_pop", "_write_record_message", "_sync_records"}
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name == "sdk_compat.py":
            continue
        text = path.read_text()
        found += [f"{path.name}: {name}" for name in sorted(private)
                  if re.search(rf"\.{name}\b|def {name}\b", text)]
        found += [f"{path.name}: {line.strip()}" for line in text.splitlines()
                  if re.match(r"\s*(from|import) singer_sdk\S*\._", line)]
    assert found == []


def test_the_tap_overrides_no_method_the_sdk_marks_final() -> None:
    from singer_sdk import RESTStream, Tap
    from singer_sdk.contrib.msgspec import MsgSpecWriter

    from tap_twilio.output.writer import RecordBufferingWriter
    from tap_twilio.stream import TwilioStream
    from tap_twilio.streams import STREAM_TYPES
    from tap_twilio.tap import TapTwilio

    overridden = []
    pairs = [(TapTwilio, Tap), (RecordBufferingWriter, MsgSpecWriter), (TwilioStream, RESTStream),
             *((stream, RESTStream) for stream in STREAM_TYPES)]
    for ours, sdk in pairs:
        for name, member in inspect.getmembers(sdk):
            if getattr(member, "__final__", False) and getattr(ours, name) is not member:
                overridden.append(f"{ours.__name__}.{name}")
    assert overridden == []
