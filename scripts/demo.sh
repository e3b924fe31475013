#!/usr/bin/env bash
# The demo, set-up included: starts the Twilio emulator and extracts from it with tap-twilio
# into target-jsonl (installed in its own environment, as Meltano would). No credentials needed.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bootstrap.sh
uv run --frozen python scripts/demo.py "$@"
