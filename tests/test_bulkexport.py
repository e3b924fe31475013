"""History older than the lists' retention: Twilio's BulkExport, over HTTP to the emulator.

The emulator holds 900 days of messages, calls and conferences; the Messages list shows 400
days, the Calls and Conferences lists 395, and the older days are served (where exported) as
BulkExport day files.
"""

from __future__ import annotations

import datetime as dt
import gzip
import logging
import signal
import subprocess
import time
from collections.abc import Iterator

import pytest
import requests
from requests.auth import HTTPBasicAuth

from tap_twilio.twilio.bulkexport import HistoryRead, days_of, days_said, export_unreachable
from tests.emulator import Emulator
from tests.tap_runner import TapRun, catalog_selecting, run_acting_after, run_tap
from tests.test_fidelity import expected_value

TODAY = dt.datetime.now(dt.timezone.utc).date()
DAYS = 900
SIZES = {"messages": 2000, "calls": 500, "conferences": 300}
GAP = (TODAY - dt.timedelta(days=560), TODAY - dt.timedelta(days=521))  # not exported
STREAMS = ("messages", "calls", "conferences")
TYPES = {"messages": "Messages", "calls": "Calls", "conferences": "Conferences"}


def day(n_ago: int) -> dt.date:
    return TODAY - dt.timedelta(days=n_ago)


def accounts(emu: Emulator) -> list[str]:
    return [emu.account_sid, *emu.subaccount_sids]


def order_day(stream: str, record: dict) -> dt.date:
    """The UTC day a record belongs to (the list's order: sent/started, else created)."""
    ordered_by = {"messages": "date_sent", "calls": "start_time"}.get(stream, "date_created")
    return utc_day(record[ordered_by] or record["date_created"])


def utc_day(rfc2822: str) -> dt.date:
    from email.utils import parsedate_to_datetime

    return parsedate_to_datetime(rfc2822).astimezone(dt.timezone.utc).date()


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    with Emulator(full_history=True, subaccounts=1, sizes=SIZES,
                  account_ages_days=[DAYS, 600]) as emulator:
        for account in accounts(emulator):
            for kind in TYPES.values():
                emulator.bulkexport.export_days(kind, account, day(DAYS), day(2))
        # A gap in the subaccount's messages: those days are said, not read.
        gapped = emulator.bulkexport.exported[(emulator.subaccount_sids[0], "Messages")]
        for n in range((GAP[1] - GAP[0]).days + 1):
            gapped.pop(GAP[0] + dt.timedelta(days=n))
        yield emulator


def sync(emu: Emulator, state: dict | None = None, **settings) -> TapRun:
    config = emu.config(start_date=str(day(DAYS)), **settings)
    run = run_tap(config, state=state,
                  catalog=catalog_selecting(config, {"accounts", *STREAMS}))
    assert run.returncode == 0, run.stderr[-3000:]
    return run


@pytest.fixture(scope="module")
def first_run(emu: Emulator) -> TapRun:
    emu.clear_requests()
    return sync(emu)


def in_gap(emu: Emulator, stream: str, account: str, record: dict) -> bool:
    gapped = stream == "messages" and account == emu.subaccount_sids[0]
    return gapped and GAP[0] <= order_day(stream, record) <= GAP[1]


@pytest.mark.parametrize("stream", STREAMS)
def test_a_900_day_window_is_complete_and_each_record_once(emu, first_run, stream) -> None:
    sids = [record["sid"] for record in first_run.records[stream]]
    expected = {r["sid"] for a in accounts(emu) for r in emu.history(stream, a)
                if not in_gap(emu, stream, a, r)}
    listed = {r["sid"] for r in emu.truth(stream)}
    assert len(sids) == len(set(sids))  # once
    assert set(sids) == expected
    assert len(expected - listed) > len(listed) // 2  # most of them only through BulkExport


def test_the_lists_keep_400_and_395_days(emu) -> None:
    for stream, kept in (("messages", 400), ("calls", 395), ("conferences", 395)):
        days = {order_day(stream, r) for r in emu.truth(stream)}
        older = [r for r in emu.history(stream, emu.account_sid)
                 if order_day(stream, r) < day(kept - 1)]
        assert min(days) >= day(kept - 1) and older, stream
    answer = requests.get(f"{emu.url}/2010-04-01/Accounts/{emu.account_sid}/Messages.json",
                          params={"DateSent>": str(day(420))},
                          auth=(emu.account_sid, emu.auth_token), timeout=10)
    assert answer.status_code == 400 and answer.json()["code"] == 20004
    assert "retention window of 400 days" in answer.json()["message"]


def test_exported_records_are_typed_as_the_listed_ones(emu, first_run) -> None:
    """Each exported message equals its list record after the tap's conversions; the fields
    the file leaves out (uri, price_unit, error_message, at times price) are null."""
    properties = first_run.schemas["messages"]["schema"]["properties"]
    by_sid = {r["sid"]: r for r in first_run.records["messages"]}
    checked = 0
    for n_ago in (450, 700):
        for filed in emu.bulkexport.day_records("Messages", emu.account_sid, day(n_ago)):
            listed = next(r for r in emu.history("messages", emu.account_sid)
                          if r["sid"] == filed["sid"])
            for name, prop in properties.items():
                want = expected_value(listed.get(name), prop) if name in filed else None
                assert by_sid[filed["sid"]][name] == want, (filed["sid"], name)
            checked += 1
    assert checked >= 2


def test_each_account_is_read_with_its_own_credentials(emu, first_run) -> None:
    asked = {r.auth_user for r in emu.requests if r.resource == "bulkexport_days"}
    assert asked == set(accounts(emu))


def test_missing_days_are_said_in_one_warning_per_stream(emu, first_run) -> None:
    warnings = [line for line in first_run.stderr.splitlines()
                if "WARNING" in line and "no BulkExport file" in line]
    assert len(warnings) == 1
    assert f"{GAP[0]}..{GAP[1]}" in warnings[0] and "messages" in warnings[0]


def test_a_second_run_downloads_nothing_again(emu, first_run) -> None:
    emu.clear_requests()
    run = sync(emu, state=first_run.last_state)
    assert not [r for r in emu.requests if r.resource == "bulkexport_file"]
    assert run.records["messages"]  # the lookback's records, from the list


def test_a_resumed_run_skips_the_days_it_downloaded(emu, first_run) -> None:
    """A run stopped before its bookmark was kept: its days done are not read again."""
    state = first_run.last_state
    for stream in STREAMS:
        for partition in state["bookmarks"][stream]["partitions"]:
            partition.pop("replication_key_value")
            assert partition["bulk_export"]["days"]
    emu.clear_requests()
    run = sync(emu, state=state)
    assert not [r for r in emu.requests if r.resource == "bulkexport_file"]
    assert {r["sid"] for r in run.records["calls"]} == {r["sid"] for r in emu.truth("calls")}


def test_an_expired_link_is_asked_for_again(emu) -> None:
    emu.bulkexport.expired_links = 2
    emu.clear_requests()
    run = sync(emu, end_date=str(day(880)))
    refused = [r for r in emu.requests if r.resource == "bulkexport_file" and r.status == 403]
    expected = {r["sid"] for r in emu.history("messages", emu.account_sid)
                if day(DAYS) <= order_day("messages", r) <= day(880)}
    sids = [r["sid"] for r in run.records["messages"]]
    assert len(refused) == 2
    assert expected and set(sids) == expected and len(sids) == len(set(sids))


def test_a_file_that_cannot_be_read_ends_the_run_in_one_line(emu) -> None:
    emu.bulkexport.expired_links = 10
    try:
        config = emu.config(start_date=str(day(DAYS)), end_date=str(day(880)),
                            max_concurrency=1)
        run = run_tap(config, catalog=catalog_selecting(config, {"accounts", "messages"}))
    finally:
        emu.bulkexport.expired_links = 0
    last = run.stderr.strip().splitlines()[-1]
    assert run.returncode == 1 and "Traceback" not in run.stderr
    assert "messages: the BulkExport file of" in last and "in 5 tries (HTTP 403)" in last


def test_a_download_link_works_once_and_without_credentials(emu) -> None:
    auth = (emu.account_sid, emu.auth_token)
    url = f"{emu.url}/bulkexports.twilio.com/v1/Exports/Messages/Days/{day(700)}"
    answer = requests.get(url, auth=auth, allow_redirects=False, timeout=10)
    assert answer.status_code == 307
    link = answer.json()["redirect_to"]
    refused = requests.get(link, auth=auth, timeout=10)  # a signed link takes no credentials
    assert refused.status_code == 400
    lines = gzip.decompress(requests.get(link, timeout=10).content).splitlines()
    assert len(lines) == len(emu.bulkexport.day_records("Messages", emu.account_sid, day(700)))
    assert requests.get(link, timeout=10).status_code == 403  # used
    days = requests.get(url.rsplit("/", 1)[0], params={"PageSize": 401}, auth=auth, timeout=10)
    assert days.status_code == 400


def test_only_us1_reaches_bulkexport() -> None:
    """With another region the run says once (a warning) that older history is not
    reachable; the emulator serves no other region, so this is the rule itself."""
    auth = HTTPBasicAuth("AC", "token")
    assert "only in US1" in str(export_unreachable("ie1", auth))
    assert export_unreachable("us1", auth) is None
    assert export_unreachable(None, auth) is None


@pytest.fixture
def unexported() -> Iterator[Emulator]:
    with Emulator(full_history=True, subaccounts=1, sizes=SIZES,
                  account_ages_days=[DAYS, 600]) as emulator:
        emulator.bulkexport.job_seconds = 0.5
        yield emulator


def job_requests(emu: Emulator) -> list:
    return [r for r in emu.requests if r.resource == "bulkexport_jobs"]


def test_jobs_are_asked_only_with_the_opt_in_within_the_allowance(unexported) -> None:
    emu = unexported
    sync(emu)
    assert not job_requests(emu)
    first = sync(emu, bulk_export_jobs=True)
    asked = sum(count for count in emu.bulkexport.requested.values())
    jobs = [job for stream in STREAMS
            for partition in first.last_state["bookmarks"][stream]["partitions"]
            for job in partition.get("bulk_export", {}).get("jobs", [])]
    assert job_requests(emu) and jobs
    assert asked == 366  # more days are missing than Twilio allows a day
    assert all(r.status == 201 for r in job_requests(emu))
    time.sleep(0.6)  # the jobs finish
    emu.clear_requests()
    later = sync(emu, state=first.last_state, bulk_export_jobs=True)
    streams = {kind: stream for stream, kind in TYPES.items()}
    expected = {r["sid"] for job in emu.bulkexport.jobs.values()
                for r in emu.history(streams[job.resource_type], job.account_sid)
                if job.start_day <= order_day(streams[job.resource_type], r) <= job.end_day}
    read = {r["sid"] for stream in STREAMS for r in later.records[stream]}
    assert expected and expected <= read
    left = [p.get("bulk_export", {}).get("jobs") for stream in STREAMS
            for p in later.last_state["bookmarks"][stream]["partitions"]]
    assert not any(left)  # finished jobs leave the state once their days are read
    assert not job_requests(emu)  # the day's allowance was used up by the first run


def test_the_emulators_jobs_follow_twilios_rules() -> None:
    with Emulator(subaccounts=1) as emu:
        url = f"{emu.url}/bulkexports.twilio.com/v1/Exports/Messages/Jobs"

        def ask(first: dt.date, last: dt.date, account: int = 0) -> requests.Response:
            sid = accounts(emu)[account]
            return requests.post(url, auth=(sid, emu.auth_tokens[sid]), timeout=10, data={
                "StartDay": str(first), "EndDay": str(last), "FriendlyName": "t"})

        assert ask(day(10), day(1)).status_code == 400  # ends less than two days ago
        assert ask(day(300), day(2)).status_code == 201
        assert ask(day(400), day(333), account=1).status_code == 400  # 366 a day, tree-wide
        assert ask(day(400), day(334), account=1).status_code == 201


# --- participants of completed conferences ---------------------------------------------------
# Twilio's Participants list shows a conference's participants only while it is in progress;
# a completed conference's are kept in BulkExport's Participants days.

PARTICIPANT_DAYS = 300
PARTICIPANT_GAP = (day(150), day(120))  # the subaccount's days not exported


def participant_key(record: dict) -> tuple[str, str]:
    return record["conference_sid"], record["call_sid"]


def unexported_participant(emu: Emulator, account: str, record: dict) -> bool:
    """A kept participant of a day with no file: the subaccount's gap, or a day not over
    long enough to be exported (Twilio exports a day after it)."""
    joined = utc_day(record["date_created"])
    gapped = account in emu.subaccount_sids[:1]
    in_gap = gapped and PARTICIPANT_GAP[0] <= joined <= PARTICIPANT_GAP[1]
    return record["status"] == "complete" and (in_gap or joined > day(2))


def conference_days(conference: dict) -> set[dt.date]:
    first, last = utc_day(conference["date_created"]), utc_day(conference["date_updated"])
    return {first + dt.timedelta(days=n) for n in range((last - first).days + 1)}


@pytest.fixture(scope="module")
def conferences_emu() -> Iterator[Emulator]:
    with Emulator(full_history=True, subaccounts=1, seed=31,
                  sizes={"conferences": 60, "conference_participants": 4},
                  account_ages_days=[PARTICIPANT_DAYS, 250]) as emulator:
        for account in accounts(emulator):
            emulator.bulkexport.export_days("Participants", account, day(PARTICIPANT_DAYS),
                                            day(2))
        gapped = emulator.bulkexport.exported[(emulator.subaccount_sids[0], "Participants")]
        for n in range((PARTICIPANT_GAP[1] - PARTICIPANT_GAP[0]).days + 1):
            gapped.pop(PARTICIPANT_GAP[0] + dt.timedelta(days=n))
        yield emulator


def sync_conferences(emu: Emulator, state: dict | None = None) -> TapRun:
    config = emu.config(start_date=str(day(PARTICIPANT_DAYS)))
    run = run_tap(config, state=state, catalog=catalog_selecting(
        config, {"accounts", "conferences", "conference_participants"}))
    assert run.returncode == 0, run.stderr[-3000:]
    return run


@pytest.fixture(scope="module")
def conferences_run(conferences_emu: Emulator) -> TapRun:
    conferences_emu.clear_requests()
    return sync_conferences(conferences_emu)


def test_the_list_shows_no_participant_of_a_completed_conference(conferences_emu) -> None:
    emu = conferences_emu
    completed = next(c for c in emu.truth("conferences", emu.account_sid)
                     if c["status"] == "completed")
    answer = requests.get(
        f"{emu.url}/2010-04-01/Accounts/{emu.account_sid}/Conferences/{completed['sid']}"
        "/Participants.json", auth=(emu.account_sid, emu.auth_token), timeout=10)
    kept = [p for p in emu.history("conference_participants", emu.account_sid)
            if p["conference_sid"] == completed["sid"]]
    assert answer.status_code == 200 and answer.json()["participants"] == []
    assert kept and {p["status"] for p in kept} == {"complete"}


def test_every_participant_arrives_once_listed_or_exported(conferences_emu,
                                                           conferences_run) -> None:
    emu = conferences_emu
    emitted = [participant_key(r) for r in conferences_run.records["conference_participants"]]
    expected = {participant_key(r) for a in accounts(emu)
                for r in emu.history("conference_participants", a)
                if not unexported_participant(emu, a, r)}
    listed = {participant_key(r) for r in emu.truth("conference_participants")}
    assert len(emitted) == len(set(emitted))  # once
    assert set(emitted) == expected
    assert listed and len(expected - listed) > 2 * len(listed)  # most only through BulkExport


def test_no_completed_conference_s_participants_are_asked_of_the_list(
        conferences_emu, conferences_run) -> None:
    emu = conferences_emu
    status = {c["sid"]: c["status"] for c in emu.truth("conferences")}
    asked = [r.path.split("/Conferences/")[1].split("/")[0] for r in emu.requests
             if r.resource == "conference_participants"]
    assert asked and all(status[sid] != "completed" for sid in asked)


def test_the_days_of_completed_conferences_without_an_export_are_said(
        conferences_emu, conferences_run) -> None:
    emu = conferences_emu
    sub = emu.subaccount_sids[0]
    days = {d for c in emu.truth("conferences", sub) if c["status"] == "completed"
            for d in conference_days(c) if PARTICIPANT_GAP[0] <= d <= PARTICIPANT_GAP[1]}
    warnings = [line for line in conferences_run.stderr.splitlines()
                if "WARNING" in line and "no BulkExport file" in line]
    assert days and len(warnings) == 1
    assert "conference_participants" in warnings[0] and sub in warnings[0]
    named = warnings[0].split("no BulkExport file for ")[1].split(" (")[0].split(", ")
    assert days_of(named) == days


def test_many_missing_ranges_are_summed_up_in_the_warning() -> None:
    """Sparse days (a conference every few days) would make a line of hundreds of ranges:
    a warning names how many, between which days, and the first and last ranges."""
    sparse = {day(3 * n) for n in range(1, 41)}
    said = days_said(sparse)
    assert said.startswith(f"40 days in 40 ranges from {day(120)} to {day(3)} (")
    assert f"{day(120)}, {day(117)}, {day(114)}, ..., {day(6)}, {day(3)})" in said
    assert days_said({day(9), day(8), day(3)}) == f"{day(9)}..{day(8)}, {day(3)}"


def test_participants_are_typed_as_the_listed_ones(conferences_emu, conferences_run) -> None:
    """An exported participant equals the list's record after the tap's conversions, with
    `uri` (left out of the file) null."""
    properties = conferences_run.schemas["conference_participants"]["schema"]["properties"]
    emitted = {participant_key(r): r for r in conferences_run.records["conference_participants"]}
    kept = conferences_emu.history("conference_participants", conferences_emu.account_sid)
    completed = [p for p in kept if p["status"] == "complete"][:5]
    for listed in completed:
        record = emitted[participant_key(listed)]
        for name, prop in properties.items():
            want = None if name == "uri" else expected_value(listed.get(name), prop)
            assert record[name] == want, (listed["call_sid"], name)
    assert completed


def test_a_later_run_reads_the_days_exported_since_and_nothing_again(
        conferences_emu, conferences_run) -> None:
    emu = conferences_emu
    sub = emu.subaccount_sids[0]
    emu.clear_requests()
    again = sync_conferences(emu, state=conferences_run.last_state)
    assert not [r for r in emu.requests if r.resource == "bulkexport_file"]
    assert "no BulkExport file" in again.stderr  # still missing, still said
    recent = {d for c in emu.truth("conferences", sub) if c["status"] == "completed"
              for d in conference_days(c) if d > day(2)}
    gap_days = {d for c in emu.truth("conferences", sub) if c["status"] == "completed"
                for d in conference_days(c) if PARTICIPANT_GAP[0] <= d <= PARTICIPANT_GAP[1]}
    kept = {p["context"]["account_sid"]: p.get("bulk_export", {})
            for p in again.last_state["bookmarks"]["conference_participants"]["partitions"]}
    assert days_of(kept[sub]["wanted"]) == gap_days | recent  # read once Twilio has them
    emu.bulkexport.export_days("Participants", sub, *PARTICIPANT_GAP)
    later = sync_conferences(emu, state=again.last_state)
    gap = {participant_key(r) for r in emu.history("conference_participants", sub)
           if unexported_participant(emu, sub, r) and utc_day(r["date_created"]) <= day(2)}
    listed = {participant_key(r) for r in emu.truth("conference_participants")}
    read = {participant_key(r) for r in later.records["conference_participants"]}
    assert gap and read - listed == gap
    assert "no BulkExport file" not in later.stderr


def test_a_run_killed_while_reading_participants_resumes_without_reading_a_day_twice() -> None:
    with Emulator(full_history=True, subaccounts=0, seed=32, latency=0.01,
                  sizes={"conferences": 400, "conference_participants": 8},
                  account_ages_days=[PARTICIPANT_DAYS]) as emu:
        emu.bulkexport.export_days("Participants", emu.account_sid, day(PARTICIPANT_DAYS),
                                   day(2))
        config = emu.config(start_date=str(day(PARTICIPANT_DAYS)), max_concurrency=2)
        catalog = catalog_selecting(config, {"accounts", "conferences",
                                             "conference_participants"})
        every = {participant_key(r)
                 for r in emu.history("conference_participants", emu.account_sid)
                 if not unexported_participant(emu, emu.account_sid, r)}
        listed = len(emu.truth("conference_participants"))
        conferences = len(emu.truth("conferences"))
        halfway = 1 + conferences + listed + (len(every) - listed) // 2

        def kill(process: subprocess.Popen[str]) -> bool:
            process.send_signal(signal.SIGKILL)
            return True

        killed = run_acting_after(config, catalog, halfway, kill)
        state = killed.last_state
        partition, = state["bookmarks"]["conference_participants"]["partitions"]
        read_before = days_of(partition["bulk_export"].get("days", []))
        emu.clear_requests()
        resumed = run_tap(config, catalog=catalog, state=state)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    read_again = {dt.date.fromisoformat(r.path.rsplit("/", 1)[1]) for r in emu.requests
                  if r.resource == "bulkexport_day"}
    arrived = {participant_key(r) for run in (killed, resumed)
               for r in run.records["conference_participants"]}
    assert read_before and read_again and not read_before & read_again
    assert arrived == every


def test_jobs_are_asked_for_the_days_of_completed_conferences_without_a_file() -> None:
    with Emulator(full_history=True, subaccounts=0, seed=33,
                  sizes={"conferences": 30, "conference_participants": 3},
                  account_ages_days=[120]) as emu:
        emu.bulkexport.job_seconds = 0.3
        config = emu.config(start_date=str(day(120)), bulk_export_jobs=True)
        catalog = catalog_selecting(config, {"accounts", "conferences",
                                             "conference_participants"})
        first = run_tap(config, catalog=catalog)
        assert first.returncode == 0, first.stderr[-3000:]
        jobs = list(emu.bulkexport.jobs.values())
        asked = {d for job in jobs for d in job.days()}
        wanted = {d for c in emu.truth("conferences") if c["status"] == "completed"
                  for d in conference_days(c) if d <= day(2)}
        sparse = sum(d - dt.timedelta(days=1) not in wanted for d in wanted)  # ranges
        assert wanted and wanted <= asked
        # Each job starts and ends on a wanted day, spanning the gaps of a few days between
        # them: fewer jobs (Twilio e-mails the admins about each) than ranges of days.
        assert all(job.start_day in wanted and job.end_day in wanted for job in jobs)
        assert len(jobs) < sparse
        assert {job.resource_type for job in emu.bulkexport.jobs.values()} == {"Participants"}
        time.sleep(0.4)  # the jobs finish
        later = run_tap(config, catalog=catalog, state=first.last_state)
    assert later.returncode == 0, later.stderr[-3000:]
    kept = {participant_key(r) for r in emu.history("conference_participants", emu.account_sid)
            if r["status"] == "complete" and utc_day(r["date_created"]) <= day(2)}
    read = {participant_key(r) for r in later.records["conference_participants"]}
    assert kept and kept <= read


def test_a_file_s_record_that_the_list_shows_is_left_to_the_list() -> None:
    """A day's file may hold a record by another date than the list filters on (created the
    day before its retention starts, sent on its first day): the list reads it, so the file
    does not give it again. The rule itself: the emulator files records by the list's date."""
    first_listed = day(399)  # the Messages list keeps 400 days, today one of them
    read = HistoryRead("messages", "AC1", [], {}, None, (), 1, print,  # no request made
                       logging.getLogger("test"),
                       list_filter=("date_sent", first_listed), today=TODAY)
    created_before = {"date_created": f"{day(400)}T23:59:58Z",
                      "date_sent": f"{first_listed}T00:00:01Z"}
    older = {"date_created": f"{day(400)}T23:59:58Z", "date_sent": f"{day(400)}T23:59:59Z"}
    unsent = {"date_created": f"{day(400)}T10:00:00Z", "date_sent": None}
    assert read.listed(created_before)
    assert not read.listed(older) and not read.listed(unsent)


def test_a_conference_ending_today_has_its_participants_read_once_its_day_is_exported() -> None:
    """Today's day has no file yet: it is not said missing, and it is kept to read until
    Twilio exports it, though later runs no longer list the conference."""
    with Emulator(full_history=True, subaccounts=0, seed=34,
                  sizes={"conferences": 10, "conference_participants": 4},
                  account_ages_days=[30]) as emu:
        config = emu.config(start_date=str(day(30)))
        catalog = catalog_selecting(config, {"accounts", "conferences",
                                             "conference_participants"})
        emu.bulkexport.export_days("Participants", emu.account_sid, day(30), day(2))
        live = next(c for c in emu.truth("conferences") if c["status"] == "in-progress")
        first = run_tap(config, catalog=catalog)
        ended = emu.data.update("conferences", emu.account_sid, live["sid"],
                                status="completed", date_updated=emu.now)
        ending = run_tap(config, catalog=catalog, state=first.last_state)
        days = conference_days(ended)
        emu.bulkexport.export_days("Participants", emu.account_sid, min(days), max(days))
        # A run days later, whose window no longer lists the conference.
        state = ending.last_state
        for partition in state["bookmarks"]["conferences"]["partitions"]:
            partition["replication_key_value"] = f"{TODAY + dt.timedelta(days=1)}T00:00:00Z"
        later = run_tap({**config, "lookback_days": 0}, catalog=catalog, state=state)
    participants = {participant_key(p) for p in first.records["conference_participants"]
                    if p["conference_sid"] == live["sid"]}
    completed = {participant_key(p): p["status"]
                 for p in later.records["conference_participants"]}
    assert all(run.returncode == 0 for run in (first, ending, later))
    assert participants and live["sid"] in {c["sid"] for c in ending.records["conferences"]}
    assert not [p for p in ending.records["conference_participants"]
                if p["conference_sid"] == live["sid"]]  # the list shows none once it ended
    assert "no BulkExport file" not in ending.stderr
    assert live["sid"] not in {c["sid"] for c in later.records["conferences"]}
    assert set(completed) == participants and set(completed.values()) == {"complete"}


def test_conferences_older_than_the_list_bring_their_participants() -> None:
    """Conferences past the list's 395 days come from their files, and, completed, their
    participants from the Participants files: every one of both, once."""
    with Emulator(full_history=True, subaccounts=0, seed=35,
                  sizes={"conferences": 120, "conference_participants": 3},
                  account_ages_days=[700]) as emu:
        for kind in ("Conferences", "Participants"):
            emu.bulkexport.export_days(kind, emu.account_sid, day(700), day(2))
        config = emu.config(start_date=str(day(700)))
        run = run_tap(config, catalog=catalog_selecting(
            config, {"accounts", "conferences", "conference_participants"}))
        conferences = emu.history("conferences", emu.account_sid)
        participants = {participant_key(p)
                        for p in emu.history("conference_participants", emu.account_sid)
                        if not unexported_participant(emu, emu.account_sid, p)}
        listed = {c["sid"] for c in emu.truth("conferences")}
    assert run.returncode == 0, run.stderr[-3000:]
    sids = [c["sid"] for c in run.records["conferences"]]
    emitted = [participant_key(p) for p in run.records["conference_participants"]]
    assert len(sids) == len(set(sids)) and set(sids) == {c["sid"] for c in conferences}
    assert len(set(sids) - listed) > len(listed) // 2  # many only from the files
    assert len(emitted) == len(set(emitted)) and set(emitted) == participants
