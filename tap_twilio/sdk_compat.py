"""Every use of a private name of singer-sdk, in one place.

Each was checked against singer-sdk 0.54.9 (see uv.lock) and has no public equivalent
there. `PRIVATE_NAMES` records each name with its signature; tests/test_sdk_compat.py
fails, naming it, when an SDK upgrade removes one or changes its signature.
"""

from __future__ import annotations

from typing import Any

import requests
from singer_sdk import Stream, Tap
from singer_sdk.helpers.types import Context
from singer_sdk.streams import RESTStream

CHECKED_WITH = "singer-sdk 0.54.9"

# (owner, name) -> the signature it had in CHECKED_WITH, or None for an attribute that
# the owner's __init__ sets.
PRIVATE_NAMES: dict[tuple[type, str], str | None] = {
    (Stream, "_stream_version"): None,
    (Stream, "_get_state_partition_context"): "(self, context: 'types.Context | None') "
                                              "-> 'types.Context | None'",
    (Stream, "_increment_stream_state"): "(self, latest_record: 'types.Record', *, "
                                         "context: 'types.Context | None' = None) -> 'None'",
    (Stream, "_write_state_message"): "(self) -> 'None'",
    (RESTStream, "_write_request_duration_log"): "(self, endpoint: 'str', response: "
                                                 "'requests.Response', context: 'Context | "
                                                 "None', extra_tags: 'dict | None') -> 'None'",
    (Tap, "_state_writer"): None,
    (Tap, "_validate_config"): "(self, *, raise_errors: 'bool' = True) -> 'list[str]'",
    (Tap, "_handle_termination"): "(self, signum: 'int', frame: 'FrameType | None') "
                                  "-> 'None'",
}


def stream_version(stream: Stream) -> int | None:
    """The version a RECORD carries (set when an ACTIVATE_VERSION was written); the SDK
    has no public reader of it, and the page path writes RECORDs itself."""
    return stream._stream_version


def set_stream_version(stream: Stream, version: int) -> None:
    """Give a stream's RECORDs a version without the SDK's ACTIVATE_VERSION before its first
    record (see versions.py); the SDK keeps the version in this attribute only."""
    stream._stream_version = version


def partition_keys(stream: Stream, context: Context | None) -> Context | None:
    """The partition's keys the SDK adds to each record lacking them (its `_process_record`
    does it per record; the page path does it per page)."""
    return stream._get_state_partition_context(context)


def advance_bookmark(stream: Stream, record: dict[str, Any], context: Context | None) -> None:
    """The SDK's bookmark step for one record; the page path gives it the latest record of
    a page instead of every record (the SDK keeps the greatest value of an unsorted stream)."""
    stream._increment_stream_state(record, context=context)


def write_state_message(stream: Stream) -> None:
    """The SDK's STATE at its cadence (only when the state changed), from the page path."""
    stream._write_state_message()


def log_request_duration(stream: RESTStream, response: requests.Response,
                         context: Context | None) -> None:
    """The SDK's `http_request_duration` METRIC line; the tap sends its own requests (a page
    is decoded inside the retried call), so the SDK's `_request` does not write it."""
    stream._write_request_duration_log(
        endpoint=stream.path, response=response, context=context, extra_tags=None
    )


def use_state_writer(tap: Tap, writer: Any) -> None:
    """Make the SDK write every STATE through the tap's writer: `Tap.state_writer` is a
    read-only property and the SDK builds its own in `Tap.__init__`."""
    tap._state_writer = writer


class TapHooks(Tap):
    """The two private methods of `Tap` the tap must take over, each handing over to a
    public method of the tap."""

    def check_settings(self) -> None:
        """Checks to make before the SDK's own validation of the config."""

    def on_termination(self, signum: int) -> None:
        """What SIGTERM/SIGINT do."""

    def _validate_config(self, *, raise_errors: bool = True) -> list[str]:
        # The SDK's validation error quotes the invalid value; a secret must be checked
        # before it, and the SDK has no hook that runs earlier with the config loaded.
        if raise_errors:
            self.check_settings()
        return super()._validate_config(raise_errors=raise_errors)

    def _handle_termination(self, signum: int, frame: Any) -> None:  # pragma: no cover
        # The SDK's handler exits 0, which would pass an unfinished run off as a success;
        # the handler is registered in `PluginBase.__init__` under this name.
        self.on_termination(signum)
