"""The pure side of a stopped run's progress: day ranges merged, what is left, marks applied."""

from __future__ import annotations

import datetime as dt
import json

from tap_twilio.twilio.progress import (
    HEAD,
    KeptProgress,
    Mark,
    PartitionProgress,
    named_days,
    pages_kept,
    share_out,
)
from tap_twilio.twilio.window import days_left, merge_days

D = dt.date.fromisoformat


def test_done_days_are_merged_when_they_overlap_or_touch() -> None:
    assert merge_days([(D("2024-03-01"), D("2024-03-31")), (D("2024-01-01"), D("2024-01-31")),
                       (D("2024-02-01"), D("2024-02-10"))]) == [
        (D("2024-01-01"), D("2024-02-10")), (D("2024-03-01"), D("2024-03-31"))]


def test_days_left_are_the_window_less_the_done_days() -> None:
    done = [(D("2024-01-10"), D("2024-01-19")), (D("2024-01-25"), D("2024-02-05"))]
    assert days_left(D("2024-01-01"), D("2024-01-31"), done) == [
        (D("2024-01-01"), D("2024-01-09")), (D("2024-01-20"), D("2024-01-24"))]
    assert days_left(D("2024-01-01"), D("2024-01-31"), []) == [(D("2024-01-01"), D("2024-01-31"))]
    assert days_left(D("2024-01-01"), D("2024-01-31"), [(D("2023-01-01"), D("2025-01-01"))]) == []


def test_what_is_left_is_cut_into_slices_covering_it_exactly() -> None:
    ranges = [(D("2024-01-01"), D("2024-03-31")), (D("2024-06-01"), D("2024-06-02"))]
    slices = share_out(ranges, 8)
    assert merge_days(slices) == ranges
    days = sum((b - a).days + 1 for a, b in slices)
    assert days == sum((b - a).days + 1 for a, b in ranges)  # no day twice
    assert 8 <= len(slices) <= 10


def test_marks_keep_unfinished_walks_and_finished_days_only() -> None:
    progress = PartitionProgress()
    key = "/Messages.json?PageSize=50"
    progress.apply(Mark(key, HEAD, "/Messages.json?Page=1", head="SM1"))
    progress.apply(Mark(key, "2024-01-01..2024-01-31", "/Messages.json?PageToken=PASM5"))
    progress.apply(Mark(key, "2024-01-01..2024-01-31", None,
                        days=(D("2024-01-01"), D("2024-01-31"))), "2024-05-01T00:00:00+00:00")
    progress.apply(Mark(key, "2024-02-01..2024-02-29", None,
                        days=(D("2024-02-01"), D("2024-02-29"))))
    state = json.loads(json.dumps(progress.as_state()))  # what a STATE carries
    assert state == {"replication_key_value": "2024-05-01T00:00:00+00:00", "lists": {key: {
        "head": "SM1", "walks": {HEAD: "/Messages.json?Page=1"},
        "days": [["2024-01-01", "2024-02-29"]]}}}

    resumed = PartitionProgress(state).saved_list(key)
    assert resumed.head == "SM1" and resumed.walks == {HEAD: "/Messages.json?Page=1"}
    assert resumed.days == [(D("2024-01-01"), D("2024-02-29"))]
    progress.apply(Mark(key, finished=True))
    assert progress.as_state()["lists"][key] == {"finished": True}


def test_unreadable_progress_counts_as_none() -> None:
    saved = PartitionProgress({"lists": {"k": {"days": [["x", "y"]]}}})
    assert not saved.saved_list("k").resumable
    assert named_days("head") is None
    assert named_days("2024-01-01..2024-01-31") == (D("2024-01-01"), D("2024-01-31"))


def test_a_mark_is_kept_only_once_the_page_before_it_is_written() -> None:
    state: dict = {"progress_markers": {"replication_key_value": "2024-05-01T00:00:00+00:00"}}
    asked: list[int] = []
    kept = KeptProgress(state, lambda: asked.append(1))
    pages = pages_kept(iter([[{"sid": "SM1"}], Mark("k", HEAD, "/next", head="SM1"),
                             [{"sid": "SM2"}], Mark("k", finished=True)]), kept)
    assert next(pages) == [{"sid": "SM1"}]
    assert "progress" not in state  # the page is being written
    assert next(pages) == [{"sid": "SM2"}]
    assert state["progress"] == {"replication_key_value": "2024-05-01T00:00:00+00:00",
                                 "lists": {"k": {"head": "SM1", "walks": {HEAD: "/next"}}}}
    assert asked == [1]
    assert list(pages) == []
    assert "progress" not in state  # every page written: the bookmark alone
