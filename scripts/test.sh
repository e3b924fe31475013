#!/usr/bin/env bash
# The whole test suite, set-up included: `bash scripts/test.sh` (CI runs exactly this).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bootstrap.sh
uv run --frozen ruff check tap_twilio tests scripts
uv run --frozen mypy  # strict, on tap_twilio/ (pyproject.toml)
# The end-to-end tests (tests/test_targets.py) load into a real PostgreSQL: install it if
# missing. TAP_TWILIO_SKIP_E2E=1 skips both this and those tests.
bash scripts/ensure_postgres.sh
# Workers over every core (pytest-xdist), each test module kept on one worker: a module's
# fixtures (an emulator, a shared run, the PostgreSQL cluster) are made once, and the session
# ones once per worker. Modules go out in the order tests/conftest.py gives them (the longest
# first). Arguments after these override them (`-n 0`: one process).
uv run --frozen pytest -n auto --dist loadscope --no-loadscope-reorder "$@"
