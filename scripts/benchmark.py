"""Benchmark tap-twilio against the floor of a minimal `requests` loop, on the emulator.

    uv run --frozen python scripts/benchmark.py                      # default: a few minutes
    uv run --frozen python scripts/benchmark.py --sizes 10000,100000,1000000 --repeat 2

For every size N and emulator latency, one emulator (a separate process, so its CPU is not
counted as the client's) serves N messages (plus `--calls` calls) per account, and three
clients read the same list(s), one after the other, each as its own process:

* floor:  a minimal loop with `requests` that walks each list with PageSize 1000, following
          `next_page_uri`, and writes every raw record as a Singer RECORD line to a file;
* tap:    `python -m tap_twilio` with its defaults (full history: one serial walk per list);
* tap+window: the same with `start_date` = the oldest record's day, so the window is cut in
          `max_concurrency * 2` date slices read in parallel (plus the null-date sweep);
* tap+noseek (only when asked for): the full history with `seek_with_page_tokens: false`,
          one walk per list over Twilio's own page links (what seeking gains);
* tap+resumed: the same window set by a state instead, its bookmarks `lookback_days` after
          that day (an incremental run: a list of one page is not asked for again, dated).

Per run: records/s, wall and CPU seconds (user+sys of the client process, from wait4),
peak RSS (ru_maxrss of the client), HTTP requests from the emulator's request log (list
requests of the measured streams vs any other), and records/s as a ratio of the floor's.
A last check reads messages *and* message_media and counts the media requests against the
messages with num_media > 0 (there must be no request for a message without media).

`--scenarios media,accounts,limited,export,loader,resume` (or `all`; `--sizes ""` skips the
runs above) adds accounts of other shapes, at `--scenario-latency` (200 ms), in one table of
their own (requests, 429s, wall, CPU, peak RSS, state partitions per stream):

* resume:   one account's messages (`--resume-messages` 150,000): a full run, a run killed
            (SIGKILL) at half its wall time, the run resumed from the killed one's last
            STATE: the resumed run's requests / the full run's, against the share left;
* media:    a media-heavy account (`--media-messages` 10,000, the emulator's share of
            messages with media), messages + message_media, `max_concurrency: 1` vs the tap;
* accounts: 301 and 1,001 accounts (`--account-counts`) with small lists, the 15 per-account
            lists: wall against requests x latency / max_concurrency, the requests in
            flight on average (the emulator's log), memory, partitions, STATE bytes
            against RECORD bytes;
* limited:  an emulator allowing `--limit-in-flight` (4) requests in flight per account,
            read with `max_concurrency: 8` over a window in pages of 100: the share of 429s,
            the same records as without the limit;
* export:   a year of one account's messages read from BulkExport's day files (older than
            the list keeps) against a year read from the list (`--export-messages` over 800
            days of history);
* loader:   `tap | LOADER` against the tap alone (`--loader CMD`, a shell command reading
            Singer messages on stdin; default target-jsonl, installed as the demo does).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import shlex
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
CLIENTS = {"floor": "floor", "full": "tap (full history)", "window": "tap (window)",
           "resumed": "tap (resumed)", "noseek": "tap (full history, no seek)"}
LIST_KEYS = {"messages": "messages", "calls": "calls"}
COLLECTIONS = {"messages": "Messages", "calls": "Calls"}
EXPORT_HISTORY_DAYS = 800  # the export scenario's account: a year older than the list


# --- the emulator, in its own process, with a control channel on stdin/stdout ---------------


def serve(args: argparse.Namespace) -> int:
    """Child mode: run the emulator; answer `stats`, `latency S`, `limit N` (Twilio's
    concurrency limit, 0: none) and `quit` lines on stdin."""
    sys.path.insert(0, str(REPO))
    from tests.emulator import Emulator

    sizes = {"messages": args.messages, "calls": args.calls}
    history = {"full_history": True, "account_ages_days": [EXPORT_HISTORY_DAYS] * (
        args.subaccounts + 1)} if args.full_history else {}
    emu = Emulator(seed=args.seed, subaccounts=args.subaccounts, sizes=sizes, latency=0.0,
                   max_in_flight=args.max_in_flight, **history)
    if args.cache:
        memoize_responses(emu)
    emu.start()
    if args.full_history:  # every day exported, as Twilio's automatic daily export
        today = emu.now.date()
        for account in emu.data.accounts:
            emu.bulkexport.export_days("Messages", account.sid,
                                       today - dt.timedelta(days=EXPORT_HISTORY_DAYS),
                                       today - dt.timedelta(days=2))
    oldest = min(a.created_ts for a in emu.data.accounts)
    print(json.dumps({
        "config": emu.config(),
        "oldest_day": dt.datetime.fromtimestamp(oldest, dt.timezone.utc).date().isoformat(),
        "accounts": [a.sid for a in emu.data.accounts],
    }), flush=True)
    for line in sys.stdin:
        command, _, arg = line.strip().partition(" ")
        if command == "latency":
            emu.latency = float(arg)
            print("{}", flush=True)
        elif command == "limit":
            emu.max_in_flight = int(arg) or None
            print("{}", flush=True)
        elif command == "stats":  # the request log since the last `stats`, then cleared
            log = emu.requests
            emu.clear_requests()
            counts = Counter(r.resource or "?" for r in log)
            print(json.dumps({"by_resource": counts, "statuses": Counter(
                str(r.status) for r in log), "busy": sum(r.duration for r in log)}),
                flush=True)
        elif command == "quit":
            break
    emu.stop()
    return 0


def memoize_responses(emu: Any) -> None:
    """Answer a request seen before from memory (the latency sleep and the log still apply).

    The emulator builds each page in Python, ~45 ms per 1000 records under one GIL: on two
    cores it, not the client, would be the limit (about 20,000 records/s, whoever asks).
    Twilio does not share the client's CPU, so by default every client is run once to warm
    this cache and then measured against pages served from memory.
    """
    app = emu._app
    build = app.route
    cache: dict[tuple, tuple] = {}

    def route(h: Any, path: str, pairs: list, rec: Any) -> tuple:
        key = (h.headers.get("Authorization"), path, tuple(pairs))
        hit = cache.get(key)
        if hit is not None:
            rec.resource, rec.account_sid = hit[1]
            return hit[0]
        answer = build(h, path, pairs, rec)
        if answer[0] == 200:
            cache[key] = (answer, (rec.resource, rec.account_sid))
        return answer

    app.route = route


class EmulatorProcess:
    def __init__(self, n: int, args: argparse.Namespace, subaccounts: int | None = None,
                 cache: bool | None = None, calls: int | None = None,
                 max_in_flight: int | None = None, full_history: bool = False) -> None:
        cache = args.cache if cache is None else cache
        subaccounts = args.subaccounts if subaccounts is None else subaccounts
        command = [sys.executable, __file__, "_serve", *(["--cache"] if cache else []),
                   "--messages", str(n), "--calls",
                   str(args.calls if calls is None else calls), "--subaccounts",
                   str(subaccounts), "--seed", str(args.seed),
                   *(["--max-in-flight", str(max_in_flight)] if max_in_flight else []),
                   *(["--full-history"] if full_history else [])]
        self.proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True, cwd=REPO)
        info = json.loads(self.ask(None))
        self.config: dict[str, Any] = info["config"]
        self.oldest_day: str = info["oldest_day"]
        self.accounts: list[str] = info["accounts"]

    def ask(self, command: str | None) -> str:
        if command is not None:
            self.proc.stdin.write(command + "\n")
            self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("the emulator process died")
        return line

    def stats(self) -> dict[str, Any]:
        return json.loads(self.ask("stats"))

    def close(self) -> None:
        try:
            self.proc.stdin.write("quit\n")
            self.proc.stdin.flush()
            self.proc.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait()


# --- the floor -------------------------------------------------------------------------------


def floor(args: argparse.Namespace) -> int:
    """Child mode: the minimal client. Every account, every list, PageSize 1000, serial."""
    import requests

    config = json.loads(Path(args.config).read_text())
    session = requests.Session()
    session.auth = (config["account_sid"], config["auth_token"])
    api = config["base_url"].rstrip("/")  # the emulator serves the 2010 API at its root too
    if args.json == "msgspec":
        import msgspec

        decode, encoder = msgspec.json.decode, msgspec.json.Encoder()

        def encode(message: dict) -> str:
            return encoder.encode(message).decode()
    else:
        decode, encode = json.loads, json.dumps

    def walk(url: str, key: str):
        while url:
            response = session.get(url, timeout=120)
            response.raise_for_status()
            body = decode(response.content)
            yield from body[key]
            uri = body.get("next_page_uri")
            url = api + uri if uri else None

    with open(args.out, "w") as out:
        accounts = [a["sid"] for a in walk(f"{api}/2010-04-01/Accounts.json?PageSize=1000",
                                           "accounts")]
        for sid in accounts:
            for stream in args.streams.split(","):
                url = f"{api}/2010-04-01/Accounts/{sid}/{COLLECTIONS[stream]}.json?PageSize=1000"
                for record in walk(url, LIST_KEYS[stream]):
                    out.write(encode({"type": "RECORD", "stream": stream, "record": record}))
                    out.write("\n")
    return 0


# --- measuring one client run ----------------------------------------------------------------


def run_measured(command: list[str], stdout_path: Path, stderr_path: Path) -> dict[str, float]:
    """Run a client process; wall seconds, CPU seconds and peak RSS (MB) of that process."""
    with open(stdout_path, "w") as out, open(stderr_path, "w") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(command, stdout=out, stderr=err, cwd=REPO)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        tail = stderr_path.read_text()[-2000:]
        raise RuntimeError(f"{command[2:4]} failed ({proc.returncode}):\n{tail}")
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "rss": usage.ru_maxrss / 1024}


def count_records(path: Path, streams: set[str]) -> tuple[int, Counter]:
    """RECORD lines of the measured streams, and num_media > 0 among messages."""
    total, media = 0, Counter()
    with open(path, "rb") as lines:
        for line in lines:
            if b'"RECORD"' not in line[:40]:
                continue
            message = json.loads(line)
            if message["type"] != "RECORD":
                continue
            if message["stream"] in streams:
                total += 1
            media[message["stream"]] += 1
            if message["stream"] == "messages" and int(message["record"]["num_media"] or 0):
                media["messages_with_media"] += 1
    return total, media


def catalog_for(config_path: Path, streams: set[str], workdir: Path) -> Path:
    discovered = subprocess.run(
        [sys.executable, "-m", "tap_twilio", "--config", str(config_path), "--discover"],
        capture_output=True, text=True, cwd=REPO, check=True,
    )
    catalog = json.loads(discovered.stdout)
    for entry in catalog["streams"]:
        for metadata in entry["metadata"]:
            if metadata["breadcrumb"] == []:
                metadata["metadata"]["selected"] = entry["tap_stream_id"] in streams
    path = workdir / ("catalog-" + "-".join(sorted(streams)) + ".json")
    path.write_text(json.dumps(catalog))
    return path


def client_runs(
    emu: EmulatorProcess, n: int, latency: float, args: argparse.Namespace, workdir: Path
) -> list[dict[str, Any]]:
    streams = set(args.streams.split(","))
    config = {**emu.config, **json.loads(args.tap_config)}
    window_config = {**config, "start_date": emu.oldest_day}
    paths = {}
    noseek_config = {**config, "seek_with_page_tokens": False}
    for name, content in (("full", config), ("window", window_config),
                          ("noseek", noseek_config)):
        paths[name] = workdir / f"config-{name}.json"
        paths[name].write_text(json.dumps(content))
    catalog = catalog_for(paths["full"], streams, workdir)
    state = workdir / "state-resumed.json"
    state.write_text(json.dumps(resumed_state(emu, streams, config)))
    tap = [sys.executable, "-m", "tap_twilio", "--catalog", str(catalog), "--config"]
    clients = {
        "floor": [sys.executable, __file__, "_floor", "--config", str(paths["full"]),
                  "--streams", args.streams, "--json", args.floor_json],
        "tap (full history)": [*tap, str(paths["full"])],
        "tap (window)": [*tap, str(paths["window"])],
        "tap (resumed)": [*tap, str(paths["full"]), "--state", str(state)],
        "tap (full history, no seek)": [*tap, str(paths["noseek"])],
    }
    emu.ask(f"latency {latency}")
    emu.stats()  # clears the log (discovery makes no request, but be sure)
    rows = []
    for client in args.clients.split(","):
        name = CLIENTS[client]
        out, err = workdir / f"{client}.jsonl", workdir / f"{client}.stderr"
        command = [*clients[name], "--out", str(out)] if client == "floor" else clients[name]
        stdout = out.with_suffix(".stdout") if client == "floor" else out
        if args.cache:  # warm the emulator's page cache with this client's own requests
            emu.ask("latency 0")  # the cache does not depend on it: no need to wait
            run_measured(command, stdout, err)
            emu.ask(f"latency {latency}")
            emu.stats()
        tries = []
        for _ in range(args.repeat):  # the fastest of the repeats: the machine may be shared
            tries.append((run_measured(command, stdout, err), emu.stats()["by_resource"]))
        measured, log = min(tries, key=lambda t: t[0]["wall"])
        records, _ = count_records(out, streams)
        list_requests = sum(log.get(s, 0) for s in streams)
        rows.append({
            "N": n, "latency": latency, "client": name, "records": records,
            "records_per_s": records / measured["wall"], **measured,
            "list_requests": list_requests,
            "other_requests": sum(log.values()) - list_requests,
            "stderr_lines": err.read_text().count("\n"),
        })
        print(_row_text(rows[-1], rows[0]), flush=True)
    return rows


def resumed_state(emu: EmulatorProcess, streams: set[str], config: dict) -> dict:
    """A state whose bookmarks, less the lookback, start every list on the window's day."""
    lookback = dt.timedelta(days=int(config.get("lookback_days", 3)))
    day = dt.date.fromisoformat(emu.oldest_day) + lookback
    keys = {"messages": "date_sent", "calls": "start_time"}
    return {"bookmarks": {stream: {"partitions": [
        {"context": {"account_sid": sid}, "replication_key": keys[stream],
         "replication_key_value": f"{day.isoformat()}T00:00:00+00:00"}
        for sid in emu.accounts
    ]} for stream in streams}}


def media_check(emu: EmulatorProcess, args: argparse.Namespace, workdir: Path) -> str:
    """messages + message_media: one Media request per message with num_media > 0, no more."""
    config_path = workdir / "config-media.json"
    config_path.write_text(json.dumps({**emu.config, **json.loads(args.tap_config)}))
    catalog = catalog_for(config_path, {"messages", "message_media"}, workdir)
    emu.ask("latency 0")
    emu.stats()
    out = workdir / "media.jsonl"
    measured = run_measured(
        [sys.executable, "-m", "tap_twilio", "--config", str(config_path), "--catalog",
         str(catalog)], out, workdir / "media.stderr",
    )
    log = emu.stats()["by_resource"]
    _, counts = count_records(out, {"messages"})
    with_media = counts["messages_with_media"]
    requests = log.get("message_media", 0)
    verdict = "OK" if requests == with_media else "MISMATCH"
    return (f"media check ({counts['messages']} messages, {with_media} with num_media > 0, "
            f"{counts['message_media']} media records, {measured['wall']:.1f} s): "
            f"{requests} message_media requests -> {verdict} "
            f"({counts['messages'] - with_media} messages without media, 0 requests for them)"
            if verdict == "OK" else
            f"media check: {requests} message_media requests for {with_media} messages "
            f"with media -> MISMATCH")


# --- scenarios: account shapes other than one long list --------------------------------------

SCENARIOS = ("media", "accounts", "limited", "export", "loader", "resume")
# The lists read once per account (children and the credentials' own alerts aside).
PER_ACCOUNT = ("calls", "conferences", "notifications", "messages", "recordings",
               "transcriptions", "incoming_phone_numbers", "outgoing_caller_ids", "addresses",
               "applications", "keys", "queues", "usage_triggers", "usage_records",
               "account_balance")
SCENARIO_HEADER = ("| scenario | client | records | requests | 429s | wall s | CPU s "
                   "| peak RSS MB | state partitions | vs |")


class Scenario:
    """One scenario's emulator, its tap runs and their rows."""

    def __init__(self, name: str, emu: EmulatorProcess, args: argparse.Namespace,
                 workdir: Path) -> None:
        self.name, self.emu, self.args = name, emu, args
        self.workdir = workdir / "".join(c if c.isalnum() else "-" for c in name)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.rows: list[dict[str, Any]] = []

    def tap(self, client: str, streams: set[str], latency: float, *, base: str | None = None,
            pipe: str | None = None, state: Path | None = None,
            **settings: Any) -> dict[str, Any]:
        """Run the tap (into `pipe`, a shell command, if given; from `state`, if given) and
        add its row; `base`: the client whose wall time this row is compared with."""
        slug = "".join(c if c.isalnum() else "-" for c in client)
        config = self.workdir / f"config-{slug}.json"
        config.write_text(json.dumps({**self.emu.config, **json.loads(self.args.tap_config),
                                      **settings}))
        catalog = catalog_for(config, streams, self.workdir)
        out, err = self.workdir / f"{slug}.jsonl", self.workdir / f"{slug}.stderr"
        command = [sys.executable, "-m", "tap_twilio", "--config", str(config),
                   "--catalog", str(catalog), *(["--state", str(state)] if state else [])]
        if pipe:
            command = ["bash", "-o", "pipefail", "-c",
                       f"{shlex.join(command)} | tee {shlex.quote(str(out))} | {pipe}"]
        self.emu.ask(f"latency {latency}")
        self.emu.stats()
        measured = run_measured(command, self.workdir / f"{slug}.stdout" if pipe else out, err)
        log = self.emu.stats()
        records, counts = count_records(out, streams)
        row = {"scenario": self.name, "client": client, "records": records, **measured,
               "requests": sum(log["by_resource"].values()),
               "throttled": log["statuses"].get("429", 0),
               "in_flight": log["busy"] / measured["wall"],  # on average over the run
               "by_resource": log["by_resource"], "counts": counts,
               "partitions": partitions(final_state(out)), "latency": latency,
               "output": str(out)}
        previous = {r["client"]: r for r in self.rows}
        ratio = previous[base]["wall"] / row["wall"] if base else 0.0
        row["vs"] = "" if not base else (f"{ratio:.1f}x faster" if ratio >= 1
                                         else f"{1 / ratio:.1f}x slower")
        self.rows.append(row)
        print(_scenario_text(row), flush=True)
        return row


def final_state(path: Path) -> dict:
    """The last STATE a tap wrote to this file (only that one is decoded: over many
    accounts each STATE holds every partition)."""
    last = None
    with open(path, "rb") as lines:
        for line in lines:
            if b'"STATE"' in line[:40] and line.endswith(b"\n"):
                last = line
    return json.loads(last)["value"] if last else {}


def partitions(state: dict) -> dict[str, int]:
    """State partitions per stream."""
    return {stream: len(entry.get("partitions", []))
            for stream, entry in state.get("bookmarks", {}).items() if entry.get("partitions")}


def record_lines(path: Path) -> list[str]:
    """Every record of a tap's output (stream and record, not when it was extracted),
    sorted, to compare two runs' outputs."""
    with open(path, "rb") as lines:
        messages = (json.loads(line) for line in lines if b'"RECORD"' in line[:40])
        return sorted(json.dumps([m["stream"], m["record"]], sort_keys=True)
                      for m in messages)


def same_records(a: dict[str, Any], b: dict[str, Any]) -> str:
    return "holds" if record_lines(Path(a["output"])) == record_lines(Path(b["output"])) \
        else "MISSED"


def _scenario_text(row: dict[str, Any]) -> str:
    counts = sorted(set(row["partitions"].values()))
    parts = {0: "-", 1: f"{counts[0]} per stream"}.get(
        len(counts), f"{counts[0]}-{counts[-1]} per stream")
    share = row["throttled"] / max(row["requests"], 1)
    return (f"| {row['scenario']} | {row['client']} | {row['records']:,} | "
            f"{row['requests']:,} | {row['throttled']:,} ({share:.1%}) | {row['wall']:.1f} | "
            f"{row['cpu']:.1f} | {row['rss']:.0f} | {parts} | {row['vs']} |")


def resume_scenario(args: argparse.Namespace, workdir: Path) -> list[str]:
    """One account's messages: a full run; a run killed (SIGKILL) at half the full run's
    wall time; the run resumed from the last STATE the killed one wrote. Its requests
    against the full run's, and the killed run's messages it wrote again."""
    latency, streams = args.scenario_latency, {"messages"}
    emu = EmulatorProcess(args.resume_messages, args, subaccounts=0, cache=False, calls=0)
    try:
        run = Scenario("killed at 50%", emu, args, workdir)
        full = run.tap("full run", streams, latency)
        config = run.workdir / "config-full-run.json"
        killed = run.workdir / "killed.jsonl"
        emu.ask(f"latency {latency}")
        with killed.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "tap_twilio", "--config", str(config), "--catalog",
                 str(catalog_for(config, streams, run.workdir))],
                stdout=out, stderr=subprocess.DEVNULL, cwd=REPO)
            try:
                process.wait(timeout=full["wall"] / 2)
            except subprocess.TimeoutExpired:
                process.kill()
            process.wait()
        emu.stats()  # the killed run's requests, not counted below
        state = run.workdir / "killed-state.json"
        state.write_text(json.dumps(final_state(killed)))
        resumed = run.tap("resumed", streams, latency, state=state)
    finally:
        emu.close()
    written, again = message_sids(killed), message_sids(Path(resumed["output"]))
    share = resumed["requests"] / full["requests"]
    left = 1 - len(written) / max(full["counts"].get("messages", 0), 1)
    return [
        f"killed at 50%, {latency * 1000:.0f} ms, {args.resume_messages:,} messages: "
        f"resumed run's requests / full run's: {resumed['requests']:,} / "
        f"{full['requests']:,} = {share:.0%} (share left at the kill: {left:.0%}; within "
        f"10 points: {'holds' if share <= left + 0.10 else 'MISSED'}); messages the killed "
        f"run wrote written again: {len(written & again):,} of {len(written):,}"]


def message_sids(path: Path) -> set[str]:
    """The SIDs of the messages in a tap's output (complete lines only: a killed run's
    last line may be cut short)."""
    sids = set()
    with open(path, "rb") as lines:
        for line in lines:
            if b'"RECORD"' in line[:40] and line.endswith(b"\n"):
                message = json.loads(line)
                if message["stream"] == "messages":
                    sids.add(message["record"]["sid"])
    return sids


def media_scenario(args: argparse.Namespace, workdir: Path) -> list[str]:
    """A media-heavy account: messages and message_media, max_concurrency 1 vs the tap."""
    emu = EmulatorProcess(args.media_messages, args, subaccounts=0, cache=False, calls=1)
    try:
        run = Scenario("media-heavy", emu, args, workdir)
        latency, streams = args.scenario_latency, {"messages", "message_media"}
        serial = run.tap("max_concurrency 1", streams, latency, max_concurrency=1)
        tap = run.tap("tap", streams, latency, base="max_concurrency 1")
    finally:
        emu.close()
    with_media = tap["counts"]["messages_with_media"]
    media_requests = tap["by_resource"].get("message_media", 0)
    speedup = serial["wall"] / tap["wall"]
    return [
        f"media-heavy, {latency * 1000:.0f} ms: {tap['counts']['messages']:,} messages, "
        f"{with_media:,} with media, {media_requests:,} media requests (one per message "
        f"with media: {'holds' if media_requests == with_media else 'MISSED'}); "
        f"{speedup:.1f}x faster than max_concurrency 1 (target >= 5x): "
        f"{'holds' if speedup >= 5 else 'MISSED'}; same records: {same_records(serial, tap)}"
    ]


def accounts_scenario(args: argparse.Namespace, workdir: Path) -> list[str]:
    """Many accounts with small lists: time against requests x latency / max_concurrency,
    memory, at most one state partition per account, and STATE bytes against RECORD bytes."""
    lines = []
    latency = args.scenario_latency
    workers = int(json.loads(args.tap_config).get("max_concurrency", 8))
    for count in [int(c) for c in args.account_counts.split(",")]:
        emu = EmulatorProcess(args.account_messages, args, subaccounts=count - 1, cache=False,
                              calls=args.account_messages)
        try:
            row = Scenario(f"{count:,} accounts", emu, args, workdir).tap(
                "tap", {"accounts", *PER_ACCOUNT}, latency)
        finally:
            emu.close()
        expected = row["requests"] * latency / workers
        per_stream = set(row["partitions"].values())
        sizes, states = message_bytes(Path(row["output"]))
        share = sizes["STATE"] / max(sizes["RECORD"], 1)
        lines.append(
            f"{count:,} accounts, {latency * 1000:.0f} ms: {row['requests']:,} requests, "
            f"{row['wall']:.0f} s against requests x latency / max_concurrency = "
            f"{expected:.0f} s ({row['wall'] / expected:.2f}x; {row['in_flight']:.1f} "
            f"requests in flight on average), peak RSS {row['rss']:.0f} MB; "
            f"state partitions per stream: {sorted(per_stream)} (at most one per account: "
            f"{'holds' if max(per_stream, default=0) <= count else 'MISSED'}); "
            f"STATE bytes / RECORD bytes: {share:.2%} ({states} STATEs, "
            f"{sizes['STATE'] / 1e6:.1f} MB beside {sizes['RECORD'] / 1e6:.1f} MB; "
            f"at most 10%: {'holds' if share <= 0.1 else 'MISSED'})")
    return lines


def message_bytes(path: Path) -> tuple[Counter, int]:
    """Bytes of a tap's output lines per message type (RECORD, STATE, ...), and the number
    of STATE lines."""
    sizes: Counter = Counter()
    states = 0
    with open(path, "rb") as lines:
        for line in lines:
            kind = line[len(b'{"type":"'):].split(b'"', 1)[0].decode()
            sizes[kind] += len(line)
            states += kind == "STATE"
    return sizes, states


def limited_scenario(args: argparse.Namespace, workdir: Path) -> list[str]:
    """An account that allows `--limit-in-flight` requests in flight, read with
    max_concurrency 8: the share of 429s, and the same records as without the limit."""
    emu = EmulatorProcess(args.limited_messages, args, subaccounts=0, cache=False,
                          max_in_flight=args.limit_in_flight)
    try:
        run = Scenario(f"limit {args.limit_in_flight} in flight", emu, args, workdir)
        streams, latency = {"messages", "calls"}, args.scenario_latency
        # Pages of 100: enough requests that the first burst's 429s are not the whole story.
        window = {"start_date": emu.oldest_day, "max_concurrency": 8, "page_size": 100}
        emu.ask("limit 0")
        clean = run.tap("no limit", streams, latency, **window)
        emu.ask(f"limit {args.limit_in_flight}")
        limited = run.tap("limited", streams, latency, base="no limit", **window)
    finally:
        emu.close()
    share = limited["throttled"] / limited["requests"]
    return [f"Twilio's limit of {args.limit_in_flight} requests in flight, max_concurrency "
            f"8: {share:.1%} of requests answered 429 (target <= 10%): "
            f"{'holds' if share <= 0.10 else 'MISSED'}; same records as without the limit: "
            f"{same_records(clean, limited)}"]


def loader_scenario(args: argparse.Namespace, workdir: Path) -> list[str]:
    """`tap | loader` against the tap alone, messages and their media, at no latency."""
    loader = args.loader or jsonl_loader(workdir)
    emu = EmulatorProcess(args.media_messages, args, subaccounts=0, cache=False, calls=1)
    try:
        run = Scenario("loader pipeline", emu, args, workdir)
        streams = {"messages", "message_media"}
        alone = run.tap("tap > file", streams, 0.0)
        name = shlex.split(loader)[0].rsplit("/", 1)[-1]
        piped = run.tap(f"tap \\| {name}", streams, 0.0, pipe=loader)
    finally:
        emu.close()
    return [f"tap | {name}: {piped['wall']:.1f} s wall against {alone['wall']:.1f} s for "
            f"the tap alone ({piped['cpu']:.1f} s CPU, loader included); same records: "
            f"{same_records(alone, piped)}"]


def jsonl_loader(workdir: Path) -> str:
    """target-jsonl, installed as the demo installs it, writing into the work directory."""
    sys.path.insert(0, str(REPO / "scripts"))
    import demo

    demo.install_target()
    config, output = workdir / "target-jsonl.json", workdir / "loaded"
    output.mkdir(exist_ok=True)
    config.write_text(json.dumps({"destination_path": str(output),
                                  "do_timestamp_file": False}))
    return f"{shlex.quote(str(demo.TARGET))} --config {shlex.quote(str(config))}"


def export_scenario(args: argparse.Namespace, workdir: Path) -> list[str]:
    """A year of one account's messages read from BulkExport's day files (days older than
    the list keeps) against a year read from the list (its last 365 days)."""
    emu = EmulatorProcess(args.export_messages, args, subaccounts=0, cache=False, calls=1,
                          full_history=True)
    today = dt.datetime.now(dt.timezone.utc).date()
    try:
        run = Scenario("a year of messages", emu, args, workdir)
        latency, streams = args.scenario_latency, {"messages"}
        listed = run.tap("from the list", streams, latency,
                         start_date=str(today - dt.timedelta(days=364)))
        exported = run.tap("from BulkExport", streams, latency, base="from the list",
                           start_date=str(today - dt.timedelta(days=765)),
                           end_date=str(today - dt.timedelta(days=401)))
    finally:
        emu.close()
    return [f"a year of messages, {latency * 1000:.0f} ms: from the list {listed['records']:,} "
            f"records in {listed['requests']:,} requests, {listed['wall']:.1f} s, peak RSS "
            f"{listed['rss']:.0f} MB; from BulkExport {exported['records']:,} records in "
            f"{exported['requests']:,} requests, {exported['wall']:.1f} s, peak RSS "
            f"{exported['rss']:.0f} MB"]


def scenarios(names: list[str], args: argparse.Namespace, workdir: Path) -> list[str]:
    """Run the named scenarios, printing one table; their verdicts, for the targets."""
    runners = {"media": media_scenario, "accounts": accounts_scenario,
               "limited": limited_scenario, "loader": loader_scenario,
               "export": export_scenario, "resume": resume_scenario}
    print("\n" + SCENARIO_HEADER)
    print("|" + "---|" * (SCENARIO_HEADER.count("|") - 1), flush=True)
    lines = []
    for name in names:
        lines += runners[name](args, workdir)
    return lines

# --- output ----------------------------------------------------------------------------------

HEADER = ("| N | latency | client | records | records/s | wall s | CPU s | peak RSS MB "
          "| list req. | other req. | vs floor |")


def _row_text(row: dict[str, Any], floor_row: dict[str, Any]) -> str:
    ratio = row["records_per_s"] / floor_row["records_per_s"] if floor_row else float("nan")
    return (f"| {row['N']:,} | {row['latency'] * 1000:.0f} ms | {row['client']} | "
            f"{row['records']:,} | {row['records_per_s']:,.0f} | {row['wall']:.1f} | "
            f"{row['cpu']:.1f} | {row['rss']:.0f} | {row['list_requests']:,} | "
            f"{row['other_requests']:,} | {ratio:.2f}x |")


def tap_start_up() -> float:
    """Seconds for a Python process to import the tap and exit (fastest of three)."""
    times = []
    for _ in range(3):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import tap_twilio.cli"], cwd=REPO, check=True)
        times.append(time.perf_counter() - started)
    return min(times)


def best_possible(row: dict[str, Any], floor: dict[str, Any], start_up: float) -> float:
    """The highest records/s ratio to the floor any tap on this start-up could reach on a
    list longer than a page: its records come at least two round trips after start-up
    (the first page, then the slices or walks it shows are needed)."""
    return floor["wall"] / (start_up + 2 * row["latency"]) * row["records"] / floor["records"]


def targets(rows: list[dict[str, Any]], args: argparse.Namespace) -> list[str]:
    """The issue's targets, checked on the measured rows."""
    lines = []
    by = {(r["N"], r["latency"], r["client"]): r for r in rows}
    start_up = None
    for (n, latency, client), row in sorted(by.items()):
        base = by.get((n, latency, "floor"))
        if client == "floor" or not base:
            continue
        ratio = row["records_per_s"] / base["records_per_s"]
        want = 0.5 if latency == 0 else 4.0
        verdict = "holds" if ratio >= want else "MISSED"
        if verdict == "MISSED" and latency > 0:
            start_up = tap_start_up() if start_up is None else start_up
            bound = best_possible(row, base, start_up)
            if bound < want:  # say so: no change to the tap could meet this one
                verdict += (f" (unreachable: start-up {start_up:.2f} s + 2 round trips "
                            f"against the floor's {base['wall']:.1f} s allow at most "
                            f"{bound:.1f}x)")
        lines.append(f"N={n:,} latency {latency * 1000:.0f} ms {client}: {ratio:.2f}x the "
                     f"floor's records/s (target >= {want:g}x): {verdict}")
    taps = [r for r in rows if r["client"] != "floor"]
    if taps:
        peak = max(r["rss"] for r in taps)
        by_n = {}
        for r in taps:
            by_n[r["N"]] = max(by_n.get(r["N"], 0), r["rss"])
        lines.append("peak RSS of the tap by N: " + ", ".join(
            f"{n:,}: {mb:.0f} MB" for n, mb in sorted(by_n.items())) +
            f" (target < 200 MB and flat): {'holds' if peak < 200 else 'MISSED'}")
    accounts = args.subaccounts + 1
    for row in rows:
        if row["latency"] != latencies_first(rows):
            continue
        pages = accounts * sum(math.ceil(size / 1000) for size in _sizes_of(row["N"], args))
        lines.append(
            f"N={row['N']:,} {row['client']}: {row['list_requests']} list requests "
            f"(sum of ceil(records/1000) per list = {pages}; overhead "
            f"{row['list_requests'] - pages}), {row['other_requests']} other requests"
        )
    return lines


def latencies_first(rows: list[dict[str, Any]]) -> float:
    return rows[0]["latency"]


def _sizes_of(n: int, args: argparse.Namespace) -> list[int]:
    sizes = {"messages": n, "calls": args.calls}
    return [max(sizes[s], 1) for s in args.streams.split(",")]


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in ("_serve", "_floor"):
        p = argparse.ArgumentParser()
        p.add_argument("--messages", type=int)
        p.add_argument("--calls", type=int)
        p.add_argument("--subaccounts", type=int)
        p.add_argument("--seed", type=int)
        p.add_argument("--config")
        p.add_argument("--streams")
        p.add_argument("--out")
        p.add_argument("--json", default="stdlib")
        p.add_argument("--cache", action="store_true")
        p.add_argument("--max-in-flight", type=int)
        p.add_argument("--full-history", action="store_true")
        child = p.parse_args(argv[1:])
        return serve(child) if argv[0] == "_serve" else floor(child)

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", default="10000,100000",
                   help="messages per account, comma-separated (default 10000,100000)")
    p.add_argument("--latencies", default="0,0.2",
                   help="emulator seconds per request, comma-separated (default 0,0.2)")
    p.add_argument("--calls", type=int, default=1000, help="calls per account (default 1000)")
    p.add_argument("--subaccounts", type=int, default=0,
                   help="subaccounts of the main account (each with its own data)")
    p.add_argument("--streams", default="messages,calls",
                   help="streams read by every client (messages, calls)")
    p.add_argument("--clients", default="floor,full,window,resumed",
                   help="which of floor, full, window, resumed, noseek to run (default: "
                   "all but noseek)")
    p.add_argument("--tap-config", default="{}",
                   help='JSON merged into the tap config, e.g. \'{"max_concurrency": 8}\'')
    p.add_argument("--floor-json", choices=("stdlib", "msgspec"), default="stdlib",
                   help="the floor's JSON library (default: the stdlib json module)")
    p.add_argument("--repeat", type=int, default=1,
                   help="runs of each client; the fastest is reported (default 1)")
    p.add_argument("--no-cache", dest="cache", action="store_false",
                   help="serve every page freshly built (the emulator's CPU becomes the limit)")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--no-media-check", action="store_true")
    p.add_argument("--loader", help="the loader scenario's shell command reading Singer "
                   "messages on stdin (default: target-jsonl, installed as the demo does); "
                   "giving one adds the loader scenario")
    p.add_argument("--scenarios", default="",
                   help=f"comma-separated, of {', '.join(SCENARIOS)}, or all (default: none)")
    p.add_argument("--scenario-latency", type=float, default=0.2,
                   help="emulator seconds per request in the scenarios (default 0.2; the "
                   "loader scenario runs at 0)")
    p.add_argument("--media-messages", type=int, default=10000,
                   help="messages of the media-heavy account (default 10000)")
    p.add_argument("--account-counts", default="301,1001",
                   help="accounts of the accounts scenario, comma-separated (default 301,1001)")
    p.add_argument("--account-messages", type=int, default=20,
                   help="messages and calls of the main account in the accounts scenario "
                   "(subaccounts get fewer; default 20)")
    p.add_argument("--limited-messages", type=int, default=10000,
                   help="messages of the concurrency-limited account (default 10000)")
    p.add_argument("--limit-in-flight", type=int, default=4,
                   help="requests in flight the limited emulator allows (default 4)")
    p.add_argument("--export-messages", type=int, default=8000,
                   help="messages over the export scenario's 800 days of history (default "
                   "8000)")
    p.add_argument("--resume-messages", type=int, default=150000,
                   help="messages of the account killed and resumed (default 150000)")
    p.add_argument("--workdir", help="keep outputs here (default: a temporary directory)")
    p.add_argument("--json-out", help="also write the rows to this JSON file")
    args = p.parse_args(argv)

    sizes = [int(s) for s in args.sizes.split(",") if s]
    chosen = SCENARIOS if args.scenarios == "all" else [
        name for name in args.scenarios.split(",") if name]
    unknown = set(chosen) - set(SCENARIOS)
    if unknown:
        p.error(f"--scenarios: unknown {', '.join(sorted(unknown))}; known: "
                f"{', '.join(SCENARIOS)}, all")
    if args.loader and "loader" not in chosen:
        chosen = [*chosen, "loader"]
    latencies = [float(s) for s in args.latencies.split(",")]
    print(f"tap-twilio benchmark: sizes {sizes}, latencies {latencies} s, streams "
          f"{args.streams}, {args.calls} calls and {args.subaccounts + 1} account(s), "
          f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}, load average "
          f"{os.getloadavg()[0]:.2f}, best of {args.repeat}, pages "
          f"{'cached after a warm-up run' if args.cache else 'built per request'}\n",
          flush=True)
    rows: list[dict[str, Any]] = []
    media, scenario_lines = None, []
    if sizes:
        print(HEADER)
        print("|" + "---|" * (HEADER.count("|") - 1))
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(args.workdir or tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        for n in sizes:
            emu = EmulatorProcess(n, args)
            try:
                for latency in latencies:
                    rows += client_runs(emu, n, latency, args, workdir)
            finally:
                emu.close()
        if sizes and not args.no_media_check:
            emu = EmulatorProcess(min(sizes), args)
            try:
                media = media_check(emu, args, workdir)
            finally:
                emu.close()
        if chosen:
            scenario_lines = scenarios(list(chosen), args, workdir)
    print(f"\nload average at the end: {os.getloadavg()[0]:.2f}\n\nTargets:")
    for line in targets(rows, args):
        print("- " + line)
    if media:
        print("- " + media)
    for line in scenario_lines:
        print("- " + line)
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
