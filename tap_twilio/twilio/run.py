"""What reading Twilio shares across one run: the accounts' credentials and creation days,
the limiter of requests in flight, the read-ahead, the hosts that answered, warnings said.

The tap makes one `TwilioRun` (part of its `Run`, see tap_twilio/run.py) before any thread
starts; every stream's reader is handed it.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from requests.auth import HTTPBasicAuth

from tap_twilio.twilio.bulkexport import DailyAllowance
from tap_twilio.twilio.concurrency import AdaptiveLimiter, FirstPagePrefetcher
from tap_twilio.twilio.http import TooManyRequests


@dataclass
class Accounts:
    """The accounts a run reads: the main account's credentials, and from the Accounts
    list each subaccount's creation day (for date slicing) and Auth Token (for Twilio's
    newer APIs; in memory only, never in a record, log or state)."""

    main: str  # the main account's SID (`account_sid`)
    main_auth: HTTPBasicAuth  # the settings' credentials: an API key's or the Auth Token
    created: dict[str, dt.date] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Accounts:
        if config.get("api_key_sid"):
            auth = HTTPBasicAuth(config["api_key_sid"], config["api_key_secret"])
        else:
            auth = HTTPBasicAuth(config["account_sid"], config["auth_token"])
        return cls(config["account_sid"], auth)

    def credentials(self, account: str | None, own: bool) -> HTTPBasicAuth | None:
        """Who asks for an account's pages: the settings' credentials, or where the API
        serves a subaccount only to its own (`own`: the newer APIs, BulkExport) the
        subaccount's SID and Auth Token. None: no credentials can (an API key's run)."""
        if not own or not account or account == self.main:
            return self.main_auth
        token = self.tokens.get(account)
        return HTTPBasicAuth(account, token) if token else None


class WarnOnce:
    """Warnings that hold for the whole run, each logged once."""

    def __init__(self, logger: logging.Logger) -> None:
        self.logger = logger
        self.said: set[str] = set()

    def __call__(self, warning: str) -> None:
        if warning and warning not in self.said:
            self.said.add(warning)
            self.logger.warning(warning)


@dataclass(kw_only=True)
class TwilioRun:
    """What every list's reader of one run shares."""

    accounts: Accounts
    # Every request of every thread passes through it: requests in flight per account,
    # lowered after a 429, up to `max_concurrency`.
    limiter: AdaptiveLimiter
    prefetcher: FirstPagePrefetcher  # the first pages of the next accounts' lists
    warn_once: WarnOnce
    answered_origins: set[str] = field(default_factory=set)  # scheme://host:port that answered
    gave_up: threading.Event = field(default_factory=threading.Event)  # a request gave up
    export_allowance: DailyAllowance = field(default_factory=DailyAllowance)

    @classmethod
    def from_config(cls, config: Mapping[str, Any], logger: logging.Logger) -> TwilioRun:
        """A run's shared parts, made from its settings.

        The read-ahead keeps four times as many lists ahead as workers: a list of several
        pages is a chain of round trips (an account's daily usage records), started that
        many lists before the sync reaches it, so that it is read by then."""
        workers = int(config.get("max_concurrency", 8))
        return cls(
            accounts=Accounts.from_config(config),
            limiter=AdaptiveLimiter(workers, TooManyRequests),
            prefetcher=FirstPagePrefetcher(workers=workers,
                                           ahead=4 * workers if workers > 1 else 0),
            warn_once=WarnOnce(logger),
        )
