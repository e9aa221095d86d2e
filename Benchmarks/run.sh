#!/usr/bin/env bash
# What `make bench` runs: builds release and measures the three figures recorded in BENCHMARKS.md.
#
#   1. GET /api/workspaces/{id} req/s at 64 connections (wrk) vs a bare route in the same binary
#      returning the same bytes, alternating rounds in one run, so the ratio shares the machine's noise;
#   2. operations end to end (POST -> deployed) for N workspaces whose install is a no-op exec, with
#      2 and 8 workers, plus the exec deployer alone (what spawning the step costs without the API);
#   3. `enclave serve` cold start to the first 200 from /api/health (fresh and warm data dir), and
#      idle RSS after start and after a GET load;
#   4. bearer-token verification cost; 5. the gateway against the tool reached directly and against
#      nginx as a reverse proxy (enclave-bench gateway; nginx optional).
#
# Nothing is installed: wrk must already be there (Debian/Ubuntu: apt-get install wrk).
# Tunables (environment): ROUNDS DURATION CONNECTIONS OPS INFLIGHT WORKER_COUNTS STARTUP_RUNS PORT_BASE
# GATEWAY_SECONDS GATEWAY_BODY_KIB,
# KEEP=1 (keep the scratch dir with server logs), SKIP_BUILD=1 (reuse the release binaries).
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-8s}
CONNECTIONS=${CONNECTIONS:-64}
OPS=${OPS:-1000}
INFLIGHT=${INFLIGHT:-32}
WORKER_COUNTS=${WORKER_COUNTS:-"2 8"}
STARTUP_RUNS=${STARTUP_RUNS:-5}
PORT_BASE=${PORT_BASE:-18300}
TEMPLATES=Benchmarks/templates

if ! command -v wrk >/dev/null 2>&1; then
    echo "wrk is not installed; it generates the GET load. Install it with: apt-get install wrk" >&2
    exit 1
fi

WORK=$(mktemp -d /tmp/enclave-bench.XXXXXX)
echo "== building (release)"
if [ -n "${SKIP_BUILD:-}" ]; then
    echo "SKIP_BUILD set: using the release binaries already built" >"$WORK/build.log"
# One product per invocation: given two --product flags, SwiftPM builds only the last.
elif ! { swift build -c release --product enclave && swift build -c release --product enclave-bench; } >"$WORK/build.log" 2>&1; then
    tail -40 "$WORK/build.log" >&2
    echo "release build failed (full log: $WORK/build.log)" >&2
    exit 1
fi
grep -E "^Build .*complete" "$WORK/build.log" || true
BIN=$(swift build -c release --show-bin-path)
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    if [ -z "${KEEP:-}" ]; then rm -rf "$WORK"; else echo "kept $WORK"; fi
}
trap cleanup EXIT

machine() {
    echo "machine: nproc $(nproc), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), load average $(cut -d' ' -f1-3 /proc/loadavg)"
}

# Stops one server we started (by pid) and waits for it.
stop() {
    kill "$1" 2>/dev/null || true
    wait "$1" 2>/dev/null || true
}

wait_healthy() {
    local url=$1
    for _ in $(seq 1 300); do
        [ "$(curl -s -o /dev/null -w '%{http_code}' "$url/api/health")" = 200 ] && return 0
        sleep 0.1
    done
    echo "no 200 from $url/api/health" >&2
    return 1
}

# "own children" CPU ticks of a process: utime+stime, and cutime+cstime of the children it reaped.
cpu_ticks() { sed 's/^.*) //' "/proc/$1/stat" | awk '{ print $12 + $13, $14 + $15 }'; }

rss_mib() { awk '/^VmRSS:/ {printf "%.1f", $2 / 1024}' "/proc/$1/status"; }

# wrk summary of one run: "req/s p50_ms p99_ms errors".
wrk_run() {
    local url=$1 out
    out=$(wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency -H "Authorization: Bearer $TOKEN" "$url")
    echo "$out" | awk '
        function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
        /Requests\/sec:/ { rps = $2 }
        /^ +50%/ { p50 = ms($2) }
        /^ +99%/ { p99 = ms($2) }
        /Non-2xx/ { errors += $NF }
        /Socket errors/ { errors += 0 }
        END { printf "%.0f %.2f %.2f %d\n", rps, p50, p99, errors }'
}

echo
echo "== 1. GET /api/workspaces/{id} vs a bare route returning the same bytes ($CONNECTIONS connections, $ROUNDS rounds x $DURATION each)"
machine
API_PORT=$PORT_BASE
BARE_PORT=$((PORT_BASE + 1))
mkdir -p "$WORK/get"
"$BIN/enclave-bench" serve --data-dir "$WORK/get/data" --port "$API_PORT" --bare-port "$BARE_PORT" \
    --templates "$TEMPLATES" --ready-file "$WORK/get/ready" >"$WORK/get/server.log" 2>&1 &
GET_PID=$!
PIDS+=("$GET_PID")
for _ in $(seq 1 300); do [ -s "$WORK/get/ready" ] && break; sleep 0.1; done
[ -s "$WORK/get/ready" ] || { echo "bench server did not get ready; see $WORK/get/server.log" >&2; KEEP=1; exit 1; }
# shellcheck disable=SC1091
. "$WORK/get/ready"
API_URL="http://127.0.0.1:$API_PORT/api/workspaces/$WORKSPACE_ID"
ROUTE_URL="http://127.0.0.1:$API_PORT/bench/bare"
BARE_URL="http://127.0.0.1:$BARE_PORT/bench/bare"
api_len=$(curl -s -H "Authorization: Bearer $TOKEN" "$API_URL" | wc -c)
bare_len=$(curl -s "$BARE_URL" | wc -c)
route_len=$(curl -s "$ROUTE_URL" | wc -c)
echo "response bodies: api $api_len bytes, route $route_len, bare $bare_len (the bare routes serve one captured API response)"
[ "$api_len" = "$bare_len" ] && [ "$api_len" = "$route_len" ] || { echo "body sizes differ" >&2; exit 1; }
echo "rss after start: $(rss_mib "$GET_PID") MiB (enclave-bench serve)"
for url in "$API_URL" "$ROUTE_URL" "$BARE_URL"; do wrk -t2 -c"$CONNECTIONS" -d2s -H "Authorization: Bearer $TOKEN" "$url" >/dev/null; done
printf '%-6s %-32s %10s %9s %9s %7s\n' round target "req/s" "p50 ms" "p99 ms" errors
: >"$WORK/get/rounds"
for round in $(seq 1 "$ROUNDS"); do
    line="$round"
    for target in api route bare; do
        case $target in api) url=$API_URL ;; route) url=$ROUTE_URL ;; bare) url=$BARE_URL ;; esac
        read -r rps p50 p99 errors < <(wrk_run "$url")
        case $target in
            api) label="GET /api/workspaces/{id}" ;;
            route) label="/bench/bare (real router)" ;;
            bare) label="/bench/bare (no middleware)" ;;
        esac
        printf '%-6s %-32s %10s %9s %9s %7s\n' "$round" "$label" "$rps" "$p50" "$p99" "$errors"
        line="$line $rps"
    done
    echo "$line" >>"$WORK/get/rounds"
done
awk '
    { api[NR] = $2; route[NR] = $3; bare[NR] = $4; rb[NR] = $2 / $4; rr[NR] = $2 / $3 }
    function median(a, n,   i, j, t) {
        for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
        return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
    }
    END {
        n = NR
        printf "median req/s: api %.0f, route %.0f, bare %.0f\n", median(api, n), median(route, n), median(bare, n)
        printf "ratio api / bare (no middleware): median %.3f over %d rounds  (goal >= 0.5: %s)\n", median(rb, n), n, median(rb, n) >= 0.5 ? "met" : "NOT met"
        printf "ratio api / route (same middleware): median %.3f\n", median(rr, n)
    }' "$WORK/get/rounds"
echo "rss after GET load: $(rss_mib "$GET_PID") MiB (enclave-bench serve)"
stop "$GET_PID"

echo
echo "== 3. enclave serve: cold start to first 200 from /api/health, idle RSS ($STARTUP_RUNS runs each)"
machine
START_PORT=$((PORT_BASE + 2))
"$BIN/enclave-bench" startup --enclave "$BIN/enclave" --templates "$TEMPLATES" --work-dir "$WORK/startup" \
    --runs "$STARTUP_RUNS" --port "$START_PORT"
"$BIN/enclave" serve --data-dir "$WORK/startup/warm" --port "$START_PORT" --templates "$TEMPLATES" >"$WORK/startup/serve.log" 2>&1 &
SERVE_PID=$!
PIDS+=("$SERVE_PID")
wait_healthy "http://127.0.0.1:$START_PORT"
sleep 1
idle=$(rss_mib "$SERVE_PID")
TOKEN=$("$BIN/enclave" token --data-dir "$WORK/startup/warm" --user bench --name Bench --email bench@localhost --role TREAdmin)
WS=$("$BIN/enclave-bench" create-workspace --url "http://127.0.0.1:$START_PORT" --token "$TOKEN")
read -r rps p50 p99 errors < <(DURATION=10s wrk_run "http://127.0.0.1:$START_PORT/api/workspaces/$WS")
sleep 2
echo "enclave serve RSS: idle after start $idle MiB; idle after 10 s of GET at $CONNECTIONS connections ($rps req/s, p99 $p99 ms) $(rss_mib "$SERVE_PID") MiB (goal < 100 MiB)"
stop "$SERVE_PID"

echo
echo "== 2. operations end to end: $OPS workspaces, no-op exec install, $INFLIGHT in flight"
# One server with $1 workers, a fresh data dir, $OPS operations polled from $2 ms backing off to $3 ms.
run_ops() {
    local workers=$1 poll_start=$2 poll_max=$3 port dir status cpu_before cpu_after
    machine
    port=$((PORT_BASE + 3))
    dir="$WORK/ops-$workers-$poll_start"
    mkdir -p "$dir"
    "$BIN/enclave" serve --data-dir "$dir/data" --port "$port" --templates "$TEMPLATES" --workers "$workers" >"$dir/serve.log" 2>&1 &
    OPS_PID=$!
    PIDS+=("$OPS_PID")
    wait_healthy "http://127.0.0.1:$port"
    TOKEN=$("$BIN/enclave" token --data-dir "$dir/data" --user bench --name Bench --email bench@localhost --role TREAdmin)
    echo "-- workers $workers, polls from $poll_start ms up to $poll_max ms"
    status=0
    cpu_before=$(cpu_ticks "$OPS_PID")
    TIMEFORMAT="load generator (enclave-bench operations) cpu: user %U s, sys %S s, wall %R s"
    time "$BIN/enclave-bench" operations --url "http://127.0.0.1:$port" --token "$TOKEN" --count "$OPS" \
        --concurrency "$INFLIGHT" --install-log "$dir/data/bench-installs.log" \
        --poll-start-ms "$poll_start" --poll-max-ms "$poll_max" || status=$?
    cpu_after=$(cpu_ticks "$OPS_PID")
    echo "$cpu_before $cpu_after" | awk -v ops="$OPS" -v hz="$(getconf CLK_TCK)" '{
        printf "cpu per operation: server %.2f ms (including the polls), step processes (children) %.2f ms\n",
            ($3 - $1) * 1000 / hz / ops, ($4 - $2) * 1000 / hz / ops }'
    stop "$OPS_PID"
    [ "$status" = 0 ] || { echo "operations benchmark failed (lost or duplicated operations)" >&2; KEEP=1; exit 1; }
}

for workers in $WORKER_COUNTS; do
    run_ops "$workers" 5 50
    echo "-- again with few polls (every 200 ms): what the operations cost without most of the watching"
    run_ops "$workers" 200 200
    echo "-- the exec deployer alone, $workers at once (no HTTP, no SQLite, no queue)"
    "$BIN/enclave-bench" deployer --templates "$TEMPLATES" --data-dir "$WORK/deployer-$workers" --count "$OPS" --concurrency "$workers"
done
echo
echo "goal: >= 500 operations/s on SQLite"

echo
echo "== 4. bearer-token verification through the middleware's verifier vs a raw ES256 loop; bcrypt sign-in cost"
machine
"$BIN/enclave-bench" auth

echo
echo "== 5. restricted workspaces with real isolation: POST -> deployed, ${ISOLATED:-50} sequential and 4 in flight"
if [ "$(id -u)" != 0 ] || ! command -v nft >/dev/null 2>&1; then
    echo "skipped: needs root and nftables (apt-get install nftables), as the data plane does"
else
    machine
    port=$((PORT_BASE + 5))
    dir="$WORK/isolated"
    mkdir -p "$dir"
    # Its own prefix and pool, so the bench never touches other workspaces' namespaces.
    "$BIN/enclave" serve --data-dir "$dir/data" --port "$port" --templates templates --workers 4 \
        --data-plane host --data-plane-prefix bn --address-pool 10.231.0.0/16 >"$dir/serve.log" 2>&1 &
    ISO_PID=$!
    PIDS+=("$ISO_PID")
    wait_healthy "http://127.0.0.1:$port"
    TOKEN=$("$BIN/enclave" token --data-dir "$dir/data" --user bench --name Bench --email bench@localhost --role TREAdmin)
    for inflight in 1 4; do
        echo "-- tre-workspace-base (netns, veth, nftables, cgroups, uid-owned storage), $inflight in flight"
        "$BIN/enclave-bench" operations --url "http://127.0.0.1:$port" --token "$TOKEN" --count "${ISOLATED:-50}" \
            --concurrency "$inflight" --template tre-workspace-base --poll-start-ms 5 --poll-max-ms 20 || KEEP=1
    done
    stop "$ISO_PID"
    # The workspaces are not deleted one by one: remove what the bench left on the host.
    for ns in $(ip netns list | awk '/^bn-ws-/{print $1}'); do ip netns pids "$ns" | xargs -r kill -9; ip netns del "$ns"; done
    for l in $(ls /sys/class/net | grep '^bnh' || true); do ip link del "$l" 2>/dev/null || true; done
    for t in $(nft list tables | awk '/bn_ws_/{print $3}'); do nft delete table inet "$t"; done
    for c in memory cpu pids; do rmdir /sys/fs/cgroup/$c/enclave/bn-ws-* 2>/dev/null || true; done
    rmdir /sys/fs/cgroup/enclave/bn-ws-* 2>/dev/null || true
    echo "goal: p50 <= 250 ms (sequential)"
fi

echo "== 6. gateway vs direct vs nginx as a reverse proxy: a ${GATEWAY_BODY_KIB:-16} KiB static body, $CONNECTIONS keep-alive connections"
# nginx is optional (Debian: apt-get install nginx-light); without it the nginx rows are skipped.
machine
"$BIN/enclave-bench" gateway --templates "$TEMPLATES" --connections "$CONNECTIONS" --rounds "$ROUNDS" \
    --seconds "${GATEWAY_SECONDS:-5}" --body-kib "${GATEWAY_BODY_KIB:-16}" --port-base "$((PORT_BASE + 10))"
