#!/usr/bin/env bash
# Stops and removes a PostgreSQL started by pg-up.sh: pg-down.sh <dir>
set -euo pipefail
PGBIN=${PGBIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
AS_PG=(); if [ "$(id -u)" = 0 ]; then AS_PG=(runuser -u postgres --); fi
"${AS_PG[@]}" "$PGBIN/pg_ctl" -D "$1/data" -m fast -w stop >/dev/null 2>&1 || true
rm -rf "$1"
