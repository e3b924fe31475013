#!/usr/bin/env python3
"""Generate the emulator's SID prefixes from Twilio's OpenAPI specs.

Usage (developers only; the emulator never reads the specs at run time)::

    python scripts/generate_emulator_sids.py [SPEC_DIR]          # (re)write the output
    python scripts/generate_emulator_sids.py [SPEC_DIR] --check  # exit 1 if it differs

For every stream of ``tap_twilio/streams_table.json``, the two-letter prefix of each SID field
of its records, as the spec's ``pattern`` gives it (``^FW[0-9a-fA-F]{32}$`` -> ``FW``; the first
of ``^(SM|MM)...``), written to ``tests/emulator/sid_prefixes.json``: the emulator's records then
carry the SIDs Twilio's would.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import generate_streams
from generate_schemas import SpecError

REPO_ROOT = generate_streams.REPO_ROOT
OUTPUT = Path("tests") / "emulator" / "sid_prefixes.json"
PREFIX = re.compile(r"^\^\(?([A-Z]{2})\b")


def sid_prefixes(properties: dict) -> dict[str, str]:
    """{field: prefix} for the SID fields whose pattern names a prefix."""
    found = {}
    for name, prop in sorted(properties.items()):
        match = PREFIX.match(prop.get("pattern") or "")
        if (name == "sid" or name.endswith("_sid")) and match:
            found[name] = match.group(1)
    return found


def render(spec_dir: Path) -> str:
    specs = generate_streams.load_all_specs(spec_dir)
    endpoints = {e.key: e for e in generate_streams.list_endpoints(specs)}
    rows = json.loads((REPO_ROOT / generate_streams.TABLE_FILE).read_text(encoding="utf-8"))
    prefixes = {}
    for row in rows["streams"]:
        endpoint = endpoints.get((row["api"], row["path"]))
        if endpoint is None:
            raise SpecError(f"{row['name']}: {row['api']} {row['path']} is in no spec")
        found = sid_prefixes(endpoint.item_properties())
        if found:
            prefixes[row["name"]] = found
    return json.dumps(prefixes, indent=2, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "spec_dir",
        type=Path,
        nargs="?",
        default=generate_streams.DEFAULT_SPEC_DIR,
        help="folder with Twilio's twilio_*.json specs (default: %(default)s)",
    )
    parser.add_argument("--check", action="store_true", help="exit 1 if the output differs")
    args = parser.parse_args(argv)
    try:
        content = render(args.spec_dir)
    except SpecError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    path = REPO_ROOT / OUTPUT
    current = path.read_text(encoding="utf-8") if path.is_file() else None
    if args.check:
        if current != content:
            print(f"{path} differs: run python scripts/generate_emulator_sids.py", file=sys.stderr)
            return 1
        return 0
    if current != content:
        path.write_text(content, encoding="utf-8", newline="\n")
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
