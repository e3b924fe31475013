"""The SDK's retry hooks of a stream: which failures are retried, how long to wait, what is
logged (the waits and the failures' wording are in http.py)."""

from __future__ import annotations

import logging
from collections.abc import Generator
from typing import Any

import backoff
from singer_sdk import RESTStream

from tap_twilio.twilio.http import (
    RETRIED_EXCEPTIONS,
    backoff_waits,
    describe_failure,
    retry_after_seconds,
)


class RetryHooks(RESTStream[str]):
    """`request_decorator` and its handlers: the retries and their log lines, per stream."""

    tap: Any  # the TapTwilio that made the stream (see client.py)

    def request_decorator(self, func: Any) -> Any:
        return backoff.on_exception(
            self.backoff_wait_generator,
            RETRIED_EXCEPTIONS,
            max_tries=int(self.config.get("max_retries", 8)) + 1,
            max_time=int(self.config.get("max_retry_seconds", 600)),
            on_backoff=self.backoff_handler,
            on_giveup=self.giveup_handler,
            jitter=None,  # the generator adds its own, after honouring Retry-After
            logger=None,
        )(func)

    def backoff_wait_generator(self) -> Generator[float, None, None]:
        return backoff_waits()

    def backoff_handler(self, details: Any) -> None:
        exc = details.get("exception")
        self.logger.warning(
            "%s: retry %d in %.1fs%s after %s",
            self.name,
            details["tries"],
            details["wait"],
            " (Retry-After)" if exc is not None and retry_after_seconds(exc) is not None else "",
            describe_failure(exc),
        )

    def giveup_handler(self, details: Any) -> None:
        # The requests in flight beside it then fail the same way: only the first to give up
        # says so (the run's last line is the cause, see cli.py), the others at debug level.
        gave_up = self.tap.gave_up
        level = logging.DEBUG if gave_up.is_set() else logging.ERROR
        gave_up.set()
        self.logger.log(
            level,
            "%s: giving up after %d tries in %.0fs: %s",
            self.name,
            details["tries"],
            details["elapsed"],
            describe_failure(details.get("exception")),
        )


logging.getLogger("backoff").setLevel(logging.CRITICAL)  # the handlers above say it instead
