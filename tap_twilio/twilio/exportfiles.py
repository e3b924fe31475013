"""How BulkExport is asked and its day files read: one account's requests (its own
credentials, the stream's checks, retries and limits), and a day's gzip file of JSON lines
streamed and parsed as it arrives (a day can hold millions of records)."""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import msgspec
import requests
from requests.auth import AuthBase


class LinkRefused(Exception):
    """A download link used, expired or broken off: a fresh one is asked for."""


class ExportRefused(Exception):
    """Twilio refused a BulkExport request (a 4xx other than 401 and 429): the stream's
    `check` raises it, with Twilio's words."""


@dataclass(frozen=True)
class ExportHttp:
    """How one account's exports are asked for: the stream supplies its credentials, its
    checks of Twilio's answers (raising the errors its retries know) and its limits."""

    base_url: str  # BulkExport's host, with region, edge and base_url applied
    session: Callable[[], requests.Session]
    auth: AuthBase
    check: Callable[[requests.Response], None]  # raises ExportRefused, or the stream's errors
    retried: Callable[[Callable[..., Any]], Callable[..., Any]]
    slot: Callable[[], AbstractContextManager[Any]]  # the account's requests in flight
    timeout: float

    def get_json(self, path: str, params: dict[str, Any] | None = None) -> Any:
        """A GET with the account's credentials, retried; a 307's body is the answer."""
        return self.retried(self._get_json)(self.base_url + path, params)

    def _get_json(self, url: str, params: dict[str, Any] | None) -> Any:
        with self.slot():
            response = self.session().get(url, params=params, auth=self.auth,
                                          timeout=self.timeout, allow_redirects=False)
            self.check(response)
            return decoded(response)

    def post_form(self, path: str, form: dict[str, str]) -> Any:
        """A POST, not retried (a job asked twice would be made twice)."""
        with self.slot():
            response = self.session().post(self.base_url + path, data=form, auth=self.auth,
                                           timeout=self.timeout)
            self.check(response)
            return decoded(response)

    def open_file(self, url: str) -> requests.Response:
        """A download link, opened as a stream; signed links take no credentials."""
        try:
            response = self.session().get(url, stream=True, timeout=self.timeout)
        except requests.exceptions.RequestException as exc:
            raise LinkRefused(str(exc)) from None
        if response.status_code != 200:
            response.close()
            raise LinkRefused(f"HTTP {response.status_code}")
        return response


def path_of(url: str) -> str:
    """A link's path and query, to ask on the host the run reaches BulkExport at."""
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def decoded(response: requests.Response) -> Any:
    """A JSON answer; one cut off is an error the stream's retries know."""
    try:
        return msgspec.json.decode(response.content)
    except msgspec.DecodeError as exc:
        raise requests.exceptions.ContentDecodingError(
            f"incomplete JSON in a {response.status_code} answer ({exc})") from None


def json_lines(response: requests.Response) -> Iterator[dict[str, Any]]:
    """The records of a gzip file of JSON lines, decompressed and parsed as they arrive."""
    inflate = zlib.decompressobj(wbits=31)
    tail = b""
    try:
        for chunk in response.raw.stream(1 << 16, decode_content=False):
            while chunk:
                data = tail + inflate.decompress(chunk)
                *lines, tail = data.split(b"\n")
                yield from (msgspec.json.decode(line) for line in lines if line.strip())
                chunk = inflate.unused_data  # a file may hold several gzip members
                if chunk:
                    tail += inflate.flush()
                    inflate = zlib.decompressobj(wbits=31)
    except (requests.exceptions.RequestException, OSError, zlib.error,
            msgspec.DecodeError) as exc:
        raise LinkRefused(f"download broke off: {exc}") from None
    finally:
        response.close()
    tail += inflate.flush()
    if not inflate.eof:
        raise LinkRefused("download broke off before the end of the file")
    if tail.strip():
        yield msgspec.json.decode(tail)
