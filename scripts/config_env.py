"""Print a tap-twilio config file's settings as shell `export TAP_TWILIO_<NAME>=...` lines,
the form in which Meltano (and `tap-twilio --config=ENV`) read settings from the environment:

    eval "$(python3 scripts/config_env.py config.json)"
    meltano run tap-twilio target-jsonl

Lists, objects and booleans are written as JSON, which is how both parse them.
"""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path


def export_lines(config: dict) -> list[str]:
    lines = []
    for name, value in config.items():
        text = value if isinstance(value, str) else json.dumps(value)
        lines.append(f"export TAP_TWILIO_{name.upper()}={shlex.quote(text)}")
    return lines


def main() -> None:
    if len(sys.argv) != 2:
        sys.exit("usage: python3 scripts/config_env.py CONFIG_FILE")
    config = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    if not isinstance(config, dict):
        sys.exit(f"{sys.argv[1]}: expected a JSON object of settings")
    print("\n".join(export_lines(config)))


if __name__ == "__main__":
    main()
