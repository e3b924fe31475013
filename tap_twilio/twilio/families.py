"""Twilio's API families: where a list page keeps its records and the link to the next page.

The 2010 API (`api.twilio.com/2010-04-01`) puts `next_page_uri` (a path on its host) beside
the list; Twilio's newer APIs (Monitor, Studio, Conversations, ...) put an absolute
`next_page_url` in a `meta` object. Everything else about walking a list is the same, so a
stream names its family and the walker asks the family.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ApiFamily:
    """How one family of Twilio APIs pages its lists."""

    name: str
    link_key: str  # the key of the next page's link
    in_meta: bool  # whether that key sits in the page's `meta` object

    def next_link(self, body: Any) -> str | None:
        """The next page's link as Twilio gave it (a path on the host, or an absolute URL),
        or None on the last page."""
        holder = (body.get("meta") or {}) if self.in_meta else body
        link = holder.get(self.link_key) if isinstance(holder, dict) else None
        return str(link) if link else None


API_2010 = ApiFamily("2010", link_key="next_page_uri", in_meta=False)
API_META = ApiFamily("meta", link_key="next_page_url", in_meta=True)


def page_records(body: Any, list_key: str | None) -> list[dict[str, Any]]:
    """A page's records: its list under `list_key`, or the body itself for a single object."""
    if list_key is None:
        return [body]
    records: list[dict[str, Any]] = body.get(list_key) or []
    return records
