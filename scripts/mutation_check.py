"""Check that the test suite catches a wrong tap: make small wrong changes, one at a time, and
run the tests that should catch each.

Usage: python scripts/mutation_check.py [--only NAME ...] [--markdown]

The repository is copied to a temporary folder once; for each change (a wrong list key in the
stream table, a dropped date filter, a window a day short, a record lost from every page, a
skipped child list, a retention clamp removed, ...) the copy's file is edited, the chosen tests
run against the copy (``python -m pytest``, the copy first on ``PYTHONPATH``), and the file is
restored. A change is caught when a test fails. The script exits 1 if any change went
uncaught; ``--markdown`` prints the result as README's table. Run before a release.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
TABLE = "tap_twilio/streams_table.json"
PLATFORM = "tests/test_platform_streams.py"


@dataclass(frozen=True)
class Mutation:
    name: str  # what is wrong, as README's table says it
    path: str  # the file changed, relative to the repository
    old: str  # text replaced (exactly once)
    new: str
    tests: tuple[str, ...]  # pytest node ids or files, with `-k` expressions after "::-k "


MUTATIONS = [
    Mutation(
        "wrong list key in the table (studio_flows: `flow`)",
        TABLE,
        '"list_key": "flows",',
        '"list_key": "flow",',
        (f"{PLATFORM}::-k complete_for_every_account and studio_flows",),
    ),
    Mutation(
        "wrong path in the table (studio_flows: Studio v1's Flows)",
        TABLE,
        '"path": "/v2/Flows",',
        '"path": "/v1/Flows",',
        (f"{PLATFORM}::-k studio_flows",),
    ),
    Mutation(
        "wrong paging family in the table (verify_services: the 2010 API's)",
        TABLE,
        '"host": "verify.twilio.com",\n      "path": "/v2/Services",\n      "family": "meta",',
        '"host": "verify.twilio.com",\n      "path": "/v2/Services",\n      "family": "v2010",',
        (f"{PLATFORM}::-k complete_for_every_account and verify_services",),
    ),
    Mutation(
        "dropped date filter (video_rooms)",
        TABLE,
        '"path": "/v1/Rooms",\n      "family": "meta",\n      "list_key": "rooms",\n'
        '      "primary_keys": [\n        "sid"\n      ],\n      "parent": null,\n'
        '      "parent_keys": {},\n      "path_fields": {},\n      "per_account": true,\n'
        '      "date_filter": {',
        '"path": "/v1/Rooms",\n      "family": "meta",\n      "list_key": "rooms",\n'
        '      "primary_keys": [\n        "sid"\n      ],\n      "parent": null,\n'
        '      "parent_keys": {},\n      "path_fields": {},\n      "per_account": true,\n'
        '      "date_filter": null,\n      "dropped_date_filter": {',
        (f"{PLATFORM}::-k window and video_rooms",),
    ),
    Mutation(
        "wrong field type in a schema (studio_flows.revision: string)",
        "tap_twilio/schemas/studio_flows.json",
        '"description": "The latest revision number of the Flow\'s definition.",\n'
        '      "type": [\n        "integer",',
        '"description": "The latest revision number of the Flow\'s definition.",\n'
        '      "type": [\n        "string",',
        (f"{PLATFORM}::-k studio_flows",),
    ),
    Mutation(
        "window a day short (the last day's records of a date-time filter)",
        "tap_twilio/twilio/planning.py",
        'f"{end}T23:59:59Z"',
        'f"{end}T00:00:00Z"',
        (f"{PLATFORM}::-k window",),
    ),
    Mutation(
        "window a day late at its start (date-time filters)",
        "tap_twilio/twilio/planning.py",
        'f"{start}T00:00:00Z"',
        'f"{start + day}T00:00:00Z"',
        (f"{PLATFORM}::-k window",),
    ),
    Mutation(
        "calls' `StartTime<` taken as on or before (the spec: before)",
        "tap_twilio/twilio/lists.py",
        "upper_exclusive=True, retention_days=VOICE_LOGS_DAYS)",
        "upper_exclusive=False, retention_days=VOICE_LOGS_DAYS)",
        ("tests/test_incremental.py::-k window",),
    ),
    Mutation(
        "a record lost from every page",
        "tap_twilio/twilio/walking.py",
        "    if sweep is None:\n        return records\n",
        "    if sweep is None:\n        return records[1:]\n",
        (f"{PLATFORM}::-k complete_for_every_account and (studio_flows or verify_services)",
         "tests/test_extraction.py"),
    ),
    Mutation(
        "a child list skipped (the children of every other parent record)",
        "tap_twilio/stream.py",
        "        child = self.get_child_context(record, context)\n        if child is not None:",
        "        child = self.get_child_context(record, context)\n"
        "        if child is not None and str(record.get('sid', ''))[-1:] not in '02468ace':",
        (f"{PLATFORM}::-k complete_for_every_account and (studio_executions or message_media)",),
    ),
    Mutation(
        "alerts' 30-day clamp removed",
        "tap_twilio/twilio/lists.py",
        '"alerts": Behaviour(retention_days=31),',
        '"alerts": Behaviour(),',
        ("tests/test_streams.py::-k alert", "tests/test_extraction.py"),
    ),
    Mutation(
        "alerts' clamp a day too far back (32 days)",
        "tap_twilio/twilio/lists.py",
        '"alerts": Behaviour(retention_days=31),',
        '"alerts": Behaviour(retention_days=32),',
        ("tests/test_streams.py::-k alert", "tests/test_extraction.py"),
    ),
    Mutation(
        "messages' 400-day clamp removed",
        "tap_twilio/twilio/lists.py",
        "retention_days=400",
        "retention_days=None",
        ("tests/test_incremental.py::-k retention",),
    ),
    Mutation(
        "an \"after\" bound sent as the window's first second (it leaves that second out)",
        "tap_twilio/twilio/planning.py",
        'params[self.lower] = f"{start - day}T23:59:59Z"',
        'params[self.lower] = f"{start}T00:00:00Z"',
        (f"{PLATFORM}::-k window and verify_verification_attempts",),
    ),
    Mutation(
        "a stopped run's progress not kept (resumed from its bookmarks only)",
        "tap_twilio/stream.py",
        "    if (sdk_compat.partition_keys(stream, context) or {}) != (context or {}):",
        "    if True:",
        ("tests/test_resume.py::-k newer",),
    ),
    Mutation(
        "conferences asked without a Status (Twilio's default shows only those in progress)",
        TABLE,
        '"narrowing": [\n        {\n          "parameter": "Status",\n          "ask": "each",\n'
        '          "values": [\n            "init",\n            "in-progress",\n'
        '            "completed"\n          ]\n        }\n      ],\n      "schema": '
        '"conferences.json"',
        '"narrowing": [],\n      "schema": "conferences.json"',
        ("tests/test_narrowing.py::-k conferences",),
    ),
    Mutation(
        "a completed conference's participants not read from BulkExport",
        "tap_twilio/twilio/lists.py",
        '"conference_participants": Behaviour(kept_days_of_parent=completed_conference_days),',
        '"conference_participants": Behaviour(),',
        ("tests/test_bulkexport.py::-k participant",),
    ),
    Mutation(
        "a day not exported yet dropped from the participants' days to read",
        "tap_twilio/twilio/bulkexport.py",
        '    keep_days(entry, "wanted", wanted)',
        '    wanted = {day for day in wanted if day <= dt.date.today() - dt.timedelta(days=2)}\n'
        '    keep_days(entry, "wanted", wanted)',
        ("tests/test_bulkexport.py::-k ending_today",),
    ),
    Mutation(
        "conferences' 395-day retention removed (older ones not read from BulkExport)",
        "tap_twilio/twilio/lists.py",
        "has_children=conference_is_live, retention_days=VOICE_LOGS_DAYS,",
        "has_children=conference_is_live,",
        ("tests/test_bulkexport.py::-k 900_day_window",),
    ),
]


def copy_repository(target: Path) -> None:
    """The tracked files and the working tree's changes (no .venv, no .git)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO_ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = REPO_ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)


def pytest_command(test: str) -> list[str]:
    where, _, expression = test.partition("::-k ")
    command = [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", where]
    return command + (["-k", expression] if expression else [])


def run_tests(copy: Path, tests: tuple[str, ...]) -> tuple[list[str], list[str]]:
    """(tests that failed, tests that passed)."""
    env = {**os.environ, "PYTHONPATH": str(copy), "TAP_TWILIO_SKIP_E2E": "1"}
    failed, passed = [], []
    for test in tests:
        result = subprocess.run(
            pytest_command(test), cwd=copy, env=env, capture_output=True, text=True, check=False
        )
        if result.returncode == 5:
            raise SystemExit(f"no test selected by {test}: fix the mutation's test list")
        (failed if result.returncode != 0 else passed).append(test)
    return failed, passed


def first_failure(copy: Path, test: str) -> str:
    """The first failing test's id, for the table."""
    env = {**os.environ, "PYTHONPATH": str(copy), "TAP_TWILIO_SKIP_E2E": "1"}
    result = subprocess.run(
        [*pytest_command(test), "-rf"], cwd=copy, env=env, capture_output=True, text=True,
        check=False,
    )
    found = re.search(r"^(?:FAILED|ERROR) (\S+)", result.stdout, re.M)
    return found.group(1) if found else test


def check(copy: Path, mutation: Mutation) -> tuple[bool, str]:
    target = copy / mutation.path
    original = target.read_text(encoding="utf-8")
    if original.count(mutation.old) != 1:
        raise SystemExit(f"{mutation.name}: the text to change is not in {mutation.path} once")
    target.write_text(original.replace(mutation.old, mutation.new), encoding="utf-8")
    try:
        failed, _ = run_tests(copy, mutation.tests)
        caught_by = first_failure(copy, failed[0]) if failed else ""
    finally:
        target.write_text(original, encoding="utf-8")
    return bool(failed), caught_by


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", help="run the changes whose name has these words")
    parser.add_argument("--markdown", action="store_true", help="print README's table")
    args = parser.parse_args(argv)
    chosen = [
        m for m in MUTATIONS if not args.only or any(w in m.name for w in args.only)
    ]
    rows, uncaught = [], 0
    with tempfile.TemporaryDirectory(prefix="tap-twilio-mutation-") as tmp:
        copy = Path(tmp)
        copy_repository(copy)
        baseline, _ = run_tests(copy, tuple(t for m in chosen for t in m.tests))
        if baseline:
            raise SystemExit(f"the unchanged tap fails {baseline}: nothing to check")
        for mutation in chosen:
            began = time.monotonic()
            caught, by = check(copy, mutation)
            uncaught += not caught
            seconds = time.monotonic() - began
            print(f"{'caught' if caught else 'NOT CAUGHT'}: {mutation.name} ({seconds:.0f} s) "
                  f"{by}", file=sys.stderr)
            rows.append((mutation.name, by if caught else "**not caught**"))
    if args.markdown:
        print("| Wrong change to the tap | First test that failed |")
        print("|---|---|")
        for name, by in rows:
            print(f"| {name} | `{by}` |" if not by.startswith("**") else f"| {name} | {by} |")
    return 1 if uncaught else 0


if __name__ == "__main__":
    raise SystemExit(main())
