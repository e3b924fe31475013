#!/usr/bin/env python3
"""Twilio's narrowing defaults: list query parameters whose documented default hides records.

Read from the specs' parameter texts, and from the few defaults Twilio documents only outside
the specs (``DOCUMENTED_ELSEWHERE``, each quoted with its source), never from the tap's table,
so the same facts serve two readers: `generate_streams.py` records, per stream, how the tap
asks for every record, and `tests/emulator/narrowing.json` (written by this script) tells the
emulator what Twilio serves when the parameter is not sent.

Usage (developers only)::

    python scripts/narrowing_defaults.py [SPEC_DIR]          # (re)write the emulator's JSON
    python scripts/narrowing_defaults.py [SPEC_DIR] --check  # exit 1 if it differs

The kinds of default found in the texts:

* ``status``: "Can be: `in-progress` (default) or `completed`": the list shows one status
  unless another is asked for; ``values`` is the parameter's enum, ``default`` the shown ones.
* ``parent_status``: "For `in-progress` Rooms the default Status is `connected`, for
  `completed` Rooms only `disconnected` Participants are returned": the default depends on
  the parent record's status (``by_parent``: parent status -> the status shown).
* ``window``: "The default is `15` minutes", "Defaults to 4h", "Defaults to 1 day prior to
  current date/time": only records of the last ``seconds`` unless a time is given.
* ``soft_deleted``: "whether to retrieve soft deleted recordings ... kept after deletion for
  a retention period of 40 days": deleted records (status ``deleted``) only when asked for.

A default documented elsewhere is one of these kinds too; its rule carries the quoted text
and its ``source``.

A window over which statistics are computed ("Only calculate statistics since this many
minutes") narrows the figures, not which records are listed, and is not one of these.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SPEC_DIR = REPO_ROOT / "specs" / "twilio-oai"
EMULATOR_FILE = Path("tests") / "emulator" / "narrowing.json"

STATUS_DEFAULT = re.compile(r"`([\w-]+)` \(default\)")
PARENT_STATUS_DEFAULT = re.compile(
    r"For `(?P<parent1>[\w-]+)` \w+ the default \w+ is `(?P<shown1>[\w-]+)`, "
    r"for `(?P<parent2>[\w-]+)` \w+ only `(?P<shown2>[\w-]+)`"
)
WINDOW_DEFAULT = re.compile(
    r"[Dd]efaults? (?:is|to) `?(?P<count>[1-9]\d*|one)`?\s*"
    r"(?P<unit>minutes?|m|hours?|h|days?|d|months?)\b"
)
SECONDS = {"m": 60, "h": 3600, "d": 86400, "month": 30 * 86400}
STATISTICS = re.compile(r"calculate statistics", re.IGNORECASE)
SOFT_DELETED = re.compile(r"soft deleted", re.IGNORECASE)
RETENTION = re.compile(r"(\d+) days")

# Narrowing defaults Twilio documents outside the specs, whose parameter texts stay silent
# about them: by (api, list path, parameter) as the specs spell them, the rule's kind and
# shown values, with Twilio's words and where they are written. The values asked for are the
# parameter's enum in the spec.
DOCUMENTED_ELSEWHERE: dict[tuple[str, str, str], dict[str, Any]] = {
    ("api_v2010", "/2010-04-01/Accounts/{AccountSid}/Conferences.json", "Status"): {
        "kind": "status",
        "default": ["in-progress"],
        "text": (
            "On September 30, 2026, Twilio will begin rolling out the change to the Conference "
            "list endpoint (GET /2010-04-01/Accounts/{AccountSid}/Conferences.json) to default "
            "to returning in-progress conferences only. ... If your application retrieves "
            "completed conferences from this endpoint, you will need to update your API calls "
            "to include the Status=completed query parameter ... To get both in-progress and "
            "completed conferences, you'll need to make two separate requests."
        ),
        "source": "https://www.twilio.com/en-us/changelog/conference-list-endpoint-rollout-extended",
    },
}


def list_operations(spec_dir: Path) -> list[tuple[str, str, str, dict[str, Any], dict]]:
    """(api, host, path, spec, GET operation) of every list endpoint of every spec."""
    found = []
    for spec_file in sorted(spec_dir.glob("twilio_*.json")):
        spec = json.loads(spec_file.read_text(encoding="utf-8"))
        api = spec_file.stem.removeprefix("twilio_")
        host = urlparse(spec["servers"][0]["url"]).netloc
        for path, item in spec["paths"].items():
            if item.get("x-twilio", {}).get("pathType") == "list" and "get" in item:
                found.append((api, host, path, spec, item["get"]))
    return found


def enum_of(parameter: dict[str, Any], spec: dict[str, Any]) -> list[str]:
    schema = parameter.get("schema", {})
    ref = schema.get("$ref")
    if ref:
        schema = spec["components"]["schemas"][ref.rsplit("/", 1)[-1]]
    return [str(v) for v in schema.get("enum", [])]


def window_seconds(text: str) -> int | None:
    match = WINDOW_DEFAULT.search(text)
    if match is None or STATISTICS.search(text):
        return None
    count = 1 if match["count"] == "one" else int(match["count"])
    unit = match["unit"]
    per = SECONDS["month"] if unit.startswith("month") else SECONDS[unit[0]]
    return count * per


def parameter_rule(parameter: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any] | None:
    """The narrowing default one query parameter's text documents, if any."""
    text = " ".join((parameter.get("description") or "").split())
    name = parameter["name"]
    rule: dict[str, Any] = {"parameter": name}
    if match := PARENT_STATUS_DEFAULT.search(text):
        by_parent = {match["parent1"]: match["shown1"], match["parent2"]: match["shown2"]}
        rule |= {"kind": "parent_status", "values": enum_of(parameter, spec),
                 "by_parent": by_parent}
    elif shown := STATUS_DEFAULT.findall(text):
        rule |= {"kind": "status", "values": enum_of(parameter, spec), "default": shown}
    elif (seconds := window_seconds(text)) is not None:
        rule |= {"kind": "window", "seconds": seconds}
    elif SOFT_DELETED.search(text):
        days = RETENTION.search(text)
        rule |= {"kind": "soft_deleted", "value": "true",
                 "retention_days": int(days[1]) if days else None}
    else:
        return None
    return rule | {"text": text}


def documented_rule(
    api: str, path: str, parameter: dict[str, Any], spec: dict[str, Any]
) -> dict[str, Any] | None:
    """The narrowing default of one query parameter of a list: its text's, or the one Twilio
    documents elsewhere (`DOCUMENTED_ELSEWHERE`)."""
    from_text = parameter_rule(parameter, spec)
    elsewhere = DOCUMENTED_ELSEWHERE.get((api, path, parameter["name"]))
    if elsewhere is None:
        return from_text
    if from_text is not None:  # two sources for one default: keep only the spec's
        raise ValueError(f"{api} {path} {parameter['name']}: the spec's text now documents "
                         "its default; remove its DOCUMENTED_ELSEWHERE entry")
    rule: dict[str, Any] = {"parameter": parameter["name"], "kind": elsewhere["kind"]}
    if rule["kind"] in ("status", "parent_status"):
        rule["values"] = enum_of(parameter, spec)
    return rule | {key: value for key, value in elsewhere.items() if key != "kind"}


def narrowing_rules(spec_dir: Path) -> list[dict[str, Any]]:
    """Every list endpoint's narrowing defaults, in the specs' order."""
    rules, unused = [], set(DOCUMENTED_ELSEWHERE)
    for api, host, path, spec, operation in list_operations(spec_dir):
        for parameter in operation.get("parameters", []):
            if parameter.get("in") != "query":
                continue
            unused.discard((api, path, parameter["name"]))
            rule = documented_rule(api, path, parameter, spec)
            if rule is not None:
                rules.append({"api": api, "host": host, "path": path, **rule})
    if unused:  # a misspelt entry would silently hide nothing
        raise ValueError(f"DOCUMENTED_ELSEWHERE names no list parameter of the specs: {unused}")
    return rules


def render(spec_dir: Path) -> str:
    document = {
        "generated_by": ("scripts/narrowing_defaults.py from Twilio's OpenAPI specs and the "
                         "defaults it documents elsewhere"),
        "rules": narrowing_rules(spec_dir),
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("spec_dir", nargs="?", type=Path, default=DEFAULT_SPEC_DIR)
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if stale")
    args = parser.parse_args(argv)
    text = render(args.spec_dir)
    target = REPO_ROOT / EMULATOR_FILE
    if args.check:
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            print(f"{EMULATOR_FILE} is out of date: run scripts/narrowing_defaults.py",
                  file=sys.stderr)
            return 1
        return 0
    target.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
