"""Incremental sync: per-account bookmarks drive Twilio's date filters, late changes are
re-read within `lookback_days`, null-dated records are not lost, subaccounts all arrive."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from tests.emulator import Emulator
from tests.emulator.values import parse_record_ts
from tests.tap_runner import catalog_selecting, run_tap

INCREMENTAL = {"calls": ("start_time", "StartTime>"), "messages": ("date_sent", "DateSent>"),
               "conferences": ("date_updated", "DateUpdated>"),
               "notifications": ("message_date", "MessageDate>"),
               "recordings": ("date_created", "DateCreated>"),
               "usage_records": ("start_date", "StartDate")}
NULL_DATED = {"calls", "messages"}  # listed unfiltered too: Twilio's filters skip null dates
SIZES = {"messages": 400, "calls": 200, "conferences": 30, "notifications": 50,
         "recordings": 40}


@pytest.fixture
def emu() -> Iterator[Emulator]:
    # Subaccounts of very different sizes and ages: 3 years, 2 years, a week.
    with Emulator(seed=31, subaccounts=2, sizes=SIZES, account_ages_days=[1100, 700, 7],
                  subaccount_sizes=[{"messages": 900, "calls": 20}, {"messages": 15}]) as emu:
        yield emu


def partitions(state: dict, stream: str) -> dict[str, dict]:
    """A stream's state entries keyed by account SID."""
    entries = state["bookmarks"][stream]["partitions"]
    return {entry["context"]["account_sid"]: entry for entry in entries}


def sync(emu: Emulator, catalog: dict, state: dict | None = None, **settings):
    emu.clear_requests()
    run = run_tap(emu.config(**settings), catalog=catalog, state=state)
    assert run.returncode == 0, run.stderr[-3000:]
    return run


@pytest.fixture
def catalog(emu) -> dict:
    return catalog_selecting(emu.config(), {"accounts", *INCREMENTAL})


def test_bookmarks_are_kept_per_account(emu, catalog) -> None:
    run = sync(emu, catalog)
    accounts = {emu.account_sid, *emu.subaccount_sids}
    for stream, (key, _) in INCREMENTAL.items():
        bookmarks = partitions(run.last_state, stream)
        assert set(bookmarks) == accounts, stream
        for sid, entry in bookmarks.items():
            newest = max(r[key] for r in run.records[stream]
                         if r["account_sid"] == sid and r[key])
            assert entry["replication_key_value"] == newest, (stream, sid)
            assert "progress_markers" not in entry
    # The week-old subaccount's bookmark does not hold back the others, nor the reverse.
    message_marks = {s: e["replication_key_value"]
                     for s, e in partitions(run.last_state, "messages").items()}
    assert len(set(message_marks.values())) == len(accounts)


@pytest.mark.parametrize("page_size", [1000, 100])
def test_second_run_asks_only_for_the_window_after_each_bookmark(
    emu, catalog, page_size
) -> None:
    first = sync(emu, catalog)
    new = emu.data.add("messages", emu.subaccount_sids[0], 3)
    second = sync(emu, catalog, state=first.last_state, lookback_days=2, page_size=page_size)
    for stream, (key, param) in INCREMENTAL.items():
        for sid, entry in partitions(first.last_state, stream).items():
            bookmark = dt.date.fromisoformat(entry["replication_key_value"][:10])
            since = (bookmark - dt.timedelta(days=2)).isoformat()
            resource = "usage_records_daily" if stream == "usage_records" else stream
            starts = [r.query for r in emu.requests if r.resource == resource
                      and r.account_sid == sid and "PageToken" not in r.query]
            dated = [q[param] for q in starts if param in q]
            if stream in NULL_DATED and len(emu.truth(stream, account_sid=sid)) <= page_size:
                # The null-date sweep's first page is the whole list: the window is taken
                # from it, not asked for again.
                assert starts == [{"PageSize": str(page_size)}], (stream, sid, starts)
            else:
                assert dated and min(dated) == since, (stream, sid, starts)
            # Exactly the records Twilio lists for that window, no older ones.
            emitted = {r["sid"] if "sid" in r else (r["category"], r["start_date"])
                       for r in second.records[stream] if r["account_sid"] == sid and r[key]}
            filters = {param: since}
            if stream == "usage_records":
                filters["IncludeSubaccounts"] = "false"
            truth = emu.truth(resource, account_sid=sid, **filters)
            expected = {t["sid"] if "sid" in t else (t["category"], t["start_date"])
                        for t in truth}
            assert emitted == expected, (stream, sid)
    assert {m["sid"] for m in new} <= {m["sid"] for m in second.records["messages"]}
    assert len(second.records["messages"]) < len(first.records["messages"])


def test_late_changes_within_the_lookback_are_picked_up(emu, catalog) -> None:
    sid = emu.account_sid
    two_days_ago = emu.now - dt.timedelta(days=2)
    sent = emu.data.add("messages", sid, [{"date_sent": two_days_ago, "date_created":
                                           two_days_ago, "status": "sent", "price": None}])[0]
    first = sync(emu, catalog)
    assert [m["status"] for m in first.records["messages"] if m["sid"] == sent["sid"]] == [
        "sent"]
    # Later Twilio reports it delivered, and its price arrives; its date_sent stays.
    emu.data.update("messages", sid, sent["sid"], status="delivered", price="-0.04200")
    second = sync(emu, catalog, state=first.last_state, lookback_days=3)
    updated = [m for m in second.records["messages"] if m["sid"] == sent["sid"]]
    assert len(updated) == 1
    assert updated[0]["status"] == "delivered"
    assert str(updated[0]["price"]) == "-0.04200"
    # With no lookback the change would be missed: the lookback is what catches it.
    third = sync(emu, catalog, state=first.last_state, lookback_days=0)
    assert sent["sid"] not in {m["sid"] for m in third.records["messages"]}


def test_a_message_listed_without_date_sent_is_not_lost(emu, catalog) -> None:
    sid = emu.account_sid
    queued = emu.data.add("messages", sid, [{"status": "queued", "date_sent": None}])[0]
    first = sync(emu, catalog)
    listed = [m for m in first.records["messages"] if m["sid"] == queued["sid"]]
    assert listed and listed[0]["date_sent"] is None
    # Still queued at the next run: listed again (the sweep of null-dated records).
    second = sync(emu, catalog, state=first.last_state)
    assert [m["status"] for m in second.records["messages"] if m["sid"] == queued["sid"]] == [
        "queued"]
    # Sent later: the next run's date filter finds it, with its final status.
    sent_at = emu.now.strftime("%a, %d %b %Y %H:%M:%S +0000")
    emu.data.update("messages", sid, queued["sid"], status="delivered", date_sent=sent_at)
    third = sync(emu, catalog, state=second.last_state)
    delivered = [m for m in third.records["messages"] if m["sid"] == queued["sid"]]
    assert [m["status"] for m in delivered] == ["delivered"]
    assert delivered[0]["date_sent"] is not None


def test_subaccounts_can_be_left_out_or_picked(emu, catalog) -> None:
    only_main = sync(emu, catalog, include_subaccounts=False)
    assert only_main.keys("accounts") == [emu.account_sid]
    assert {m["account_sid"] for m in only_main.records["messages"]} == {emu.account_sid}
    picked = sync(emu, catalog, account_sids=[emu.subaccount_sids[1]])
    assert picked.keys("accounts") == [emu.subaccount_sids[1]]
    assert {m["sid"] for m in picked.records["messages"]} == {
        m["sid"] for m in emu.truth("messages", account_sid=emu.subaccount_sids[1])}


def test_a_window_fans_out_without_overlap(emu, catalog) -> None:
    """Two runs over adjacent windows (as an orchestrator would) cover the whole history."""
    today = emu.now.date()
    # the older window ends on a day a call started (`StartTime<` is exclusive: see below)
    days = sorted({parse_record_ts(c["start_time"]) // 86400 for c in emu.truth("calls")
                   if c["start_time"]})
    epoch = dt.date(1970, 1, 1)
    last_older = epoch + dt.timedelta(
        days=next(d for d in days if epoch + dt.timedelta(days=d) > today - dt.timedelta(150)))
    first, middle = today - dt.timedelta(days=300), last_older + dt.timedelta(days=1)
    # lists longer than a page: the windows are asked for, not cut from one whole page
    older = sync(emu, catalog, start_date=first.isoformat(), page_size=50,
                 end_date=(middle - dt.timedelta(days=1)).isoformat())
    newer = sync(emu, catalog, start_date=middle.isoformat(), end_date=today.isoformat(),
                 page_size=50)
    for stream in ("messages", "calls"):  # `DateSent<` is on or before, `StartTime<` before
        key, lower = INCREMENTAL[stream]
        older_sids = {r["sid"] for r in older.records[stream] if r[key]}
        newer_sids = {r["sid"] for r in newer.records[stream] if r[key]}
        assert older_sids and newer_sids, stream
        assert not older_sids & newer_sids, stream
        dated_truth = {r["sid"] for r in emu.truth(stream, **{lower: first.isoformat()})}
        assert older_sids | newer_sids == dated_truth, stream


@pytest.mark.parametrize(("page_size", "asks_the_window"), [(1000, False), (100, True)])
def test_message_window_is_clamped_to_twilios_400_day_retention(
    emu, catalog, page_size, asks_the_window
) -> None:
    """A list longer than a page is asked for the window, from the oldest day Twilio keeps
    (the emulator refuses older); one page is read whole and its records kept by date."""
    run = sync(emu, catalog, start_date="2020-01-01", page_size=page_size)
    oldest = (emu.now.date() - dt.timedelta(days=399)).isoformat()
    sent = {r.query.get("DateSent>") for r in emu.requests if r.resource == "messages"}
    assert min((s for s in sent if s), default=None) == (oldest if asks_the_window else None)
    dated = {m["sid"] for m in run.records["messages"] if m["date_sent"]}
    assert dated and dated == {m["sid"] for m in emu.truth("messages", **{"DateSent>": oldest})}
    assert "Twilio keeps 400 days" in run.stderr


def test_an_account_sid_the_credentials_cannot_read_is_a_clear_error(emu, catalog) -> None:
    stranger = "AC" + "f" * 32
    run = run_tap(emu.config(account_sids=[emu.subaccount_sids[0], stranger]), catalog=catalog)
    assert run.returncode == 1
    assert run.stderr.strip().splitlines()[-1] == (
        f"tap-twilio: error: account_sids: {stranger} not among the accounts these credentials "
        "can read")
    assert '"type":"RECORD"' not in run.stdout  # nothing read before the check
