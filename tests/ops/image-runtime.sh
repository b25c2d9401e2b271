#!/usr/bin/env bash
# What the container image runs, tested without Docker (no engine on these
# machines): the Dockerfile's runtime stage, step by step. It copies the
# production build and the package files into an empty folder (no sources),
# installs the production dependencies only (`npm ci --omit=dev`), starts
# `node build/server/main.js` as an unprivileged user when run as root (the
# image runs as `node`), and waits for GET /ready = 200.
#
#   npm run build && bash tests/ops/image-runtime.sh      (about 1-2 minutes after the build)
#   bash tests/ops/image-runtime.sh --build               (builds first when the build is missing)
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT="$PWD"
export NEXT_TELEMETRY_DISABLED=1

step() { printf '\n==> %s\n' "$*"; }
seconds() { echo $(( $(date +%s) - $1 )); }

if [ ! -f build/server/main.js ] || [ ! -f .next/BUILD_ID ]; then
  if [ "${1:-}" = "--build" ]; then
    step "no production build: npm run build"
    t0=$(date +%s); npm run build; echo "build took $(seconds "$t0") s"
  else
    echo "no production build (build/server/main.js, .next/BUILD_ID): run npm run build first, or pass --build" >&2
    exit 1
  fi
fi

WORK="$(mktemp -d "${TMPDIR:-/tmp}/image-runtime-XXXXXX")"
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

step "copying what the image's runtime stage copies into $WORK/app"
APP="$WORK/app"
mkdir -p "$APP" "$WORK/data/db" "$WORK/data/uploads"
cp package.json package-lock.json next.config.mjs prisma.config.ts "$APP/"
cp -R prisma build "$APP/"
# .next without its build cache, as the image has it.
mkdir -p "$APP/.next"
(cd .next && find . -mindepth 1 -maxdepth 1 ! -name cache -exec cp -R {} "$APP/.next/" \;)
for forbidden in server app tests node_modules; do
  if [ -e "$APP/$forbidden" ]; then echo "the runtime folder must not hold $forbidden" >&2; exit 1; fi
done

step "npm ci --omit=dev"
t0=$(date +%s)
(cd "$APP" && npm ci --omit=dev --no-audit --no-fund)
echo "npm ci --omit=dev took $(seconds "$t0") s"
# typescript (a peer of @prisma/client and valibot) and @playwright/test (an optional peer of next) come
# with the production dependencies; these three never do unless devDependencies were installed.
for dev in vitest tsx eslint; do
  if [ -e "$APP/node_modules/$dev" ]; then echo "a dev dependency was installed: $dev" >&2; exit 1; fi
done

PORT="$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"
RUN=()
if [ "$(id -u)" = "0" ] && command -v runuser >/dev/null 2>&1; then
  # As in the image: the code is not the service user's to change, only the data is.
  chmod 755 "$WORK"
  chown -R nobody "$WORK/data"
  RUN=(runuser -u nobody --)
fi

step "starting node build/server/main.js on 127.0.0.1:$PORT${RUN:+ as nobody}"
t0=$(date +%s)
(cd "$APP" && exec env -i PATH="$PATH" HOME="$WORK/data" NODE_ENV=production NEXT_TELEMETRY_DISABLED=1 \
  SERVER_HOST=127.0.0.1 SERVER_PORT="$PORT" \
  DATABASE_URL="file:$WORK/data/db/support_bot.db" UPLOAD_DIR="$WORK/data/uploads" \
  TELEGRAM_MODE=off LOG_LEVEL=info \
  "${RUN[@]}" node build/server/main.js) >"$WORK/server.log" 2>&1 &
SERVER_PID=$!

status=""
for _ in $(seq 1 120); do
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    echo "the server exited before it was ready:" >&2; cat "$WORK/server.log" >&2; exit 1
  fi
  status="$(node -e "fetch('http://127.0.0.1:$PORT/ready').then(r=>{console.log(r.status)},()=>console.log('down'))")"
  [ "$status" = "200" ] && break
  sleep 0.5
done
if [ "$status" != "200" ]; then
  echo "/ready never answered 200 (last: $status):" >&2; cat "$WORK/server.log" >&2; exit 1
fi
echo "/ready = 200 after $(seconds "$t0") s"

# The image's own HEALTHCHECK command, verbatim apart from the port.
SERVER_PORT="$PORT" node -e "fetch('http://127.0.0.1:'+(process.env.SERVER_PORT||5000)+'/ready').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
echo "HEALTHCHECK command: healthy"
page="$(node -e "fetch('http://127.0.0.1:$PORT/').then(async r=>console.log(r.status, (r.headers.get('content-type')||'')))")"
echo "GET / (the Mini App from .next): $page"
case "$page" in 200\ text/html*) ;; *) echo "the Mini App page did not render" >&2; cat "$WORK/server.log" >&2; exit 1 ;; esac
[ -f "$WORK/data/db/support_bot.db" ] || { echo "the database was not created on the data folder" >&2; exit 1; }

# The operator commands, as an operator runs them in the container
# (`docker compose exec app node build/server/cli/outbox.js list`): the image
# has no sources and no tsx, so they run from the build, next to the live service.
cli() {
  (cd "$APP" && env -i PATH="$PATH" HOME="$WORK/data" NODE_ENV=production \
    DATABASE_URL="file:$WORK/data/db/support_bot.db" UPLOAD_DIR="$WORK/data/uploads" \
    "${RUN[@]}" node "build/server/cli/$1.js" "${@:2}")
}
step "operator commands from the build, beside the running service"
cli outbox list
mkdir -p "$WORK/data/backups"
if [ "${#RUN[@]}" -gt 0 ]; then chown nobody "$WORK/data/backups"; fi
cli backup "$WORK/data/backups/now"
[ -f "$WORK/data/backups/now/manifest.json" ] || { echo "the backup wrote no manifest" >&2; exit 1; }

step "image runtime: ok"
