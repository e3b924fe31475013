"""Run the emulator in the foreground: python -m tests.emulator --port 8765 --messages 100000

With --tap-config FILE it also writes a tap-twilio config pointing at itself (README quick start).
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from datetime import datetime
from pathlib import Path

from .data import SIZED_RESOURCES
from .emulator import Emulator
from .faults import FAULT_KINDS


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tests.emulator", description=__doc__)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0, help="0 = a free port")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--subaccounts", type=int, default=2)
    p.add_argument("--latency", type=float, default=0.0, help="seconds slept per request")
    p.add_argument("--now", help="data anchor, ISO 8601 (default: current UTC hour)")
    p.add_argument("--ages", help="account ages in days, main first, comma-separated")
    p.add_argument("--api-key-kind", choices=("main", "standard"), default="main")
    p.add_argument("--fault-rate", type=float, default=0.0)
    p.add_argument("--fault-kinds", default=",".join(FAULT_KINDS))
    p.add_argument("--fault-seed", type=int, default=1)
    p.add_argument("--max-in-flight", type=int, help="concurrency limit per account (429 beyond)")
    p.add_argument("--tap-config", type=Path, metavar="FILE",
                   help="write a tap-twilio config pointing at the emulator to FILE")
    p.add_argument(
        "--platform-size",
        action="append",
        default=[],
        metavar="LIST=N",
        help="records per list of the specs, by host and path: studio.twilio.com/v2/Flows=N "
        "(repeatable)",
    )
    p.add_argument(
        "--unused-product",
        action="append",
        default=[],
        metavar="HOST",
        help="a Twilio host or API no account uses: it answers 404 (repeatable)",
    )
    for res in SIZED_RESOURCES:
        p.add_argument(
            f"--{res.replace('_', '-')}",
            type=int,
            dest=res,
            help=f"number of {res} of the main account",
        )
    args = p.parse_args(argv)

    sizes = {r: getattr(args, r) for r in SIZED_RESOURCES if getattr(args, r) is not None}
    emu = Emulator(
        seed=args.seed,
        subaccounts=args.subaccounts,
        sizes=sizes,
        latency=args.latency,
        now=datetime.fromisoformat(args.now) if args.now else None,
        account_ages_days=[float(x) for x in args.ages.split(",")] if args.ages else None,
        host=args.host,
        port=args.port,
        api_key_kind=args.api_key_kind,
        max_in_flight=args.max_in_flight,
        platform_sizes={
            name: int(n) for name, _, n in (item.partition("=") for item in args.platform_size)
        },
        unused_products={product: "all" for product in args.unused_product},
    )
    if args.fault_rate:
        emu.faults.configure(
            rate=args.fault_rate, kinds=args.fault_kinds.split(","), seed=args.fault_seed
        )
    emu.start()
    if args.tap_config:
        args.tap_config.write_text(json.dumps(emu.config(), indent=2) + "\n")

    stopping = threading.Event()
    # Ctrl-C (SIGINT) and SIGTERM stop it. SIGINT gets a handler of its own, not Python's
    # KeyboardInterrupt, which a process started with SIGINT ignored (as a launcher may
    # leave it for its child) never receives.
    for stop_signal in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop_signal, lambda signum, frame: stopping.set())
    print(
        json.dumps(
            {
                "url": emu.url,
                "account_sid": emu.account_sid,
                "auth_token": emu.auth_token,
                "api_key_sid": emu.api_key_sid,
                "api_key_secret": emu.api_key_secret,
                "subaccount_sids": emu.subaccount_sids,
            }
        ),
        flush=True,
    )
    try:
        while not stopping.wait(0.5):
            pass
    finally:
        emu.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
