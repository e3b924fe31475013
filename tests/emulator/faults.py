"""Fault injection for retry tests: transient errors, dropped and truncated responses, denials."""

from __future__ import annotations

import random
import threading
from collections.abc import Iterable

FAULT_KINDS = (
    "429",
    "429-retry-after",
    "500",
    "502",
    "503",
    "504",
    "reset",
    "truncated",
    "truncated-json",
)


class FaultInjector:
    """Decides, per request, whether and how it fails.

    - ``configure(rate, kinds, seed)``: each request independently fails with probability
      ``rate`` with one of ``kinds``; the draw is a pure function of (seed, request number).
    - ``fail_from(n, kind)``: counting from this call (0-based), request n and every later
      one fails with ``kind`` (``fail_from(0, "503")``: everything fails from now on).
    - ``deny(account_sid, resource, status)``: that account's resource answers 403 or 404.
    - ``clear()``: no faults.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.clear()

    def clear(self) -> None:
        with self._lock:
            self.rate = 0.0
            self.kinds: tuple[str, ...] = ()
            self.seed = 0
            self._counter = 0
            self._fail_from: tuple[int, str] | None = None
            self._denied: dict[tuple[str, str], int] = {}
            self.injected: list[tuple[int, str]] = []  # (request number, kind) history

    def configure(
        self, rate: float = 0.1, kinds: Iterable[str] = FAULT_KINDS, seed: int = 1
    ) -> None:
        kinds = tuple(kinds)
        unknown = [k for k in kinds if k not in FAULT_KINDS]
        if unknown:
            raise ValueError(f"unknown fault kinds {unknown}; known: {FAULT_KINDS}")
        with self._lock:
            self.rate, self.kinds, self.seed = float(rate), kinds, seed
            self._counter = 0

    def fail_from(self, n: int, kind: str) -> None:
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; known: {FAULT_KINDS}")
        with self._lock:
            self._fail_from = (self._counter + n, kind)

    def deny(self, account_sid: str, resource: str, status: int = 403) -> None:
        if status not in (403, 404):
            raise ValueError("status must be 403 or 404")
        with self._lock:
            self._denied[(account_sid, resource)] = status

    def denied(self, account_sid: str | None, resource: str | None) -> int | None:
        if account_sid is None or resource is None:
            return None
        return self._denied.get((account_sid, resource))

    def next_fault(self) -> str | None:
        """Called once per request: the fault to inject, if any."""
        with self._lock:
            n = self._counter
            self._counter += 1
            kind = None
            if self._fail_from is not None and n >= self._fail_from[0]:
                kind = self._fail_from[1]
            elif self.rate > 0 and self.kinds:
                rng = random.Random(f"{self.seed}:{n}")
                if rng.random() < self.rate:
                    kind = rng.choice(self.kinds)
            if kind:
                self.injected.append((n, kind))
            return kind


class ConcurrencyLimit:
    """Twilio's per-account limit on requests in flight: beyond ``max_in_flight`` requests
    of one account at once, a request is answered 429 (code 20429) at once.

    ``max_in_flight=None`` (the default) is no limit. ``retry_after``: seconds sent as
    ``Retry-After`` with such a 429 (None: no header, as Twilio's 2010 API). ``rejected``
    counts the 429s answered for the limit; ``peak`` is the most requests of one account
    seen in flight together.
    """

    def __init__(self, max_in_flight: int | None = None, retry_after: float | None = None) -> None:
        self._lock = threading.Lock()
        self.max_in_flight = max_in_flight
        self.retry_after = retry_after
        self._in_flight: dict[str, int] = {}
        self.rejected = 0
        self.peak = 0

    def enter(self, account_sid: str) -> bool:
        """Count a request of this account in; False (and counted as rejected) when the
        account already has ``max_in_flight`` requests in flight."""
        with self._lock:
            busy = self._in_flight.get(account_sid, 0)
            if self.max_in_flight is not None and busy >= self.max_in_flight:
                self.rejected += 1
                return False
            self._in_flight[account_sid] = busy + 1
            self.peak = max(self.peak, busy + 1)
            return True

    def leave(self, account_sid: str) -> None:
        """A request counted in by ``enter`` has its answer."""
        with self._lock:
            self._in_flight[account_sid] -= 1

    def reset_counts(self) -> None:
        with self._lock:
            self.rejected = 0
            self.peak = max(self._in_flight.values(), default=0)
