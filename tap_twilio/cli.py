"""The `tap-twilio` command: the SDK's command line, with any failure said in one line.

Set TAP_TWILIO_DEBUG=1 to see the traceback instead.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import signal
import sys
from typing import Any, NoReturn

import click
import requests
import simplejson
from singer_sdk.exceptions import (
    ConfigValidationError,
    FatalAPIError,
    MappingError,
    RetriableAPIError,
)

from tap_twilio.inputs import check_input_files, missing_input_file, redact
from tap_twilio.logs import pass_log_level_to_sdk
from tap_twilio.settings import SettingError
from tap_twilio.tap import Interrupted, TapTwilio
from tap_twilio.twilio.http import FatalError, RetriableError, url_origin


def one_line(exc: BaseException) -> str:
    """What went wrong, in one line a user can act on (never a traceback)."""
    if isinstance(exc, ConfigValidationError):
        return "invalid config: " + "; ".join(exc.errors or [str(exc)])
    if isinstance(exc, (RetriableError, RetriableAPIError)):
        text = f"gave up retrying: {exc}; Twilio kept failing, run again later"
    elif isinstance(exc, requests.Timeout):
        text = (f"gave up retrying: Twilio did not answer in time ({type(exc).__name__}); "
                "raise request_timeout or run again later")
    elif isinstance(exc, requests.RequestException):
        url = getattr(exc.request, "url", None)
        where = url_origin(url) if url else "Twilio"
        text = (f"could not reach {where} ({type(exc).__name__}); check base_url and the "
                "network, then run again")
    elif isinstance(exc, (json.JSONDecodeError, simplejson.JSONDecodeError)):
        text = f"a config, state or catalog file is not valid JSON ({exc})"
    elif isinstance(exc, MappingError):
        text = f"stream_maps: {with_cause(exc)}"
    elif isinstance(exc, (SettingError, FatalError, FatalAPIError, OSError)):
        text = str(exc)
    else:
        text = f"{type(exc).__name__}: {exc}"
    return " ".join(text.split())


def with_cause(exc: BaseException) -> str:
    """The error and, in parentheses, the error it was raised from: the SDK's stream map
    errors say which expression failed, their cause why (`Function 'len' not defined`)."""
    text, cause = str(exc).rstrip("."), exc.__cause__
    if cause is None or not str(cause) or str(cause) in text:
        return text
    return f"{text} ({str(cause).rstrip('.')})"


def cli(argv: list[str] | None = None) -> None:
    """Console entry point: the SDK's command, with any failure reduced to one line.

    Set TAP_TWILIO_DEBUG=1 to see the traceback instead.
    """
    config: dict[str, Any] = {}
    try:
        pass_log_level_to_sdk(os.environ)
        config = check_input_files(sys.argv[1:] if argv is None else argv)
        code = TapTwilio.cli.main(args=argv, standalone_mode=False)
    except Interrupted as exc:
        quiet_from_now_on()
        name = signal.Signals(exc.signum).name
        print(f"tap-twilio: error: interrupted by {name}; run again with the last STATE "
              "message to resume", file=sys.stderr)
        sys.exit(128 + exc.signum)
    except click.exceptions.ClickException as exc:
        message = redact(" ".join(exc.format_message().split()), config)
        print(f"tap-twilio: error: {message}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except Exception as exc:
        if os.environ.get("TAP_TWILIO_DEBUG"):
            raise
        quiet_from_now_on()
        message = missing_input_file(sys.argv[1:] if argv is None else argv) or one_line(exc)
        print(f"tap-twilio: error: {redact(message, config)}", file=sys.stderr)
        sys.exit(1)
    if isinstance(code, int) and code:
        sys.exit(code)
    end_process()


def quiet_from_now_on() -> None:
    """Flush the logs and silence them: the failure's cause is said next, as the last line,
    and threads still finishing their requests must not log after it."""
    logging.disable(logging.CRITICAL)
    logging.shutdown()


def end_process() -> NoReturn:
    """Exit 0 now that everything is written, without the interpreter's teardown (freeing
    every module's objects one by one, a noticeable part of a short run: see
    docs/architecture.md). The exit handlers still run (logging's flush among them) and
    stdout is flushed; if that fails the output is incomplete, and the exit code says so."""
    atexit._run_exitfuncs()  # what sys.exit would run, in the same order
    try:
        sys.stdout.flush()
    except OSError as exc:
        print(f"tap-twilio: error: could not write the output ({exc})", file=sys.stderr)
        sys.stderr.flush()
        os._exit(1)
    sys.stderr.flush()
    os._exit(0)
