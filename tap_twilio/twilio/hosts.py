"""Where each Twilio API lives: its product host, Twilio's regions and edges, one base URL.

Twilio's clients reach a product at `{product}.{edge}.{region}.twilio.com` (e.g.
`api.dublin.ie1.twilio.com`); with an edge and no region the region is `us1`, as in Twilio's
own helper libraries. `base_url` sends every request to one place instead (a proxy, the
project's emulator): a host's requests go to `{base_url}/{host}/...`, and the absolute
links Twilio returns are mapped onto it, so a run never bypasses it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

TWILIO_DOMAIN = "twilio.com"


@dataclass(frozen=True)
class Hosts:
    """The `region`, `edge` and `base_url` settings, applied to Twilio's hosts."""

    region: str | None = None
    edge: str | None = None
    base_url: str | None = None

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Hosts:
        base = config.get("base_url")
        return cls(config.get("region") or None, config.get("edge") or None,
                   str(base).rstrip("/") if base else None)

    def host(self, product_host: str) -> str:
        """`studio.twilio.com` with the edge and region: `studio.dublin.ie1.twilio.com`."""
        product = product_host.removesuffix("." + TWILIO_DOMAIN)
        region = self.region or ("us1" if self.edge else None)
        return ".".join(part for part in (product, self.edge, region, TWILIO_DOMAIN) if part)

    def url(self, product_host: str) -> str:
        """The URL a product's paths are appended to."""
        host = self.host(product_host)
        return f"{self.base_url}/{host}" if self.base_url else f"https://{host}"

    def follow(self, link: str) -> str:
        """An absolute link Twilio returned, sent through `base_url` when one is set."""
        if not self.base_url:
            return link
        parts = urlsplit(link)
        if not parts.netloc.endswith("." + TWILIO_DOMAIN):
            return link  # already the base URL's (a proxy that rewrites its links)
        query = f"?{parts.query}" if parts.query else ""
        return f"{self.base_url}/{parts.netloc}{parts.path}{query}"
