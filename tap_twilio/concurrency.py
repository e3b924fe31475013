"""Read Twilio lists concurrently while the SDK emits records in one thread.

Twilio pages form a linked list (`next_page_uri`), so one walk is serial; but a date
window can be cut into slices, and a full list can be entered after any record whose SID
is known, each walked by its own worker (`walk_in_parallel`), and the next accounts' lists
can be started early (`FirstPagePrefetcher`). The
main thread receives whole pages and emits the records, so the SDK's state and child syncs
stay single-threaded. Every request of every thread passes through one `AdaptiveLimiter`,
which keeps each account's requests in flight under Twilio's concurrency limit.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

Query = TypeVar("Query")
Item = TypeVar("Item")  # what a walk hands over: pages (and what writing them completes)
_DONE = object()
PREFETCH_MIN_PAGE = 100  # records on a walk's first page for the rest to be read ahead
# A partition's fetches ahead, by request: each is handed where to leave the page after its own.
Fetches = dict[Any, Callable[["PagesAhead"], Any]]


def walk_in_parallel(
    queries: list[Query],
    walk: Callable[[Query], Iterable[Item]],
    max_workers: int,
) -> Iterator[Item]:
    """Yield the pages of every query, `max_workers` queries at a time.

    A worker's exception stops the others and is raised here, in the caller's thread.
    With one worker or one query the walks run one after the other, but each is read one
    page ahead: its first page is fetched here, the rest by a background thread while the
    caller emits the page before (measured: the request of page n+1 overlaps the emitting
    of page n). Requests in flight stay at one per walk; pages keep their order.
    """
    if max_workers <= 1 or len(queries) <= 1:
        for query in queries:
            walk_pages = iter(walk(query))
            first = next(walk_pages, None)
            if first is None:
                continue
            # A short first page means a short list (child lists): no thread for those.
            long = isinstance(first, list) and len(first) >= PREFETCH_MIN_PAGE
            rest = _in_threads([partial(iter, walk_pages)], 1) if long else None
            yield first
            if rest is not None:
                yield from rest
            else:
                yield from walk_pages
        return
    yield from _in_threads([partial(walk, query) for query in queries], max_workers)


def run_all(tasks: Sequence[Callable[[], Any]], max_workers: int) -> list[Any]:
    """Each task's result, in order, with up to `max_workers` running at once; the first
    failure is raised here."""
    if len(tasks) <= 1 or max_workers <= 1:
        return [task() for task in tasks]
    pool = DaemonPool(min(max_workers, len(tasks)), "twilio")
    try:
        futures = [pool.submit(task) for task in tasks]
        return [future.result() for future in futures]
    finally:
        pool.shutdown()


def _in_threads(
    sources: Sequence[Callable[[], Iterable[Item]]], max_workers: int
) -> Iterator[Item]:
    """The pages of every source, each source walked by a worker thread, as they arrive."""
    pages: queue.Queue[Any] = queue.Queue(maxsize=max_workers)  # bounds memory: a page each
    stop = threading.Event()

    def hand_over(item: Any) -> bool:
        """Queue an item for the caller; False once the caller has stopped reading."""
        while not stop.is_set():
            try:
                pages.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def run(source: Callable[[], Iterable[Item]]) -> None:
        try:
            for page in source():
                if not hand_over(page):
                    return
        except BaseException as exc:  # handed to the caller, who decides
            hand_over(exc)
        finally:
            hand_over(_DONE)

    # No more threads than sources: a window over many small subaccounts runs two per
    # list, and each new thread waits for the GIL to start while others are busy.
    pool = DaemonPool(min(max_workers, len(sources)), "twilio")
    for source in sources:
        pool.submit(partial(run, source))
    remaining = len(sources)
    try:
        while remaining:
            item = pages.get()
            if item is _DONE:
                remaining -= 1
            elif isinstance(item, BaseException):
                raise item
            else:
                yield item
    finally:
        # Early exit (an error, a signal, --test's one record): workers stop at their next
        # page instead of the caller waiting for walks that may be sleeping in a retry.
        stop.set()
        pool.shutdown()


class FirstPagePrefetcher:
    """Fetches the first pages of the lists the sync will read next, while it reads one.

    The SDK reads each account's lists one after the other, and most of them are one page,
    so a run over many subaccounts would wait one round trip per (account, list). The plan
    is the SDK's own order (account by account, stream by stream); for up to `ahead`
    partitions past the one being read, the first page of each of their queries is fetched
    by `workers` threads. A partition's pages are held by request (URL and parameters), so
    the stream takes only those it still asks for. A fetch may ask for the page after its
    own (`PagesAhead.follow`), held by that page's URL; so memory stays at the pages the
    fetches ask for (a few per list) for `ahead` partitions.
    """

    def __init__(self, workers: int, ahead: int) -> None:
        self._pool = DaemonPool(workers, "prefetch")
        self._ahead = ahead
        self._plan: list[tuple[Any, Callable[[], Fetches]]] = []
        self._position: dict[Any, int] = {}
        self._started: dict[Any, dict[Any, Future[Any]]] = {}
        self._next = 0  # first plan entry not yet started

    @property
    def enabled(self) -> bool:
        return self._ahead > 0

    def plan(self, entries: list[tuple[Any, Callable[[], Fetches]]]) -> None:
        """`(partition key, what makes its {request key: first-page fetch})` in the order
        the sync will ask for them; the fetches are made when the partition is started, so
        a plan over many accounts stays small. A later plan replaces an earlier one; pages
        already started stay."""
        if not self.enabled:
            return
        self._plan = entries
        self._position = {key: i for i, (key, _) in enumerate(entries)}
        self._next = 0
        self._start_until(self._ahead)

    def take(self, key: Any) -> dict[Any, Future[Any]]:
        """The future first pages of a partition by request key, and the pages after them
        by URL as their fetches ask for them (empty: none fetched)."""
        position = self._position.pop(key, None)
        if position is not None:
            self._start_until(position + 1 + self._ahead)
        return self._started.pop(key, {})

    def close(self) -> None:
        self._pool.shutdown()

    def _start_until(self, end: int) -> None:
        while self._next < min(end, len(self._plan)):
            key, make_fetches = self._plan[self._next]
            if key not in self._started:
                pages: dict[Any, Future[Any]] = {}
                self._started[key] = pages
                for request, fetch in make_fetches().items():
                    pages[request] = self._pool.submit(partial(fetch, PagesAhead(self._pool,
                                                                                 pages)))
            self._next += 1


class PagesAhead:
    """Where a fetch of `FirstPagePrefetcher` leaves the page after its own: in its
    partition's pages, by URL, fetched by the same workers.

    A fetch calls `follow` before it returns its page, so the page after it is in the
    partition's pages by the time the sync, holding that page, looks for it.
    """

    def __init__(self, pool: DaemonPool, pages: dict[Any, Future[Any]]) -> None:
        self._pool = pool
        self._pages = pages

    def follow(self, url: str, fetch: Callable[[PagesAhead], Any]) -> None:
        self._pages[url] = self._pool.submit(partial(fetch, self))


class DaemonPool:
    """A small thread pool whose threads never hold up the end of the process.

    `concurrent.futures` joins its threads when the interpreter exits, so a walk abandoned
    while sleeping between retries (a failed run, `--test`'s one record, a signal) kept a
    finished tap alive for minutes. Queued tasks are cancelled at `shutdown`; running ones
    end on their own, or with the process.
    """

    def __init__(self, workers: int, name: str) -> None:
        self._tasks: queue.SimpleQueue[tuple[Future[Any], Callable[[], Any]] | None] = (
            queue.SimpleQueue()
        )
        self._closed = False
        self._workers = max(1, workers)
        for number in range(self._workers):
            threading.Thread(target=self._work, name=f"{name}-{number}", daemon=True).start()

    def submit(self, task: Callable[[], Any]) -> Future[Any]:
        future: Future[Any] = Future()
        self._tasks.put((future, task))
        return future

    def shutdown(self) -> None:
        self._closed = True
        for _ in range(self._workers):
            self._tasks.put(None)

    def _work(self) -> None:
        while (item := self._tasks.get()) is not None:
            future, task = item
            if self._closed:
                future.cancel()
            elif future.set_running_or_notify_cancel():
                try:
                    future.set_result(task())
                except BaseException as exc:  # the future's owner decides
                    future.set_exception(exc)


@dataclass
class _Allowance:
    """One account's requests in flight and how many it may have."""

    allowed: int
    in_flight: int = 0
    successes: int = 0  # answers since the last change of `allowed`
    halvings: int = 0  # how many times `allowed` was halved so far


class AdaptiveLimiter:
    """Requests in flight per account, kept under Twilio's concurrency limit (AIMD).

    Twilio answers 429 (code 20429) to a request beyond the number an account may have in
    flight, a number it does not publish and that other programs using the account share.
    So each account starts at `maximum` (`max_concurrency`); a 429 halves what it may have
    in flight (never below 1), and each run of `SUCCESSES_PER_STEP` times that many answers
    without one adds one back (never above `maximum`). A 429 halves only once for the
    requests that were in flight together: those sent before the last halving met the old
    limit, and the halving already answered them.

    `slot(key)` wraps one request: it waits while the account is at its allowance, and
    counts the outcome when the request ends: the exception `throttled` (the 429) halves,
    an answer counts as a success, any other failure counts as neither.
    """

    SUCCESSES_PER_STEP = 4

    def __init__(self, maximum: int, throttled: type[BaseException]) -> None:
        self.maximum = max(1, maximum)
        self._throttled = throttled
        self._changed = threading.Condition()
        self._accounts: dict[Hashable, _Allowance] = {}

    def allowed(self, key: Hashable) -> int:
        """How many requests of this account may be in flight now."""
        with self._changed:
            return self._account(key).allowed

    @contextmanager
    def slot(self, key: Hashable) -> Iterator[None]:
        """One request of account `key`: waits for room, then counts how it ended."""
        with self._changed:
            account = self._account(key)
            self._changed.wait_for(lambda: account.in_flight < account.allowed)
            account.in_flight += 1
            sent_after = account.halvings
        try:
            yield
        except self._throttled:
            self._release(account, throttled=sent_after == account.halvings)
            raise
        except BaseException:
            self._release(account, succeeded=False)
            raise
        else:
            self._release(account, succeeded=True)

    def _account(self, key: Hashable) -> _Allowance:
        account = self._accounts.get(key)
        if account is None:
            account = self._accounts[key] = _Allowance(allowed=self.maximum)
        return account

    def _release(
        self, account: _Allowance, succeeded: bool = False, throttled: bool = False
    ) -> None:
        with self._changed:
            account.in_flight -= 1
            if throttled:
                account.allowed = max(1, account.allowed // 2)
                account.halvings += 1
                account.successes = 0
            elif succeeded and account.allowed < self.maximum:
                account.successes += 1
                if account.successes >= self.SUCCESSES_PER_STEP * account.allowed:
                    account.allowed += 1
                    account.successes = 0
            self._changed.notify_all()
