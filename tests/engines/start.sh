#!/usr/bin/env bash
# Throwaway PostgreSQL and Redis servers on free loopback ports, for the tests
# that need a real engine. Source it (`. tests/engines/start.sh`): it exports
# TEST_POSTGRES_URL and TEST_REDIS_URL and defines `engines_stop`, which stops
# both servers by pid and removes their data (call it, or let a trap do it).
#
# Needs PostgreSQL and Redis installed (Debian: apt-get install postgresql
# redis-server). PostgreSQL refuses to run as root, so as root the cluster is
# created and run as the postgres user; as anyone else, as that user.

engines_find_pg_bin() {
  if command -v pg_ctl >/dev/null 2>&1 && command -v initdb >/dev/null 2>&1; then
    dirname "$(command -v initdb)"
    return
  fi
  local dir
  for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$dir/initdb" ]; then echo "$dir"; return; fi
  done
  return 1
}

# A port nothing listens on now (the kernel's choice, released at once).
engines_free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

engines_start() {
  local pg_bin
  pg_bin="$(engines_find_pg_bin)" || { echo "PostgreSQL is not installed (initdb not found); Debian: apt-get install postgresql" >&2; return 1; }
  command -v redis-server >/dev/null 2>&1 || { echo "Redis is not installed (redis-server not found); Debian: apt-get install redis-server" >&2; return 1; }

  ENGINES_DIR="$(mktemp -d "${TMPDIR:-/tmp}/engines.XXXXXX")"
  local as_pg=()
  if [ "$(id -u)" = "0" ]; then
    chown postgres "$ENGINES_DIR"
    as_pg=(runuser -u postgres --)
  fi
  ENGINES_PG_CTL=("${as_pg[@]}" "$pg_bin/pg_ctl")
  local started=$SECONDS

  local pg_port
  pg_port="$(engines_free_port)"
  "${as_pg[@]}" "$pg_bin/initdb" -D "$ENGINES_DIR/pg" -A trust -U postgres >"$ENGINES_DIR/initdb.log" 2>&1 \
    || { cat "$ENGINES_DIR/initdb.log" >&2; return 1; }
  "${ENGINES_PG_CTL[@]}" -D "$ENGINES_DIR/pg" -w -l "$ENGINES_DIR/pg/server.log" \
    -o "-p $pg_port -k $ENGINES_DIR -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" start >/dev/null \
    || { cat "$ENGINES_DIR/pg/server.log" >&2; return 1; }

  local redis_port
  redis_port="$(engines_free_port)"
  redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
    --pidfile "$ENGINES_DIR/redis.pid" --logfile "$ENGINES_DIR/redis.log" --dir "$ENGINES_DIR" \
    || { cat "$ENGINES_DIR/redis.log" >&2; return 1; }
  # redis-server --daemonize returns before the port is open.
  local i
  for i in $(seq 1 50); do
    if redis-cli -p "$redis_port" ping >/dev/null 2>&1; then break; fi
    sleep 0.1
  done

  export TEST_POSTGRES_URL="postgresql://postgres@127.0.0.1:$pg_port/postgres"
  export TEST_REDIS_URL="redis://127.0.0.1:$redis_port"
  echo "engines up in $((SECONDS - started)) s: TEST_POSTGRES_URL=$TEST_POSTGRES_URL TEST_REDIS_URL=$TEST_REDIS_URL"
}

engines_stop() {
  [ -n "${ENGINES_DIR:-}" ] || return 0
  if [ -f "$ENGINES_DIR/redis.pid" ]; then kill "$(cat "$ENGINES_DIR/redis.pid")" 2>/dev/null || true; fi
  if [ -f "$ENGINES_DIR/pg/postmaster.pid" ]; then "${ENGINES_PG_CTL[@]}" -D "$ENGINES_DIR/pg" -m immediate stop >/dev/null 2>&1 || true; fi
  rm -rf "$ENGINES_DIR"
  unset ENGINES_DIR TEST_POSTGRES_URL TEST_REDIS_URL
}

engines_start
