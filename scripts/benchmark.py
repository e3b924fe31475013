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

With `--loader CMD` (a shell command reading Singer messages on stdin, e.g.
`--loader "target-postgres --config pipelinewise.json"`), the same read is also piped into
it: the wall time of `tap | CMD` and the SCHEMA lines the loader got (one per stream; a
loader of the pipelinewise family loads what it holds at each of them).
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


# --- the emulator, in its own process, with a control channel on stdin/stdout ---------------


def serve(args: argparse.Namespace) -> int:
    """Child mode: run the emulator; answer `stats`, `latency S` and `quit` lines on stdin."""
    sys.path.insert(0, str(REPO))
    from tests.emulator import Emulator

    sizes = {"messages": args.messages, "calls": args.calls}
    emu = Emulator(seed=args.seed, subaccounts=args.subaccounts, sizes=sizes, latency=0.0)
    if args.cache:
        memoize_responses(emu)
    emu.start()
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
        elif command == "stats":  # the request log since the last `stats`, then cleared
            log = emu.requests
            emu.clear_requests()
            counts = Counter(r.resource or "?" for r in log)
            print(json.dumps({"by_resource": counts, "statuses": Counter(
                str(r.status) for r in log)}), flush=True)
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
    def __init__(self, n: int, args: argparse.Namespace) -> None:
        command = [sys.executable, __file__, "_serve", *(["--cache"] if args.cache else []),
                   "--messages", str(n), "--calls",
                   str(args.calls), "--subaccounts", str(args.subaccounts), "--seed",
                   str(args.seed)]
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


def loader_pipeline(emu: EmulatorProcess, args: argparse.Namespace, workdir: Path) -> str:
    """`tap | LOADER` for messages + message_media: the pipeline's wall and CPU seconds."""
    config_path = workdir / "config-media.json"
    config_path.write_text(json.dumps({**emu.config, **json.loads(args.tap_config)}))
    catalog = catalog_for(config_path, {"messages", "message_media"}, workdir)
    emu.ask("latency 0")
    tap_out = workdir / "loader-input.jsonl"
    tap = shlex.join([sys.executable, "-m", "tap_twilio", "--config", str(config_path),
                      "--catalog", str(catalog)])
    measured = run_measured(
        ["bash", "-o", "pipefail", "-c", f"{tap} | tee {shlex.quote(str(tap_out))} | "
                                         f"{args.loader}"],
        workdir / "loader.stdout", workdir / "loader.stderr",
    )
    kinds = Counter(json.loads(line)["type"] for line in tap_out.open("rb"))
    return (f"tap | {args.loader} (messages + message_media, {kinds['RECORD']:,} records, "
            f"{kinds['SCHEMA']} SCHEMA lines): {measured['wall']:.1f} s wall, "
            f"{measured['cpu']:.1f} s CPU")


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
    p.add_argument("--loader", help="a loader's shell command: also time `tap | LOADER`")
    p.add_argument("--workdir", help="keep outputs here (default: a temporary directory)")
    p.add_argument("--json-out", help="also write the rows to this JSON file")
    args = p.parse_args(argv)

    sizes = [int(s) for s in args.sizes.split(",")]
    latencies = [float(s) for s in args.latencies.split(",")]
    print(f"tap-twilio benchmark: sizes {sizes}, latencies {latencies} s, streams "
          f"{args.streams}, {args.calls} calls and {args.subaccounts + 1} account(s), "
          f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}, load average "
          f"{os.getloadavg()[0]:.2f}, best of {args.repeat}, pages "
          f"{'cached after a warm-up run' if args.cache else 'built per request'}\n",
          flush=True)
    print(HEADER)
    print("|" + "---|" * (HEADER.count("|") - 1))
    rows: list[dict[str, Any]] = []
    media = loader = None
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
        if not args.no_media_check:
            emu = EmulatorProcess(min(sizes), args)
            try:
                media = media_check(emu, args, workdir)
            finally:
                emu.close()
        if args.loader:
            emu = EmulatorProcess(min(sizes), args)
            try:
                loader = loader_pipeline(emu, args, workdir)
            finally:
                emu.close()
    print(f"\nload average at the end: {os.getloadavg()[0]:.2f}\n\nTargets:")
    for line in targets(rows, args):
        print("- " + line)
    if media:
        print("- " + media)
    if loader:
        print("- " + loader)
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
