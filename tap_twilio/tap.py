"""The tap: settings, streams, and a command line that fails in one readable line."""

from __future__ import annotations

import json
import logging
import os
import sys
from typing import Any

import click
import requests
import simplejson
from singer_sdk import Tap
from singer_sdk.contrib.msgspec import MsgSpecWriter
from singer_sdk.exceptions import ConfigValidationError, FatalAPIError, RetriableAPIError

from tap_twilio.settings import CONFIG_SCHEMA, SettingError, validate_settings
from tap_twilio.streams import STREAM_TYPES


class TapTwilio(Tap):
    """Singer tap for Twilio's REST API."""

    name = "tap-twilio"
    package_name = "tap-twilio"
    config_jsonschema = CONFIG_SCHEMA
    message_writer_class = MsgSpecWriter

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.account_created: dict[str, Any] = {}  # account SID -> date, for date slicing
        super().__init__(*args, **kwargs)

    def _validate_config(self, *, raise_errors: bool = True) -> list[str]:
        if raise_errors:
            validate_settings(self.config)
        return super()._validate_config(raise_errors=raise_errors)

    def discover_streams(self) -> list:
        return [stream_class(tap=self) for stream_class in STREAM_TYPES]


def one_line(exc: BaseException) -> str:
    """What went wrong, in one line a user can act on (never a traceback)."""
    if isinstance(exc, ConfigValidationError):
        return "invalid config: " + "; ".join(exc.errors or [str(exc)])
    if isinstance(exc, RetriableAPIError):
        text = f"gave up retrying: {exc}; Twilio kept failing, run again later"
    elif isinstance(exc, requests.RequestException):
        text = (f"could not reach Twilio ({type(exc).__name__}); check api_url and the "
                "network, then run again")
    elif isinstance(exc, (json.JSONDecodeError, simplejson.JSONDecodeError)):
        text = f"a config, state or catalog file is not valid JSON ({exc})"
    elif isinstance(exc, (SettingError, FatalAPIError, OSError)):
        text = str(exc)
    else:
        text = f"{type(exc).__name__}: {exc}"
    return " ".join(text.split())


def cli(argv: list[str] | None = None) -> None:
    """Console entry point: the SDK's command, with any failure reduced to one line.

    Set TAP_TWILIO_DEBUG=1 to see the traceback instead.
    """
    try:
        code = TapTwilio.cli.main(args=argv, standalone_mode=False)
    except click.exceptions.ClickException as exc:
        print(f"tap-twilio: error: {exc.format_message()}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except Exception as exc:
        if os.environ.get("TAP_TWILIO_DEBUG"):
            raise
        logging.shutdown()
        print(f"tap-twilio: error: {one_line(exc)}", file=sys.stderr)
        sys.exit(1)
    if isinstance(code, int) and code:
        sys.exit(code)
