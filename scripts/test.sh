#!/usr/bin/env bash
# The whole test suite, set-up included: `bash scripts/test.sh` (CI runs exactly this).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bootstrap.sh
export PATH="$HOME/.local/bin:$PATH"
uv run --frozen ruff check tap_twilio tests scripts
uv run --frozen pytest "$@"
