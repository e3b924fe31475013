"""Regenerate README.md's settings and streams tables from the tap itself.

    python scripts/readme_tables.py          # rewrite the tables in README.md
    python scripts/readme_tables.py --check  # exit 1 if README.md is out of date

The settings table is `tap-twilio --about --format=markdown`'s; the streams table comes from
the stream classes (endpoint, primary key, replication, parent, and how deletions reach a
target: ACTIVATE_VERSION for a list a run reads whole, see tap_twilio/versions.py; a row
with status `deleted` for a list read with its soft-deleted records).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
README = REPO / "README.md"
sys.path.insert(0, str(REPO))


def settings_table() -> str:
    about = subprocess.run(
        [sys.executable, "-m", "tap_twilio", "--about", "--format=markdown"],
        capture_output=True, text=True, check=True, cwd=REPO,
    ).stdout
    section = about.split("## Settings", 1)[1]
    rows = [line for line in section.splitlines() if line.startswith("|")]
    return "\n".join(rows)


def streams_table() -> str:
    from tap_twilio.tap import TapTwilio
    from tap_twilio.versions import reads_whole

    tap = TapTwilio(config={"account_sid": "AC" + "0" * 32, "auth_token": "x"},
                    validate_config=False, setup_mapper=False)
    rows = ["| Stream | Endpoint | Primary key | Replication | Parent | Deletions |",
            "|:--|:--|:--|:--|:--|:--|"]
    for name, stream in tap.streams.items():
        endpoint = stream.url_base.split("://", 1)[1] + stream.path
        endpoint = endpoint.replace("{account_sid}", "{AccountSid}")
        if name == "usage_records":
            endpoint = endpoint.replace("Daily.json", "{Daily,Monthly,Yearly,AllTime}.json")
        replication = (f"incremental on `{stream.replication_key}`" if stream.replication_key
                       else "full table")
        parent = stream.parent_stream_type.name if stream.parent_stream_type else ""
        keys = ", ".join(f"`{key}`" for key in stream.primary_keys)
        soft_deleted = dict(stream.list_spec.narrowing).get("IncludeSoftDeleted")
        deletions = ("ACTIVATE_VERSION" if reads_whole(stream)
                     else "`status: deleted`" if soft_deleted
                     else "")
        rows.append(f"| `{name}` | `{endpoint}` | {keys} | {replication} | {parent} "
                    f"| {deletions} |")
    return "\n".join(rows)


def render(text: str) -> str:
    for marker, table in (("settings", settings_table()), ("streams", streams_table())):
        text = re.sub(
            rf"(<!-- {marker}:start -->\n).*?(<!-- {marker}:end -->)",
            lambda m, table=table: m.group(1) + table + "\n" + m.group(2),
            text, flags=re.DOTALL,
        )
    return text


def main() -> None:
    current = README.read_text()
    wanted = render(current)
    if "--check" in sys.argv:
        if wanted != current:
            sys.exit("README.md tables are out of date: run python scripts/readme_tables.py")
        return
    README.write_text(wanted)


if __name__ == "__main__":
    main()
