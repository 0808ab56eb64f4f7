#!/usr/bin/env bash
# Runs a command with TEST_DATABASE_URL pointing at a throwaway PostgreSQL server.
#   bash scripts/with-pg.sh npx vitest run
set -euo pipefail
cd "$(dirname "$0")/.."
read -r PGDIR PGPORT < <(bash scripts/pg-up.sh)
trap 'bash scripts/pg-down.sh "$PGDIR"' EXIT
export TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$PGPORT/inkwell"
"$@"
