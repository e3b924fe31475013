"""Child lists (a message's media, a conference's participants) are read ahead, several at
once, while the SDK emits their parents: every child once, next to its parent as in a serial
run, nothing asked for a record without children, and the same final STATE."""

from __future__ import annotations

import json

from tests.emulator import Emulator
from tests.tap_runner import catalog_selecting, most_in_flight, record_key, run_tap, truth

SIZES = {"messages": 400, "conferences": 30}
PARENTS = {"message_media": ("messages", "parent_sid"),
           "conference_participants": ("conferences", "conference_sid")}
SELECTED = {"messages", "message_media", "conferences", "conference_participants"}


def children_out_of_place(stdout: str) -> list[str]:
    """Child records not written right before their parent (the SDK syncs a record's
    children, then writes the record)."""
    pending: list[tuple[str, str]] = []  # (child stream, parent SID) since the last parent
    misplaced = []
    for line in stdout.splitlines():
        message = json.loads(line)
        if message["type"] != "RECORD":
            continue
        stream, record = message["stream"], message["record"]
        if stream in PARENTS:
            pending.append((stream, record[PARENTS[stream][1]]))
        elif stream in ("messages", "conferences"):
            misplaced += [f"{child} of {sid} before {record['sid']}" for child, sid in pending
                          if sid != record["sid"] or PARENTS[child][0] != stream]
            pending = []
    return misplaced + [f"{child} of {sid} after every parent" for child, sid in pending]


def bookmarks(state: dict) -> dict[str, list[str]]:
    """Each stream's bookmarks, partitions in any order (accounts read ahead get their
    partition when planned, the others when read: the order may differ, not the values)."""
    return {stream: sorted(json.dumps(p, sort_keys=True) for p in entry.get("partitions", [entry]))
            for stream, entry in state["bookmarks"].items()}


def child_lists_asked(emu: Emulator, stream: str) -> list[str]:
    marker = "/Messages/" if stream == "message_media" else "/Conferences/"
    return [r.path.split(marker)[1].split("/")[0] for r in emu.requests if r.resource == stream]


def test_child_lists_are_read_several_at_once_each_once_with_the_serial_output() -> None:
    with Emulator(seed=5, subaccounts=1, sizes=SIZES, latency=0.03) as emu:
        catalog = catalog_selecting(emu.config(), SELECTED)
        emu.clear_requests()
        serial = run_tap(emu.config(max_concurrency=1), catalog=catalog)
        assert serial.returncode == 0, serial.stderr[-2000:]
        serial_media = [r for r in emu.requests if r.resource == "message_media"]

        emu.clear_requests()
        run = run_tap(emu.config(max_concurrency=4), catalog=catalog)
        assert run.returncode == 0, run.stderr[-2000:]
        media_requests = [r for r in emu.requests if r.resource == "message_media"]
        asked = {stream: child_lists_asked(emu, stream) for stream in PARENTS}

    # Every child once, and its list asked for once, only where the parent has children.
    for stream in PARENTS:
        expected = sorted(record_key(stream, r) for r in truth(emu, stream))
        assert sorted(record_key(stream, r) for r in run.records[stream]) == expected
    with_media = {m["sid"] for m in truth(emu, "messages") if int(m["num_media"]) > 0}
    assert 20 < len(with_media) < len(truth(emu, "messages"))
    assert sorted(asked["message_media"]) == sorted(with_media)
    live = {c["sid"] for c in truth(emu, "conferences") if c["status"] != "completed"}
    assert live
    assert sorted(asked["conference_participants"]) == sorted(live)

    # Several media lists in flight at once, never more than max_concurrency; one at a
    # time with max_concurrency 1.
    assert 1 < most_in_flight(media_requests) <= 4
    assert most_in_flight(serial_media) == 1

    # Children are written next to their parent, as in the serial run; same final STATE.
    assert children_out_of_place(run.stdout) == []
    assert children_out_of_place(serial.stdout) == []
    assert bookmarks(run.last_state) == bookmarks(serial.last_state)


def test_child_lists_read_ahead_survive_faults() -> None:
    with Emulator(seed=6, subaccounts=1, sizes=SIZES, latency=0.01) as emu:
        catalog = catalog_selecting(emu.config(), {"message_media"})
        emu.faults.configure(rate=0.1, kinds=("500", "503", "reset", "truncated-json"), seed=4)
        run = run_tap(emu.config(max_concurrency=8), catalog=catalog)
        injected = [kind for _, kind in emu.faults.injected]
    assert run.returncode == 0, run.stderr[-2000:]
    assert len(injected) >= 3, "no fault was injected: nothing was tested"
    keys = [record_key("message_media", r) for r in run.records["message_media"]]
    assert len(keys) == len(set(keys))
    assert sorted(keys) == sorted(record_key("message_media", r)
                                  for r in truth(emu, "message_media"))


def test_no_child_list_is_asked_for_when_the_child_stream_is_not_selected(emulator) -> None:
    catalog = catalog_selecting(emulator.config(), {"messages", "conferences"})
    emulator.clear_requests()
    run = run_tap(emulator.config(max_concurrency=8), catalog=catalog)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.records["messages"] and run.records["conferences"]
    asked = {r.resource for r in emulator.requests}
    assert not asked & {"message_media", "conference_participants"}
