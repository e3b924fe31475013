"""Extract what the Twilio emulator needs from Twilio's OpenAPI material.

Usage: python scripts/extract_emulator_spec.py [SPEC_DIR] [--output FILE] [--check]

SPEC_DIR (default: the copy vendored in ``specs/twilio-oai``) holds ``resources.json`` (a
per-resource extract of the twilio-oai specs) and the OpenAPI files ``twilio_api_v2010.json`` /
``twilio_monitor_v1.json``.  The output (``tests/emulator/spec.json``) is committed; it is
deterministic: sorted keys, stable formatting, no timestamps; ``--check`` exits 1 if the
committed file differs.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

# emulator resource name -> key in resources.json
RESOURCES = {
    "accounts": "accounts",
    "calls": "calls",
    "messages": "messages",
    "conferences": "conferences",
    "conference_participants": "conference_participants",
    "notifications": "notifications",
    "message_media": "message_media",
    "usage_records": "usage_records",
    "usage_records_daily": "usage_records_daily",
    "usage_records_monthly": "usage_records_monthly",
    "usage_records_yearly": "usage_records_yearly",
    "usage_records_all_time": "usage_records_all_time",
    "usage_records_today": "usage_records_today",
    "usage_records_yesterday": "usage_records_yesterday",
    "usage_records_this_month": "usage_records_this_month",
    "usage_records_last_month": "usage_records_last_month",
    "recordings": "recordings",
    "transcriptions": "transcriptions",
    "incoming_phone_numbers": "incoming_phone_numbers",
    "outgoing_caller_ids": "outgoing_caller_ids",
    "addresses": "addresses",
    "applications": "applications",
    "keys": "keys",
    "queues": "queues",
    "usage_triggers": "usage_triggers",
    "account_balance": "balance",
    "alerts": "alerts",
}

# The usage categories the emulator reports (must exist in Twilio's legacy category enum).
USAGE_CATEGORIES = [
    "calls",
    "calls-inbound",
    "sms",
    "sms-outbound",
    "mms",
    "recordings",
    "phonenumbers",
    "totalprice",
]

PROPERTY_KEYS = ("type", "format", "nullable", "enum", "pattern")
PARAM_KEYS = ("in", "type", "format", "enum", "minimum", "maximum")


def _pick(src: dict, keys: tuple[str, ...]) -> dict:
    return {k: src[k] for k in keys if src.get(k) is not None}


def _property(prop: dict) -> dict:
    out = _pick(prop, PROPERTY_KEYS)
    out["nullable"] = bool(prop.get("nullable"))
    if prop.get("items"):
        out["items"] = _pick(prop["items"], ("type", "enum"))
    return out


def _check_path(openapi: dict, path: str) -> None:
    if path not in openapi.get("paths", {}):
        raise SystemExit(f"path {path} not found in the OpenAPI spec")


def extract(spec_dir: Path) -> dict:
    resources = json.loads((spec_dir / "resources.json").read_text(encoding="utf-8"))
    api_2010 = json.loads((spec_dir / "twilio_api_v2010.json").read_text(encoding="utf-8"))
    monitor_v1 = json.loads((spec_dir / "twilio_monitor_v1.json").read_text(encoding="utf-8"))
    meta = resources["_meta"]
    legacy = set(meta["usage_categories_legacy_enum"]["values"])
    missing = [c for c in USAGE_CATEGORIES if c not in legacy]
    if missing:
        raise SystemExit(f"usage categories not in Twilio's enum: {missing}")

    out_resources = {}
    for name, key in RESOURCES.items():
        res = resources[key]
        _check_path(monitor_v1 if res["path"].startswith("/v1/") else api_2010, res["path"])
        params = {pname: _pick(p, PARAM_KEYS) for pname, p in res.get("params", {}).items()}
        out_resources[name] = {
            "path": res["path"],
            "list_key": res.get("list_key"),
            "envelope": res.get("envelope"),
            "primary_key": res.get("primary_key") or [],
            "item_schema": res.get("item_schema"),
            "query_params": {k: v for k, v in params.items() if v.get("in") == "query"},
            "path_params": sorted(k for k, v in params.items() if v.get("in") == "path"),
            "properties": {p: _property(v) for p, v in res["properties"].items()},
        }
    return {
        "_meta": {
            "generated_by": "scripts/extract_emulator_spec.py",
            "source_repo": meta.get("source_repo"),
            "source_commit": meta.get("source_commit"),
            "usage_categories": USAGE_CATEGORIES,
        },
        "resources": out_resources,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    root = Path(__file__).resolve().parent.parent
    parser.add_argument(
        "spec_dir", type=Path, nargs="?", default=root / "specs" / "twilio-oai"
    )
    parser.add_argument("--check", action="store_true", help="exit 1 if the output differs")
    parser.add_argument(
        "--output",
        type=Path,
        default=Path(__file__).resolve().parent.parent / "tests" / "emulator" / "spec.json",
    )
    args = parser.parse_args(argv)
    data = extract(args.spec_dir)
    text = json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False) + "\n"
    if args.check:
        if args.output.read_text(encoding="utf-8") != text:
            print(f"{args.output} differs: run scripts/extract_emulator_spec.py", file=sys.stderr)
            return 1
        return 0
    args.output.write_text(text, encoding="utf-8")
    print(f"wrote {args.output} ({len(data['resources'])} resources)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
