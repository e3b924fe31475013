#!/usr/bin/env bash
# Makes sure a PostgreSQL server binary (initdb, pg_ctl, postgres) is on this machine, for
# the end-to-end test that loads the tap's output with target-postgres. The test itself
# creates a throwaway cluster in a temp dir, on a free port of 127.0.0.1, and stops it.
#
# Installs Debian's `postgresql` package when it is missing (needs root, or sudo); does not
# create or start Debian's own `main` cluster. Prints the bin directory it found.
# Skipped with TAP_TWILIO_SKIP_E2E=1. Safe to run again.
set -euo pipefail

find_bindir() {
  local dir
  for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ] && [ -x "$dir/postgres" ]; then
      echo "$dir"
      return 0
    fi
  done
  if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
    dirname "$(command -v initdb)"
    return 0
  fi
  return 1
}

if [ "${TAP_TWILIO_SKIP_E2E:-}" = "1" ]; then
  exit 0
fi
if bindir=$(find_bindir); then
  echo "postgres: found $bindir" >&2
  exit 0
fi

SUDO=""
if [ "$(id -u)" != "0" ]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
  else
    echo "postgres: not installed and not root; install Debian's postgresql package" \
         "or set TAP_TWILIO_SKIP_E2E=1" >&2
    exit 1
  fi
fi
echo "postgres: installing Debian's postgresql package" >&2
# No default cluster and no service start: the test runs its own throwaway server.
$SUDO mkdir -p /etc/postgresql-common
if [ ! -f /etc/postgresql-common/createcluster.conf ]; then
  echo "create_main_cluster = false" | $SUDO tee /etc/postgresql-common/createcluster.conf >/dev/null
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null
$SUDO apt-get install -y -qq --no-install-recommends \
  -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold postgresql >/dev/null
bindir=$(find_bindir)
echo "postgres: installed $bindir" >&2
