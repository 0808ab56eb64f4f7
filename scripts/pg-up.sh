#!/usr/bin/env bash
# Starts a throwaway PostgreSQL in a temp dir on a free loopback port; prints "<dir> <port>".
# As root, initdb/pg_ctl run as the `postgres` user (they refuse root).
set -euo pipefail
PGBIN=${PGBIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
[ -x "$PGBIN/pg_ctl" ] || { echo "pg-up: no PostgreSQL server binaries found (apt-get install postgresql)" >&2; exit 1; }
PGPORT=${PGPORT:-$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")}
PGTMP=$(mktemp -d -t pgtest.XXXXXX)
AS_PG=()
if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$PGTMP"; chmod 0755 "$PGTMP"; AS_PG=(runuser -u postgres --); fi
"${AS_PG[@]}" "$PGBIN/initdb" -D "$PGTMP/data" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 --no-sync >"$PGTMP/initdb.log" 2>&1 \
  || { cat "$PGTMP/initdb.log" >&2; exit 1; }
"${AS_PG[@]}" "$PGBIN/pg_ctl" -D "$PGTMP/data" -l "$PGTMP/server.log" -w -t 30 \
  -o "-c listen_addresses=127.0.0.1 -p $PGPORT -k $PGTMP -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" start >/dev/null \
  || { cat "$PGTMP/server.log" >&2; exit 1; }
"$PGBIN/createdb" -h 127.0.0.1 -p "$PGPORT" -U postgres inkwell
echo "$PGTMP $PGPORT"
