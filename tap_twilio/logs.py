"""What the tap logs on stderr, and at which level.

A run prints its progress lines, a summary line per stream and the run's (progress.py),
warnings, and a failure's cause last (cli.py). The SDK's lines repeated per stream or per
partition ("Beginning sync of ...", "Starting incremental sync of ...", "Skipping
deselected stream ...", ...) say nothing a user can act on and would bury those: they are
lowered to DEBUG, shown with `TAP_TWILIO_LOG_LEVEL=debug` (the SDK's own
`TAP_TWILIO_LOGLEVEL` works too) or with a `SINGER_SDK_LOG_CONFIG` file whose levels let
DEBUG through. The SDK's JSON `METRIC:` lines (one per request) are dropped unless
`TAP_TWILIO_SDK_METRICS=1`.
"""

from __future__ import annotations

import logging
import os
from collections.abc import MutableMapping

from tap_twilio.settings import SettingError

LOG_LEVEL_VARIABLE = "TAP_TWILIO_LOG_LEVEL"
SDK_LOG_LEVEL_VARIABLE = "TAP_TWILIO_LOGLEVEL"  # the name the SDK reads (`{NAME}_LOGLEVEL`)
LEVELS = ("debug", "info", "warning", "error", "critical")
METRICS_LOGGER = "singer_sdk.metrics"

# The SDK's messages (their format strings) lowered to DEBUG.
SDK_CHATTER = (
    "Beginning sync of '%s' in %s mode",  # per stream, and per partition of child streams
    "Starting incremental sync of '%s'",  # per partition
    "Skipping deselected stream",  # per stream not selected: most of them
    "Stream is assumed to be unsorted",  # Twilio lists are newest first; handled
    "New replication value is null",  # queued messages, calls not yet dialled
    "Context for child streams of",  # a message without media has no media list
    "Added '%s' as child stream",  # the stream tree is fixed: see --discover
    "Skipping parse of env var settings",
    "Parsing env var for settings config",
    "Found '%s' filter rule",  # per stream map
    "Set null transform as default for",  # per stream, with `"__else__": null`
    # The cause is the failure's last line (cli.py); `--test` stops each stream on purpose.
    "An unhandled error occurred while syncing",
)


def pass_log_level_to_sdk(environ: MutableMapping[str, str]) -> None:
    """`TAP_TWILIO_LOG_LEVEL` becomes the SDK's `TAP_TWILIO_LOGLEVEL` (which wins if both
    are set); to be called before the SDK sets up logging. An unknown level is a
    SettingError rather than the SDK's traceback."""
    for variable in (LOG_LEVEL_VARIABLE, SDK_LOG_LEVEL_VARIABLE):
        level = environ.get(variable)
        if level is not None and level.strip().lower() not in LEVELS:
            raise SettingError(f"{variable}: expected one of {', '.join(LEVELS)}, "
                               f"got {level!r}")
    if LOG_LEVEL_VARIABLE in environ:
        environ.setdefault(SDK_LOG_LEVEL_VARIABLE, environ[LOG_LEVEL_VARIABLE].strip())


class QuietSDKFilter(logging.Filter):
    """A handler's filter: the SDK's chatter (`SDK_CHATTER`) lowered to DEBUG, and shown
    only where DEBUG is let through; the SDK's metrics dropped unless kept."""

    def __init__(self, handler: logging.Handler, keep_metrics: bool) -> None:
        super().__init__("tap-twilio-quiet")
        self.handler = handler
        self.keep_metrics = keep_metrics

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name == METRICS_LOGGER:
            return self.keep_metrics
        if not str(record.msg).startswith(SDK_CHATTER):
            return True
        record.levelno, record.levelname = logging.DEBUG, logging.getLevelName(logging.DEBUG)
        return (self.handler.level <= logging.DEBUG
                and logging.getLogger(record.name).isEnabledFor(logging.DEBUG))


def quiet_sdk_logging() -> None:
    """Install `QuietSDKFilter` on each handler of the root logger (once): the SDK's console
    handler, or those of a `SINGER_SDK_LOG_CONFIG` file (structured JSON logging among them)."""
    keep = os.environ.get("TAP_TWILIO_SDK_METRICS", "") not in ("", "0", "false")
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, QuietSDKFilter) for f in handler.filters):
            handler.addFilter(QuietSDKFilter(handler, keep))
