"""Pages of a materialised list and Twilio's two list envelopes.

The newer APIs answer ``{<key>: [...], "meta": {..., "next_page_url": <absolute URL on
Twilio's host>}}``; the 2010 API answers ``{<key>: [...], "next_page_uri": <relative URI>,
"start", "end", ...}``.  A PageToken is ``PA``/``PB`` + the SID of the record at the page
boundary, as Twilio's, or an opaque index in lists whose records have no SID of their own.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from urllib.parse import urlencode

from .errors import bad_request

PAGING = ("PageSize", "Page", "PageToken")


@dataclass
class Page:
    records: list[dict]
    number: int
    size: int
    start: int  # index of the page's first record in the (filtered) list
    token: str | None  # the token this page was asked with
    next_token: str | None
    previous_token: str | None


def named_by_sid(records: list[dict]) -> bool:
    """Whether every record has a SID of its own (a flow's revisions share the flow's)."""
    sids = {r.get("sid") for r in records}
    return None not in sids and len(sids) == len(records)


def token_for(prefix: str, records: list[dict], index: int) -> str:
    if named_by_sid(records):
        return prefix + records[index]["sid"]
    return prefix + base64.urlsafe_b64encode(str(index).encode()).decode().rstrip("=")


def token_index(records: list[dict], token: str) -> int:
    """Index of the record a token names; 400 / 20001 for a token of no record."""
    body = token[2:]
    if token[:2] in ("PA", "PB") and named_by_sid(records):
        for i, rec in enumerate(records):
            if rec["sid"] == body:
                return i
    elif token[:2] in ("PA", "PB"):
        try:
            index = int(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode())
        except ValueError:
            index = -1
        if 0 <= index < len(records):
            return index
    raise bad_request(20001, f"Invalid PageToken: {token}")


def cut(records: list[dict], size: int, number: int, token: str | None) -> Page:
    """The page asked for: after (PA) or before (PB) the token's record, else by number."""
    if token and token.startswith("PB"):
        end = token_index(records, token)
        start = max(0, end - size)
    elif token:
        start = token_index(records, token) + 1
    else:
        start = number * size
    chunk = records[start : start + size]
    more = start + size < len(records)
    return Page(
        records=chunk,
        number=number,
        size=size,
        start=start,
        token=token,
        next_token=token_for("PA", records, start + size - 1) if more and chunk else None,
        previous_token=token_for("PB", records, start) if chunk and number > 0 else None,
    )


def _query(filters: list[tuple[str, str]], page: Page, number: int, token: str | None) -> str:
    pairs = [*filters, ("PageSize", str(page.size)), ("Page", str(number))]
    if token:
        pairs.append(("PageToken", token))
    return urlencode(pairs)


def meta_envelope(list_key: str, list_url: str, filters, page: Page) -> dict:
    """The newer APIs' envelope: absolute URLs on Twilio's host."""

    def url(number: int, token: str | None) -> str:
        return f"{list_url}?{_query(filters, page, number, token)}"

    return {
        list_key: page.records,
        "meta": {
            "first_page_url": url(0, None),
            "key": list_key,
            "next_page_url": url(page.number + 1, page.next_token) if page.next_token else None,
            "page": page.number,
            "page_size": page.size,
            "previous_page_url": (
                url(page.number - 1, page.previous_token) if page.previous_token else None
            ),
            "url": url(page.number, page.token),
        },
    }


def v2010_envelope(list_key: str, list_path: str, filters, page: Page) -> dict:
    """The 2010 API's envelope: URIs relative to the host."""

    def uri(number: int, token: str | None) -> str:
        return f"{list_path}?{_query(filters, page, number, token)}"

    count = len(page.records)
    return {
        list_key: page.records,
        "end": page.start + count - 1 if count else 0,
        "first_page_uri": uri(0, None),
        "next_page_uri": uri(page.number + 1, page.next_token) if page.next_token else None,
        "page": page.number,
        "page_size": page.size,
        "previous_page_uri": (
            uri(page.number - 1, page.previous_token) if page.previous_token else None
        ),
        "start": page.start,
        "uri": uri(page.number, page.token),
    }
