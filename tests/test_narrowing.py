"""Every record of every list: lists whose documented defaults hide records are read whole.

Twilio's specs say, in their parameter texts, which lists hide records unless asked: Video's
rooms show only `in-progress` rooms, a room's participants only those of the room's state,
TaskRouter's events and Insights' call summaries only the last minutes or hours, recordings
no deleted ones. Twilio's changelog adds one the spec's text does not say: the 2010 API's
conferences show only `in-progress` ones. The first test reads those texts itself (not the
generator's output) and fails when a list of the stream table has such a default the table
does not handle; the others read the lists through the tap from the emulator, which serves
the defaults as Twilio documents them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.emulator import Emulator
from tests.tap_lists import LIST_OF, list_sizes
from tests.tap_runner import TapRun, catalog_selecting, record_key, run_tap
from tests.test_schemas import SPEC_DIR
from tests.test_stream_table import ROWS

# Words of a parameter text that may announce a default hiding records.
MAY_NARROW = re.compile(r"default|deleted|in-progress|\blast\b|unless", re.IGNORECASE)
PAGING = {"PageSize", "Page", "PageToken"}
FILTER = "a filter applied only when sent: without it every record is listed"
ORDER = "the order of the records, not which"
ALL_ALREADY = "the default already lists every record"
UNTIL_NOW = "the upper bound defaults to now"
HOW_SHOWN = "how a record is shown (redaction, timestamps), not which records"
# Each parameter whose text uses one of those words and whose default hides no record.
REVIEWED = {
    ("calls", "Status"): FILTER,
    ("conferences", "DateUpdated"): FILTER,
    ("conferences", "DateUpdated<"): FILTER,
    ("conferences", "DateUpdated>"): FILTER,
    ("conversations_messages", "Order"): ORDER,
    ("incoming_phone_numbers", "Beta"): ALL_ALREADY,
    ("incoming_phone_numbers", "Origin"): ALL_ALREADY,
    ("insights_call_summaries", "EndTime"): UNTIL_NOW,
    ("insights_call_summaries", "AbnormalSession"): FILTER,
    ("insights_conference_summaries", "EndReason"): FILTER,
    ("intelligence_transcript_operator_results", "Redacted"): HOW_SHOWN,
    ("intelligence_transcript_sentences", "Redacted"): HOW_SHOWN,
    ("intelligence_transcript_sentences", "WordTimestamps"): HOW_SHOWN,
    ("notifications", "Log"): ALL_ALREADY,
    ("numbers_bundles", "SortBy"): ORDER,
    ("numbers_bundles", "SortDirection"): ORDER,
    ("serverless_logs", "EndDate"): UNTIL_NOW,
    ("supersim_settings_updates", "Status"): FILTER,
    ("sync_list_items", "Order"): ORDER,
    ("sync_list_items", "Bounds"): "whether the item named by `From` is included (not sent)",
    ("sync_map_items", "Order"): ORDER,
    ("sync_map_items", "Bounds"): "whether the item named by `From` is included (not sent)",
    ("taskrouter_task_queue_statistics", "Minutes"): (
        "the window the statistics are computed over: every queue is listed"),
    ("taskrouter_task_queue_statistics", "TaskChannel"): FILTER,
    ("taskrouter_tasks", "Ordering"): ORDER,
    ("usage_records", "IncludeSubaccounts"): (
        "widens, not narrows: the tap sends `false` so each account's rows are its own"),
    ("verify_entity_challenges", "Order"): ORDER,
    ("video_compositions", "Status"): FILTER,
    ("video_recordings", "Status"): FILTER,
    ("video_room_recordings", "Status"): FILTER,
}


def spec_parameters(row: dict[str, Any]) -> list[dict[str, Any]]:
    assert SPEC_DIR is not None
    spec = json.loads((SPEC_DIR / f"twilio_{row['api']}.json").read_text("utf-8"))
    parameters = spec["paths"][row["path"]]["get"].get("parameters", [])
    return [p for p in parameters if p.get("in") == "query" and p["name"] not in PAGING]


def test_every_list_with_a_narrowing_default_is_read_whole_by_the_table() -> None:
    unhandled, stale, handled = [], [], []
    for row in ROWS:
        asked = {ask["parameter"] for ask in row["narrowing"]}
        for parameter in spec_parameters(row):
            name = parameter["name"]
            if not MAY_NARROW.search(parameter.get("description") or ""):
                continue
            if name in asked:
                handled.append((row["name"], name))
                if (row["name"], name) in REVIEWED:
                    stale.append((row["name"], name))
            elif (row["name"], name) not in REVIEWED:
                unhandled.append((row["name"], name, parameter.get("description")))
    assert unhandled == []
    assert stale == []
    assert ("video_rooms", "Status") in handled and ("recordings", "IncludeSoftDeleted") in handled
    assert ("conferences", "Status") in handled  # documented outside the specs


def test_a_status_asked_value_by_value_takes_every_value_of_the_spec_s_enum() -> None:
    assert SPEC_DIR is not None
    checked = 0
    for row in ROWS:
        spec = json.loads((SPEC_DIR / f"twilio_{row['api']}.json").read_text("utf-8"))
        for ask in row["narrowing"]:
            if ask["ask"] != "each":
                continue
            parameter = next(p for p in spec_parameters(row) if p["name"] == ask["parameter"])
            ref = parameter["schema"]["$ref"].rsplit("/", 1)[-1]
            assert ask["values"] == spec["components"]["schemas"][ref]["enum"], row["name"]
            checked += 1
    assert checked == 3  # rooms, their participants, and conferences


def test_the_table_s_reviewed_parameters_are_parameters_of_its_lists() -> None:
    by_name = {row["name"] for row in ROWS}
    assert {stream for stream, _ in REVIEWED} <= by_name


# --- read through the tap from the emulator --------------------------------------------------

NARROWED = ["video_rooms", "video_room_participants", "taskrouter_workspace_events",
            "insights_call_summaries", "serverless_logs", "recordings", "conferences"]
# The 2010 API's lists among them, whose truth the emulator keeps by resource.
LEGACY = {"recordings", "conferences"}
SIZES = {"video_rooms": 9, "video_room_participants": 5, "taskrouter_workspace_events": 6,
         "insights_call_summaries": 6, "serverless_logs": 4}


@pytest.fixture(scope="module")
def narrowed() -> Iterator[tuple[Emulator, TapRun, dict[str, Any]]]:
    with Emulator(seed=26, subaccounts=1, sizes={"recordings": 6, "conferences": 12},
                  platform_sizes=list_sizes(SIZES),
                  platform_subaccount_sizes=[list_sizes(SIZES)]) as emu:
        deleted = emu.truth("recordings", emu.account_sid)[2]
        emu.data.update("recordings", emu.account_sid, deleted["sid"], status="deleted")
        config = emu.config(page_size=4)
        run = run_tap(config, catalog=catalog_selecting(config, set(NARROWED)))
        assert run.returncode == 0, run.stderr[-3000:]
        yield emu, run, deleted


def truth(emu: Emulator, stream: str, account: str) -> list[dict[str, Any]]:
    """The emulator's records of a stream's list: the 2010 API's by resource, the others by
    the list the stream's row names."""
    if stream in LEGACY:
        return emu.truth(stream, account)
    return emu.platform_truth(LIST_OF[stream], account)


def listed_without_asking(emu: Emulator, stream: str, url: str) -> int:
    """How many records one list answers when asked as the tap did before: no status, no
    time, no IncludeSoftDeleted (every page followed)."""
    count, auth = 0, (emu.account_sid, emu.auth_token)
    next_url: str | None = emu.url + url
    while next_url:
        page = requests.get(next_url, auth=auth, timeout=10).json()
        key = next(k for k in page if isinstance(page[k], list))
        count += len(page[key])
        next_url = (page.get("meta") or {}).get("next_page_url") or (
            emu.url + page["next_page_uri"] if page.get("next_page_uri") else None)
    return count


@pytest.mark.parametrize("stream", NARROWED)
def test_a_list_with_a_narrowing_default_arrives_whole(narrowed, stream: str) -> None:
    emu, run, _ = narrowed
    every = [record_key(stream, r) for account in (emu.account_sid, *emu.subaccount_sids)
             for r in truth(emu, stream, account)]
    emitted = [record_key(stream, r) for r in run.records[stream]]
    assert len(every) > 4, stream  # more than a page, so paging is part of it
    assert sorted(emitted, key=str) == sorted(every, key=str)


def test_rooms_asked_without_a_status_would_miss_the_completed_ones(narrowed) -> None:
    emu, run, _ = narrowed
    own = [r for r in run.records["video_rooms"] if r["account_sid"] == emu.account_sid]
    shown = listed_without_asking(emu, "video_rooms", "/video.twilio.com/v1/Rooms")
    assert {r["status"] for r in own} >= {"in-progress", "completed"}
    assert shown == sum(r["status"] == "in-progress" for r in own) < len(own)


def test_conferences_asked_without_a_status_would_miss_the_completed_ones(narrowed) -> None:
    emu, run, _ = narrowed
    own = [r for r in run.records["conferences"] if r["account_sid"] == emu.account_sid]
    shown = listed_without_asking(
        emu, "conferences", f"/2010-04-01/Accounts/{emu.account_sid}/Conferences.json")
    assert {r["status"] for r in own} >= {"in-progress", "completed"}
    assert shown == sum(r["status"] == "in-progress" for r in own) < len(own)


def test_participants_asked_without_a_status_would_miss_some(
        narrowed) -> None:
    emu, run, _ = narrowed
    rooms = {r["sid"]: r["status"] for r in run.records["video_rooms"]
             if r["account_sid"] == emu.account_sid}
    participants = [p for p in run.records["video_room_participants"]
                    if p["room_sid"] in rooms]
    shown = sum(listed_without_asking(emu, "video_room_participants",
                                      f"/video.twilio.com/v1/Rooms/{sid}/Participants")
                for sid in rooms)
    assert participants
    assert shown < len(participants)


def test_events_asked_without_a_time_would_show_only_the_last_15_minutes(narrowed) -> None:
    emu, run, _ = narrowed
    events = [e for e in run.records["taskrouter_workspace_events"]
              if e["account_sid"] == emu.account_sid]
    workspaces = {e["workspace_sid"] for e in events}
    shown = sum(listed_without_asking(emu, "taskrouter_workspace_events",
                                      f"/taskrouter.twilio.com/v1/Workspaces/{sid}/Events")
                for sid in workspaces)
    assert len(events) > shown


def test_a_deleted_recording_arrives_with_status_deleted(narrowed) -> None:
    emu, run, deleted = narrowed
    arrived = {r["sid"]: r for r in run.records["recordings"]}
    shown = listed_without_asking(
        emu, "recordings", f"/2010-04-01/Accounts/{emu.account_sid}/Recordings.json")
    assert arrived[deleted["sid"]]["status"] == "deleted"
    own = [r for r in run.records["recordings"] if r["account_sid"] == emu.account_sid]
    assert shown == len(own) - 1


def test_a_recording_deleted_after_a_run_arrives_deleted_in_the_next_incremental_run() -> None:
    with Emulator(seed=28, subaccounts=0, sizes={"recordings": 8}) as emu:
        config = emu.config()
        catalog = catalog_selecting(config, {"recordings"})
        first = run_tap(config, catalog=catalog)
        assert first.returncode == 0, first.stderr[-3000:]
        newest = emu.truth("recordings", emu.account_sid)[0]
        emu.data.update("recordings", emu.account_sid, newest["sid"], status="deleted")
        second = run_tap(config, catalog=catalog, state=first.last_state)
    assert second.returncode == 0, second.stderr[-3000:]
    assert len(second.records["recordings"]) < len(first.records["recordings"])  # a window
    again = {r["sid"]: r["status"] for r in second.records["recordings"]}
    assert again[newest["sid"]] == "deleted"


def test_a_conference_that_ends_after_a_run_arrives_completed_in_the_next_incremental_run(
) -> None:
    with Emulator(seed=28, subaccounts=0, sizes={"conferences": 8}) as emu:
        config = emu.config()
        catalog = catalog_selecting(config, {"conferences"})
        first = run_tap(config, catalog=catalog)
        assert first.returncode == 0, first.stderr[-3000:]
        live = next(c for c in emu.truth("conferences", emu.account_sid)
                    if c["status"] == "in-progress")
        emu.data.update("conferences", emu.account_sid, live["sid"], status="completed",
                        date_updated=emu.now, reason_conference_ended="last-participant-left")
        second = run_tap(config, catalog=catalog, state=first.last_state)
    assert second.returncode == 0, second.stderr[-3000:]
    assert len(second.records["conferences"]) < len(first.records["conferences"])  # a window
    again = {r["sid"]: r["status"] for r in second.records["conferences"]}
    assert again[live["sid"]] == "completed"
