"""Describe every list of Twilio's OpenAPI specs for the emulator, from the specs alone.

Usage: python scripts/extract_emulator_lists.py [SPEC_DIR] [--check]

For every path the specs mark as a list (``x-twilio.pathType: list``) with a GET answered by an
envelope holding one array, ``tests/emulator/lists.json`` records its host, path, envelope
(``meta`` or the 2010 API's), list key, parent list and which parent field fills its last path
parameter, query parameters (type, format, bounds, default, text), the field that names a
record in its instance path, and every record property (type, format, pattern, enum).

The emulator serves Twilio from this file; it reads nothing of the tap (its stream table,
schemas or code), so a wrong path, list key, envelope, date filter or field type in the tap's
table is not served back to it.  SPEC_DIR defaults to the copy vendored in ``specs/twilio-oai``.
The output is deterministic (sorted keys, no timestamps); ``--check`` exits 1 if it differs.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SPEC_DIR = REPO_ROOT / "specs" / "twilio-oai"
OUTPUT = REPO_ROOT / "tests" / "emulator" / "lists.json"
PARAM = re.compile(r"\{(\w+)\}")
PROPERTY_KEYS = ("type", "format", "pattern", "enum")
QUERY_KEYS = ("type", "format", "minimum", "maximum", "default", "enum")


def snake(word: str) -> str:
    """'FlowSid' -> 'flow_sid'."""
    return re.sub(r"(?<!^)([A-Z])", r"_\1", word).lower()


def resolve(spec: dict, node: dict) -> dict:
    while "$ref" in node:
        node = spec["components"]["schemas"][node["$ref"].rsplit("/", 1)[-1]]
    return node


def describe_property(spec: dict, prop: dict) -> dict:
    target = resolve(spec, prop)
    out = {k: target[k] for k in PROPERTY_KEYS if target.get(k) is not None}
    if target.get("items"):
        items = resolve(spec, target["items"])
        out["items"] = {k: items[k] for k in PROPERTY_KEYS if items.get(k) is not None}
    return out


def describe_query(spec: dict, param: dict) -> dict:
    schema = resolve(spec, param.get("schema") or {})
    out = {k: schema[k] for k in QUERY_KEYS if schema.get(k) is not None}
    out["description"] = param.get("description") or ""
    return out


def envelope_of(spec: dict, get: dict) -> tuple[str, str, dict] | None:
    """(envelope, list key, item schema) of a list answer; None for anything else."""
    content = (get.get("responses", {}).get("200") or {}).get("content") or {}
    schema = resolve(spec, (content.get("application/json") or {}).get("schema") or {})
    props = schema.get("properties") or {}
    arrays = [(k, v) for k, v in props.items() if v.get("type") == "array" and "items" in v]
    if len(arrays) != 1:
        return None
    key, array = arrays[0]
    family = "meta" if "meta" in props else "v2010" if "next_page_uri" in props else None
    return (family, key, resolve(spec, array["items"])) if family else None


def instance_field(paths: dict, path: str) -> str | None:
    """The field naming one record: the last parameter of the list's instance path."""
    stem, dot, ext = path.rpartition(".") if path.endswith(".json") else (path, "", "")
    for candidate, item in paths.items():
        if candidate.startswith(stem + "/{") and candidate.endswith(dot + ext) and "get" in item:
            rest = candidate[len(stem) + 1 :].removesuffix(dot + ext)
            if PARAM.fullmatch(rest):
                return snake(rest[1:-1])
    return None


def parent_of(path: str, meta: dict) -> tuple[str, str] | None:
    """(parent list path, parent field of the last path parameter) from ``x-twilio.parent``."""
    parent = meta.get("parent")
    if not parent:
        return None
    prefix = "/" + path.split("/")[1]
    instance = parent if parent.startswith(prefix + "/") else prefix + parent
    ext = ".json" if instance.endswith(".json") else ""
    stem, _, last = instance.removesuffix(ext).rpartition("/")
    if not PARAM.fullmatch(last):
        return None
    return stem + ext, snake(last[1:-1])


def lists_of(spec: dict, api: str) -> dict[str, dict]:
    host_default = (spec.get("servers") or [{}])[0].get("url", "")
    out: dict[str, dict] = {}
    for path, item in spec["paths"].items():
        meta = item.get("x-twilio") or {}
        get = item.get("get")
        if meta.get("pathType") != "list" or not get:
            continue
        shape = envelope_of(spec, get)
        if shape is None:
            continue
        family, list_key, item_schema = shape
        host = ((item.get("servers") or [{}])[0].get("url") or host_default).split("//")[-1]
        params = item.get("parameters", []) + get.get("parameters", [])
        parent = parent_of(path, meta)
        out[f"{host}{path}"] = {
            "api": api,
            "host": host,
            "path": path,
            "family": family,
            "list_key": list_key,
            "parent": f"{host}{parent[0]}" if parent else None,
            "parent_field": parent[1] if parent else None,
            "id_field": instance_field(spec["paths"], path),
            "query": {
                p["name"]: describe_query(spec, p) for p in params if p.get("in") == "query"
            },
            "properties": {
                name: describe_property(spec, prop)
                for name, prop in (item_schema.get("properties") or {}).items()
            },
        }
    return out


LOWER = re.compile(r"^(?:After(?P<a>\w+)|(?P<b>\w*?)(?:After|From|>)|Start(?P<c>Date|Time)?)$")
UPPER = re.compile(r"^(?:Before(?P<a>\w+)|(?P<b>\w*?)(?:Before|To|<)|End(?P<c>Date|Time)?)$")
EXCLUSIVE_AFTER = re.compile(r"\bafter\b", re.I)
INCLUSIVE_AFTER = re.compile(r"(on or|at or) after|>=|and later", re.I)
EXCLUSIVE_BEFORE = re.compile(r"\bbefore\b|\(exclusive\)", re.I)
INCLUSIVE_BEFORE = re.compile(r"on or before|<=|and earlier", re.I)
DATE_FORMATS = ("date", "date-time", "date-time-rfc-2822")


def filtered_field(entry: dict, stem: str, text: str) -> str | None:
    """The record field a date parameter bounds: the one its name says (``DateCreated`` ->
    ``date_created``), else the creation time when its text says created, else the time
    events occurred at (the first date property whose name says event or timestamp)."""
    props = entry["properties"]
    dated = [n for n, p in props.items() if p.get("format") in DATE_FORMATS]
    named = snake(stem) if stem else ""
    if named in dated:
        return named
    created = [n for n in dated if "creat" in n]
    if created and ("creat" in named or re.search(r"creat", text, re.I)):
        return created[0]
    timed = [n for n in dated if "event" in n or "timestamp" in n]
    return timed[0] if timed else None


def date_filters(entry: dict) -> list[dict]:
    """The query parameters that bound a record time, as the specs' texts say: the field, the
    side, and whether the bound is inclusive (``on or before``) or not (``before``)."""
    out = []
    for name, param in entry["query"].items():
        text = param["description"]
        dated = param.get("format") in ("date", "date-time") or re.search(r"date|time", text, re.I)
        lower, upper = LOWER.match(name), UPPER.match(name)
        match = lower or upper
        if not match or not dated or param.get("type") not in ("string", None):
            continue
        # StartTime / EndTime bound one time, the start's
        stem = match.group("a") or match.group("b") or "Start" + (match.group("c") or "")
        field = filtered_field(entry, stem, text)
        if field is None:
            continue
        if entry["family"] == "v2010":
            # the 2010 API's `DateSent<` is sent as `DateSent<=`: both ends inclusive
            inclusive = True
        elif lower:
            inclusive = bool(INCLUSIVE_AFTER.search(text)) or not EXCLUSIVE_AFTER.search(text)
        else:
            inclusive = bool(INCLUSIVE_BEFORE.search(text)) or not EXCLUSIVE_BEFORE.search(text)
        side = "lower" if lower else "upper"
        out.append({"param": name, "field": field, "side": side, "inclusive": inclusive})
    return out


def parent_by_path(lists: dict[str, dict], entry: dict) -> tuple[str, str] | None:
    """The specs name no parent list (``.../SIP/Domains/{DomainSid}/Auth/Calls/...``): the
    longest list on the same host whose path, then the last parameter, begins this one's."""
    params = PARAM.findall(entry["path"])
    found = [
        (len(other["path"]), key, other["id_field"])
        for key, other in lists.items()
        if other["host"] == entry["host"]
        and other["id_field"]
        and entry["path"].startswith(other["path"].removesuffix(".json") + "/{" + params[-1] + "}/")
    ]
    return (max(found)[1], max(found)[2]) if found else None


def parent_by_field(lists: dict[str, dict], entry: dict) -> tuple[str, str] | None:
    """No list's path begins this one's (``/v1/Voice/{CallSid}/Events`` on Insights): a list
    whose records have the field the last parameter names (``call_sid``, ``^CA...``), on the
    same host if one is, else the list those SIDs are the ``sid`` of."""
    params = PARAM.findall(entry["path"])
    field = snake(params[-1])
    pattern = entry["properties"].get(field, {}).get("pattern")
    if not pattern:
        return None
    inherited = set(params[:-1]) | {"AccountSid"}
    found = []
    for key, other in lists.items():
        if other is entry or not set(PARAM.findall(other["path"])) <= inherited:
            continue
        props = other["properties"]
        if other["host"] == entry["host"] and props.get(field, {}).get("pattern") == pattern:
            found.append((0, len(other["path"]), key, field))
        elif props.get("sid", {}).get("pattern") == pattern and other["id_field"] == "sid":
            found.append((1, len(other["path"]), key, "sid"))
    return tuple(min(found)[2:]) if found else None  # type: ignore[return-value]


def extract(spec_dir: Path) -> dict[str, dict]:
    lists: dict[str, dict] = {}
    for spec_file in sorted(spec_dir.glob("twilio_*.json")):
        api = spec_file.stem.removeprefix("twilio_")
        lists.update(lists_of(json.loads(spec_file.read_text(encoding="utf-8")), api))
    for entry in lists.values():
        if entry["parent"] not in lists and PARAM.search(entry["path"]):
            parent = parent_by_path(lists, entry) or parent_by_field(lists, entry)
            entry["parent"], entry["parent_field"] = parent or (None, None)
        elif entry["parent"] not in lists:
            entry["parent"] = entry["parent_field"] = None
        entry["date_filters"] = date_filters(entry)
    return lists


def render(spec_dir: Path) -> str:
    return json.dumps(extract(spec_dir), indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("spec_dir", type=Path, nargs="?", default=DEFAULT_SPEC_DIR)
    parser.add_argument("--check", action="store_true", help="exit 1 if lists.json differs")
    args = parser.parse_args(argv)
    text = render(args.spec_dir)
    if args.check:
        if OUTPUT.read_text(encoding="utf-8") != text:
            print(f"{OUTPUT} differs: run scripts/extract_emulator_lists.py", file=sys.stderr)
            return 1
        return 0
    OUTPUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUTPUT}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
