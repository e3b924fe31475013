"""Talking to Twilio over HTTP: its errors, which failures are worth a retry, how long to wait.

The list reader (reader.py) sends each request with these; nothing here knows a stream.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import random
import socket
import ssl
from collections.abc import Generator
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit

import msgspec
import requests


class RetriableError(Exception):
    """A failure a retry may fix (429, 5xx, a body cut off); `response` is Twilio's answer."""

    def __init__(self, message: str, response: requests.Response | None = None) -> None:
        super().__init__(message)
        self.response = response


class FatalError(Exception):
    """A failure no retry can fix; the text is for the user."""


RETRIED_EXCEPTIONS = (
    ConnectionResetError,
    RetriableError,
    requests.exceptions.Timeout,
    requests.exceptions.ConnectionError,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)
decode_json = msgspec.json.Decoder().decode


class TooManyRequests(RetriableError):
    """429 (code 20429): the account has too many requests in flight; retried, and the
    account's requests in flight are lowered (see `concurrency.AdaptiveLimiter`)."""


class TwilioAPIError(FatalError):
    """Twilio refused a request for a reason a retry cannot fix; the text is for the user."""


class ResourceUnavailable(TwilioAPIError):
    """403/404 on a subaccount's resource: that resource is skipped, the run goes on."""


class HostUnreachable(FatalError):
    """The first request to a host found no server there (connection refused, unknown host,
    failed TLS): a wrong URL that no retry can fix, so the run stops at once."""


def url_origin(url: str) -> str:
    """`scheme://host:port` of a URL, all a message shows of it: its path and query may hold
    phone numbers, and its user part credentials."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"  # an IPv6 address
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    return f"{parts.scheme}://{host}:{port}"


def wrapped_exceptions(exc: BaseException) -> list[BaseException]:
    """`exc` and those it wraps: requests wraps urllib3's errors, which wrap the socket's."""
    found: list[BaseException] = []
    todo: list[Any] = [exc]
    while todo:
        item = todo.pop(0)
        if not isinstance(item, BaseException) or any(item is seen for seen in found):
            continue
        found.append(item)
        todo += [getattr(item, "reason", None), item.__cause__, item.__context__, *item.args]
    return found


def no_server_reason(exc: BaseException) -> str | None:
    """Why a request found no server at all, or None for failures a retry may fix
    (timeouts, dropped connections, errors after connecting)."""
    if isinstance(exc, requests.exceptions.Timeout) or not isinstance(
        exc, requests.exceptions.ConnectionError
    ):
        return None
    for cause in wrapped_exceptions(exc):
        if isinstance(cause, ssl.SSLError):
            reason = cause.reason or type(cause).__name__
            if reason == "WRONG_VERSION_NUMBER":
                return f"TLS failed ({reason}): the server may speak plain http://"
            return f"TLS failed ({reason})"
        if isinstance(cause, socket.gaierror):
            return f"host not found ({cause.strerror})"
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused"
    return None


def twilio_error_text(response: requests.Response) -> str:
    """`HTTP 404, Twilio code 20404: The requested resource ... was not found`."""
    try:
        body = decode_json(response.content)
    except msgspec.DecodeError:
        body = None
    if isinstance(body, dict) and body.get("message"):
        return f"HTTP {response.status_code}, Twilio code {body.get('code')}: {body['message']}"
    return f"HTTP {response.status_code} {response.reason}"


def response_error(
    response: requests.Response, stream: str, account: str | None, main_account: str,
    optional: bool = False,
) -> Exception | None:
    """What a response means when it is not a page: an error to retry (429, 5xx), one that
    skips a resource (403/404 on a subaccount's, or on a product an account may not use:
    `optional`), or one that ends the run; None for a page."""
    status = response.status_code
    if status == HTTPStatus.TOO_MANY_REQUESTS:
        return TooManyRequests(twilio_error_text(response), response)
    if status >= HTTPStatus.INTERNAL_SERVER_ERROR:
        return RetriableError(twilio_error_text(response), response)
    if status < HTTPStatus.BAD_REQUEST:
        return None
    text = twilio_error_text(response)
    if status == HTTPStatus.UNAUTHORIZED:
        return TwilioAPIError(
            f"Twilio rejected the credentials ({text}); check account_sid and auth_token "
            "(or api_key_sid and api_key_secret)"
        )
    if status in (HTTPStatus.FORBIDDEN, HTTPStatus.NOT_FOUND):
        if optional or (account and account != main_account):
            return ResourceUnavailable(text)
        return TwilioAPIError(
            f"{stream}: {text}; check that these credentials may read this resource "
            "of account " + str(account or main_account)
        )
    return TwilioAPIError(
        f"{stream}: Twilio refused the request ({text}); check the settings this "
        "stream sends (start_date, last_n_days, end_date, to, from, status, log, category)"
    )


def read_body(response: requests.Response) -> bytes:
    """The whole body of a streamed response in one read. `response.content` reads it in
    10 KiB chunks, each through urllib3's buffers, a cost paid in the threads that share
    the GIL with the one emitting records. `iter_content(None)` is
    requests' own read, with its own errors (ChunkedEncodingError for a cut-off body, ...),
    so retries see the same failures."""
    return b"".join(response.iter_content(chunk_size=None))


def retry_after_seconds(exc: BaseException | None) -> float | None:
    """Seconds from a 429/503 `Retry-After` header (seconds or an HTTP date), if any."""
    response = getattr(exc, "response", None)
    header = response.headers.get("Retry-After") if response is not None else None
    if not header:
        return None
    try:
        return max(0.0, float(header))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(header)
    except (TypeError, ValueError):
        return None  # unreadable: fall back to exponential backoff
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    return max(0.0, (when - dt.datetime.now(dt.timezone.utc)).total_seconds())


def backoff_waits() -> Generator[float, BaseException | None, None]:
    """Retry-After when Twilio sends it, else 1, 2, 4 ... 60 s, each with jitter; `backoff`
    primes the generator, then sends it each failure."""
    exc = yield 0.0
    attempt = 0
    while True:
        wait = retry_after_seconds(exc)
        if wait is None:
            wait = min(2.0**attempt, 60.0) * random.uniform(0.5, 1.0)
        attempt += 1
        exc = yield wait


def describe_failure(exc: BaseException | None) -> str:
    """One line for a failed attempt, without URLs (they may carry phone numbers)."""
    if isinstance(exc, RetriableError):
        return str(exc)
    if exc is None:
        return "an unknown error"
    reason = no_server_reason(exc)
    if reason is not None:  # a host that answered before: restarting, failing over
        return f"{reason} ({type(exc).__name__})"
    for kind, what in FAILURE_KINDS:
        if isinstance(exc, kind):
            return f"{what} ({type(exc).__name__})"
    return type(exc).__name__


FAILURE_KINDS: tuple[tuple[type[BaseException], str], ...] = (  # most specific first
    (requests.exceptions.Timeout, "no answer within request_timeout"),
    (requests.exceptions.ChunkedEncodingError, "answer cut off"),
    (requests.exceptions.ContentDecodingError, "answer cut off"),
    (requests.exceptions.ConnectionError, "connection failed or reset"),
    (ConnectionResetError, "connection failed or reset"),
)

