"""Read several queries of one list at once and hand their pages over as they arrive.

Twilio pages form a linked list (`next_page_uri`), so one list cannot be fetched in
parallel; its date window can. Each query (a date slice) is walked by its own worker; the
main thread receives whole pages and emits the records, so the SDK's state and child syncs
stay single-threaded.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

Query = TypeVar("Query")
_DONE = object()


def walk_in_parallel(
    queries: list[Query],
    walk: Callable[[Query], Iterable[list[dict]]],
    max_workers: int,
) -> Iterator[list[dict]]:
    """Yield the pages of every query, `max_workers` queries at a time.

    A worker's exception stops the others and is raised here, in the caller's thread.
    """
    if max_workers <= 1 or len(queries) <= 1:
        for query in queries:
            yield from walk(query)
        return
    pages: queue.Queue[Any] = queue.Queue(maxsize=max_workers * 2)  # bounds memory
    stop = threading.Event()

    def run(query: Query) -> None:
        try:
            for page in walk(query):
                if stop.is_set():
                    return
                pages.put(page)
        except BaseException as exc:  # handed to the caller, who decides
            pages.put(exc)
        finally:
            pages.put(_DONE)

    with ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="twilio") as pool:
        for query in queries:
            pool.submit(run, query)
        remaining = len(queries)
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
            stop.set()
            while remaining:  # unblock workers waiting on a full queue
                try:
                    if pages.get(timeout=0.1) is _DONE:
                        remaining -= 1
                except queue.Empty:
                    pass
