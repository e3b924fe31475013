#!/usr/bin/env bash
# Installs what the project needs on a fresh machine (only Python 3.10+ required):
# uv if missing, then the locked environment in .venv. Safe to run again. Sourced by
# demo.sh and test.sh, so the PATH it sets (uv's folder) holds for them and their tests.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if ! command -v uv >/dev/null 2>&1; then
  python3 -m pip install --quiet --user uv 2>/dev/null || python3 -m pip install --quiet uv
  uv_dir=$(python3 -c "import os, uv; print(os.path.dirname(uv.find_uv_bin()))")
  export PATH="$uv_dir:$PATH"
fi
# Bytecode compiled once: otherwise every run compiles ~500 modules (~0.6 s of start-up).
uv sync --frozen --quiet --compile-bytecode
# The project's own modules too (an editable install, outside .venv): with
# PYTHONDONTWRITEBYTECODE set, Python would compile them again at every start.
.venv/bin/python -m compileall -q tap_twilio
