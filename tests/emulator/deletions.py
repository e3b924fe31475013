"""A test's control for what Twilio deletes: a released number, a deleted flow.

Twilio's DELETE on an instance URL removes the record from its list (recordings excepted:
they are kept 40 days with status `deleted`, which `DataStore.update` can set). The emulator
serves reads only, so a test deletes here, between two runs of the tap.
"""

from __future__ import annotations

from typing import Any


def delete(emulator: Any, stream: str, account_sid: str, sid: str) -> None:
    """Remove one record from the lists the emulator serves (and from its truth)."""
    if stream in emulator.platform.streams:
        delete_from_platform(emulator.platform, stream, account_sid, sid)
    else:
        delete_from_store(emulator.data, stream, account_sid, sid)


def delete_from_platform(platform: Any, stream: str, account_sid: str, sid: str) -> None:
    account = platform.store.by_sid[account_sid]
    definition = platform.streams[stream]
    for params in platform.lists(account, definition):
        records = platform.records(account, definition, params) or []
        for record in records:
            if record.get("sid") == sid:
                records.remove(record)  # the cached list every later answer is cut from
                return
    raise KeyError(f"{stream} {sid} not found in {account_sid}")


def delete_from_store(store: Any, resource: str, account_sid: str, sid: str) -> None:
    """A hand-written list's record: hidden as a record moved away is (data.py)."""
    key = (resource, account_sid)
    with store._lock:
        extras = store._extras.get(key, [])
        for j, (_, record) in enumerate(extras):
            if record.get("sid") == sid:
                del extras[j]
                return
        index = store.generator(resource, store.by_sid[account_sid]).index_of(sid)
        if index is None or index in store._moved.get(key, ()):
            raise KeyError(f"{resource} {sid} not found in {account_sid}")
        store._moved.setdefault(key, set()).add(index)
