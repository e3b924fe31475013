"""Streams beyond the six reports: children only where they exist, Monitor paging, usage
granularity, and one subaccount's refusal not stopping the others."""

from __future__ import annotations

import itertools
from collections import Counter

import pytest

from tests.tap_runner import catalog_selecting, run_tap, truth


def test_message_media_is_requested_only_for_messages_with_media(emulator) -> None:
    catalog = catalog_selecting(emulator.config(), {"message_media"})
    emulator.clear_requests()
    run = run_tap(emulator.config(), catalog=catalog)
    assert run.returncode == 0, run.stderr[-2000:]
    with_media = {m["sid"] for m in emulator.truth("messages") if int(m["num_media"]) > 0}
    assert 0 < len(with_media) < len(emulator.truth("messages"))
    media_lists = [r.path for r in emulator.requests if r.resource == "message_media"]
    asked_for = {path.split("/Messages/")[1].split("/")[0] for path in media_lists}
    assert asked_for == with_media
    assert len(media_lists) == len(with_media)  # one page each, nothing more
    assert {m["parent_sid"] for m in run.records["message_media"]} == with_media
    assert "messages" not in run.records  # the parent is read, not emitted
    # State stays small: at most one entry per account, never one per message.
    media_state = run.last_state["bookmarks"].get("message_media", {})
    assert len(media_state.get("partitions", [])) <= 1 + len(emulator.subaccount_sids)


def test_participants_are_requested_only_for_conferences_not_over(emulator) -> None:
    catalog = catalog_selecting(emulator.config(), {"conference_participants"})
    emulator.clear_requests()
    run = run_tap(emulator.config(), catalog=catalog)
    assert run.returncode == 0, run.stderr[-2000:]
    conferences = emulator.truth("conferences")
    not_over = {c["sid"] for c in conferences if c["status"] != "completed"}
    assert 0 < len(not_over) < len(conferences)
    asked_for = {r.path.split("/Conferences/")[1].split("/")[0]
                 for r in emulator.requests if r.resource == "conference_participants"}
    assert asked_for == not_over
    assert {p["conference_sid"] for p in run.records["conference_participants"]} <= not_over
    assert len(run.records["conference_participants"]) == len(
        truth(emulator, "conference_participants"))


def test_alerts_walk_meta_next_page_url_to_the_end(emulator) -> None:
    catalog = catalog_selecting(emulator.config(), {"alerts"})
    emulator.clear_requests()
    run = run_tap(emulator.config(page_size=4), catalog=catalog)
    assert run.returncode == 0, run.stderr[-2000:]
    pages = [r for r in emulator.requests if r.resource == "alerts"]
    main = [r for r in pages if r.account_sid == emulator.account_sid]
    truth = emulator.truth("alerts")
    assert len(main) == -(-len(truth) // 4)
    assert sorted(run.keys("alerts")) == sorted(a["sid"] for a in truth)
    # Monitor is one of Twilio's newer APIs: each account is asked with its own credentials
    assert {r.account_sid for r in pages} == {emulator.account_sid, *emulator.subaccount_sids}
    assert all(r.auth_user == r.account_sid for r in pages)


@pytest.mark.parametrize(("granularity", "resource"), [
    ("monthly", "usage_records_monthly"), ("yearly", "usage_records_yearly"),
    ("all_time", "usage_records_all_time")])
def test_usage_records_at_the_chosen_granularity(emulator, granularity, resource) -> None:
    catalog = catalog_selecting(emulator.config(), {"usage_records"})
    emulator.clear_requests()
    run = run_tap(emulator.config(usage_records_granularity=granularity), catalog=catalog)
    assert run.returncode == 0, run.stderr[-2000:]
    assert {r.resource for r in emulator.requests} == {"accounts", resource}
    truth = emulator.truth(resource, IncludeSubaccounts="false")
    assert sorted((r["account_sid"], r["category"], r["start_date"])
                  for r in run.records["usage_records"]) == sorted(
        (t["account_sid"], t["category"], t["start_date"]) for t in truth)


@pytest.mark.parametrize("status", [403, 404])
def test_a_subaccount_refusing_one_resource_does_not_stop_the_run(fresh_emulator, status):
    emu = fresh_emulator
    denied = emu.subaccount_sids[0]
    emu.faults.deny(denied, "recordings", status=status)
    catalog = catalog_selecting(emu.config(), {"recordings", "calls"})
    run = run_tap(emu.config(), catalog=catalog)
    assert run.returncode == 0, run.stderr[-2000:]
    warning = [line for line in run.stderr.splitlines() if "skipped for account" in line]
    assert len(warning) == 1 and denied in warning[0] and "recordings" in warning[0]
    expected = {r["sid"] for r in emu.truth("recordings") if r["account_sid"] != denied}
    assert set(run.keys("recordings")) == expected
    assert set(run.keys("calls")) == {c["sid"] for c in emu.truth("calls")}


def test_the_main_account_refusing_a_resource_stops_with_one_line(fresh_emulator) -> None:
    emu = fresh_emulator
    emu.faults.deny(emu.account_sid, "recordings", status=403)
    catalog = catalog_selecting(emu.config(), {"recordings"})
    run = run_tap(emu.config(), catalog=catalog)
    assert run.returncode == 1
    last = run.stderr.strip().splitlines()[-1]
    assert last.startswith("tap-twilio: error: recordings: HTTP 403")
    assert "check that these credentials may read" in last
    assert "Traceback" not in run.stderr


def test_connection_test_reads_a_record_per_stream_quietly(emulator) -> None:
    run = run_tap(emulator.config(), args=("--test",))
    assert run.returncode == 0, run.stderr[-2000:]
    assert {"accounts", "calls", "messages", "conferences", "notifications",
            "usage_records"} <= set(run.records)
    assert all(len(records) == 1 for records in run.records.values())
    assert " ERROR " not in run.stderr and "Traceback" not in run.stderr


def test_a_closed_subaccount_is_listed_but_its_lists_are_not_asked_for() -> None:
    from tests.emulator import Emulator

    with Emulator(seed=41, subaccounts=2, subaccount_statuses=["active", "closed"]) as emu:
        closed = emu.subaccount_sids[1]
        catalog = catalog_selecting(emu.config(), {"accounts", "messages", "calls"})
        run = run_tap(emu.config(), catalog=catalog)
        assert run.returncode == 0, run.stderr[-2000:]
        assert closed in run.keys("accounts")
        assert not [r for r in emu.requests if r.account_sid == closed]
        assert "skipped for account" not in run.stderr
        assert set(run.keys("messages")) == {
            m["sid"] for sid in (emu.account_sid, emu.subaccount_sids[0])
            for m in emu.truth("messages", account_sid=sid)}


def test_next_accounts_lists_are_read_ahead_once_each() -> None:
    """Most per-account lists are one page: their first pages are fetched ahead, in
    parallel, while an earlier list is read — each exactly once, nothing lost."""
    from tests.emulator import Emulator

    with Emulator(seed=43, subaccounts=4, latency=0.05) as emu:
        streams = {"addresses", "applications", "queues", "keys", "usage_triggers",
                   "outgoing_caller_ids", "incoming_phone_numbers", "account_balance"}
        catalog = catalog_selecting(emu.config(), streams)
        emu.clear_requests()
        run = run_tap(emu.config(), catalog=catalog)
        assert run.returncode == 0, run.stderr[-2000:]
        first_pages = Counter((r.resource, r.account_sid) for r in emu.requests
                              if r.resource != "accounts" and "PageToken" not in r.query)
        assert set(first_pages.values()) == {1}
        assert len(first_pages) == len(streams) * 5
        spans = sorted((r.started, r.started + r.duration) for r in emu.requests)
        overlapping = sum(1 for (_, end), (start, _) in itertools.pairwise(spans) if start < end)
        assert overlapping > len(spans) // 2  # read ahead, not one round trip after another
        for stream in streams:
            assert sorted(run.keys(stream, "account_sid" if stream == "account_balance"
                                   else "sid")) == sorted(
                r["account_sid" if stream == "account_balance" else "sid"]
                for r in truth(emu, stream))


def test_the_main_accounts_lists_are_asked_for_with_the_accounts_list() -> None:
    """The credentials' own account is read whatever the accounts list says, so its first
    pages need not wait for that list: they are asked for at the same time, once each.
    Accounts the settings leave out are never asked for."""
    from tests.emulator import Emulator

    with Emulator(seed=43, subaccounts=2, latency=0.2) as emu:
        config = emu.config()
        catalog = catalog_selecting(config, {"messages", "calls", "queues"})
        emu.clear_requests()
        run = run_tap(config, catalog=catalog)
        assert run.returncode == 0, run.stderr[-2000:]
        (accounts,) = [r for r in emu.requests if r.resource == "accounts"]
        answered = accounts.started + accounts.duration
        main_first = [r for r in emu.requests if r.account_sid == emu.account_sid
                      and r.resource != "accounts" and "PageToken" not in r.query
                      and not r.resource.startswith("bulkexport")  # older history
                      and r.query.get("PageSize") != "1"]
        assert {r.resource for r in main_first} == {"messages", "calls", "queues"}
        assert len(main_first) == 3  # each once: the read takes the page fetched ahead
        assert all(r.started < answered for r in main_first)
        assert sorted(run.keys("messages")) == sorted(r["sid"] for r in truth(emu, "messages"))

        sub = emu.subaccount_sids[0]
        emu.clear_requests()
        run = run_tap({**config, "account_sids": [sub]}, catalog=catalog)
        assert run.returncode == 0, run.stderr[-2000:]
        assert {r.account_sid for r in emu.requests if r.resource != "accounts"} == {sub}


def test_a_window_is_split_into_slices_only_when_it_is_longer_than_a_page(emulator) -> None:
    catalog = catalog_selecting(emulator.config(), {"notifications"})
    emulator.clear_requests()
    short = run_tap(emulator.config(last_n_days="400"), catalog=catalog)
    assert short.returncode == 0, short.stderr[-2000:]
    per_account = Counter(r.account_sid for r in emulator.requests
                          if r.resource == "notifications")
    assert set(per_account.values()) == {1}  # one page each: no slices

    emulator.clear_requests()
    long = run_tap(emulator.config(last_n_days="400", page_size=5), catalog=catalog)
    assert long.returncode == 0, long.stderr[-2000:]
    main = [r.query for r in emulator.requests
            if r.resource == "notifications" and r.account_sid == emulator.account_sid
            and "PageToken" not in r.query]
    assert len(main) > 2  # the first page, then day slices
    keys = long.keys("notifications")
    assert len(keys) == len(set(keys))  # the first page's records are not emitted again
    assert sorted(keys) == sorted(short.keys("notifications"))
