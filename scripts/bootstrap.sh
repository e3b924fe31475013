#!/usr/bin/env bash
# Installs what the project needs on a fresh machine (only Python 3.10+ required):
# uv if missing, then the locked environment in .venv. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v uv >/dev/null 2>&1; then
  python3 -m pip install --quiet --user uv 2>/dev/null || python3 -m pip install --quiet uv
  export PATH="$HOME/.local/bin:$PATH"
fi
uv sync --frozen --quiet
