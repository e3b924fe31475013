"""One GET of a Twilio page, as every list's reader sends it.

The account's credentials, a slot of the run's limiter (Twilio limits requests in flight per
account), the body read and decoded inside the retried call (a 200 with a cut-off JSON body
is retried), Twilio's errors mapped (http.py), retries with their log lines, and a failure
to reach a host that never answered told from a transient one.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import backoff
import msgspec
import requests

from tap_twilio.twilio.http import (
    RETRIED_EXCEPTIONS,
    HostUnreachable,
    ResourceUnavailable,
    RetriableError,
    backoff_waits,
    decode_json,
    describe_failure,
    no_server_reason,
    read_body,
    response_error,
    retry_after_seconds,
    url_origin,
)
from tap_twilio.twilio.run import TwilioRun

Func = TypeVar("Func", bound=Callable[..., Any])
# A partition of a list: the values of its path's parameters (`account_sid`, a parent's SID).
Partition = Mapping[str, Any]
# Called with each answer and its partition: the SDK's request METRIC line (see stream.py).
OnAnswer = Callable[[requests.Response, Partition], None]


class TwilioClient:
    """The requests of one list (one stream): pages fetched, retried and limited."""

    def __init__(self, name: str, config: Mapping[str, Any], run: TwilioRun,
                 headers: Mapping[str, str], optional: bool, on_answer: OnAnswer,
                 logger: logging.Logger) -> None:
        self.name = name  # for log lines and errors
        self.run = run
        self.main_account = str(config["account_sid"])
        self.headers = dict(headers)
        # A 403/404 on the main account skips the list (a product it may not use) rather
        # than failing the run: the newer APIs' lists.
        self.optional = optional
        self.on_answer = on_answer
        self.logger = logger
        self.timeout = int(config.get("request_timeout", 120))
        self.max_tries = int(config.get("max_retries", 8)) + 1
        self.max_time = int(config.get("max_retry_seconds", 600))
        self.local = threading.local()
        self.fetch = self.retried(self.fetch_once)

    @property
    def session(self) -> requests.Session:
        """One session per thread, so parallel walks never share a connection pool."""
        session: requests.Session | None = getattr(self.local, "session", None)
        if session is None:
            session = self.local.session = requests.Session()
        return session

    def retried(self, func: Func) -> Func:
        """`func` retried on transient failures, with Retry-After honoured."""
        wrapped: Func = backoff.on_exception(
            backoff_waits, RETRIED_EXCEPTIONS, max_tries=self.max_tries,
            max_time=self.max_time, on_backoff=self.said_retry, on_giveup=self.said_give_up,
            jitter=None,  # the generator adds its own, after honouring Retry-After
            logger=None,
        )(func)
        return wrapped

    def fetch_once(self, url: str, params: dict[str, Any] | None, partition: Partition,
                   own_credentials: bool) -> Any:
        """GET one page and decode it; a body that is not complete JSON is retried."""
        account = partition.get("account_sid")
        auth = self.run.accounts.credentials(account, own_credentials)
        if auth is None:  # never the main account's credentials for another's data
            raise ResourceUnavailable(f"no credentials for account {account}")
        request = self.session.prepare_request(requests.Request(
            "GET", url, params=params, headers=self.headers, auth=auth))
        with self.run.limiter.slot(account or self.main_account):
            try:
                response = self.session.send(request, timeout=self.timeout, stream=True)
            except requests.exceptions.ConnectionError as exc:
                self.stop_if_no_server(request.url or url, exc)
                raise
            self.run.answered_origins.add(url_origin(request.url or url))
            self.on_answer(response, partition)
            self.check(response, account)
            content = read_body(response)
        try:
            return decode_json(content)
        except msgspec.DecodeError as exc:
            raise RetriableError(
                f"incomplete JSON in a {response.status_code} answer ({exc})", response
            ) from None

    def check(self, response: requests.Response, account: str | None) -> None:
        """Raise what an answer that is not a page means (see `http.response_error`)."""
        error = response_error(response, self.name, account, self.main_account,
                               optional=self.optional)
        if error is not None:
            raise error

    def stop_if_no_server(self, url: str, exc: BaseException) -> None:
        """Raise `HostUnreachable` when a request to a host that has not answered yet in
        this run found no server; once it has answered, the same failure is transient and
        retried (a restart, a failover)."""
        origin, reason = url_origin(url), no_server_reason(exc)
        if reason is None or origin in self.run.answered_origins:
            return
        raise HostUnreachable(
            f"could not connect to {origin}: {reason}; check base_url, region, edge and the "
            "network"
        ) from None

    def said_retry(self, details: Any) -> None:
        exc = details.get("exception")
        self.logger.warning(
            "%s: retry %d in %.1fs%s after %s", self.name, details["tries"], details["wait"],
            " (Retry-After)" if exc is not None and retry_after_seconds(exc) is not None else "",
            describe_failure(exc),
        )

    def said_give_up(self, details: Any) -> None:
        # The requests in flight beside it then fail the same way: only the first to give up
        # says so (the run's last line is the cause, see cli.py), the others at debug level.
        gave_up = self.run.gave_up
        level = logging.DEBUG if gave_up.is_set() else logging.ERROR
        gave_up.set()
        self.logger.log(level, "%s: giving up after %d tries in %.0fs: %s", self.name,
                        details["tries"], details["elapsed"],
                        describe_failure(details.get("exception")))


logging.getLogger("backoff").setLevel(logging.CRITICAL)  # the handlers above say it instead
