#!/usr/bin/env bash
# BENCHMARKS.md section 5: restricted workspace POST -> deployed, host isolation against
# `--data-plane simulated` in the same run (alternating rounds, sequential creates), so the
# difference is the isolation's own cost under the same machine noise.
#
#   Benchmarks/isolation.sh                      # release binaries of this tree (built if SKIP_BUILD unset)
#   BINS="/tmp/old /tmp/new" Benchmarks/isolation.sh   # A/B of two builds, each host and simulated
#   (a folder in BINS holds `enclave` and `enclave-bench`, and may hold the `templates` of its commit)
#
# Needs root and nftables (as the host data plane). Tunables: COUNT (creates per round, 50),
# ROUNDS (3), PORT_BASE (18320). Each server gets its own prefix and address pool, so nothing here
# touches other workspaces' namespaces; what the servers leave on the host is removed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

COUNT=${COUNT:-50}
ROUNDS=${ROUNDS:-3}
PORT_BASE=${PORT_BASE:-18320}

if [ "$(id -u)" != 0 ] || ! command -v nft >/dev/null 2>&1; then
    echo "needs root and nftables (apt-get install nftables), as the host data plane does" >&2
    exit 1
fi
if [ -z "${BINS:-}" ]; then
    if [ -z "${SKIP_BUILD:-}" ]; then
        swift build -c release --product enclave >/dev/null && swift build -c release --product enclave-bench >/dev/null
    fi
    BINS=$(swift build -c release --show-bin-path)
fi

WORK=$(mktemp -d /tmp/enclave-isolation.XXXXXX)
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
    # The workspaces are not deleted one by one: remove what the servers left on the host.
    for ns in $(ip netns list | awk '/^bi[0-9]-ws-/{print $1}'); do ip netns pids "$ns" | xargs -r kill -9; ip netns del "$ns"; done
    for l in $(ls /sys/class/net | grep '^bi[0-9]h' || true); do ip link del "$l" 2>/dev/null || true; done
    for t in $(nft list tables | awk '/bi[0-9]_ws_/{print $3}'); do nft delete table inet "$t"; done
    for c in memory cpu pids; do rmdir /sys/fs/cgroup/$c/enclave/bi[0-9]-ws-* 2>/dev/null || true; done
    rmdir /sys/fs/cgroup/enclave/bi[0-9]-ws-* 2>/dev/null || true
    if [ -z "${KEEP:-}" ]; then rm -rf "$WORK"; else echo "kept $WORK"; fi
}
trap cleanup EXIT

# start <bin dir> <data plane> <index>: starts a server (in this shell, so cleanup can stop it) and
# adds "bin|plane|url token" to TARGETS.
TARGETS=()
start() {
    local bin=$1 plane=$2 index=$3 port=$((PORT_BASE + $3)) dir="$WORK/t$3"
    mkdir -p "$dir"
    # A build may bring its own templates (BINS of an older commit: <dir>/templates); else this tree's.
    local templates=templates
    [ -d "$bin/templates" ] && templates="$bin/templates"
    "$bin/enclave" serve --data-dir "$dir/data" --port "$port" --templates "$templates" --workers 4 \
        --data-plane "$plane" --data-plane-prefix "bi$index" --address-pool "10.$((232 + index)).0.0/16" \
        --log-level warning >"$dir/serve.log" 2>&1 &
    PIDS+=("$!")
    for _ in $(seq 1 300); do
        [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/api/health")" = 200 ] && break
        sleep 0.1
    done
    local token
    token=$("$bin/enclave" token --data-dir "$dir/data" --user bench --name Bench --email bench@localhost --role TREAdmin)
    TARGETS+=("$bin|$plane|http://127.0.0.1:$port $token")
}

index=0
for bin in $BINS; do
    for plane in host simulated; do
        start "$bin" "$plane" "$index"
        index=$((index + 1))
    done
done

echo "machine: nproc $(nproc), load average $(cut -d' ' -f1-3 /proc/loadavg)"
for round in $(seq 1 "$ROUNDS"); do
    for target in "${TARGETS[@]}"; do
        IFS='|' read -r bin plane server <<<"$target"
        read -r url token <<<"$server"
        echo "-- round $round, $plane, $bin (load $(cut -d' ' -f1 /proc/loadavg))"
        "$bin/enclave-bench" operations --url "$url" --token "$token" --count "$COUNT" --concurrency 1 \
            --template tre-workspace-base --poll-start-ms 5 --poll-max-ms 20 | grep -E "latency POST->deployed|operations:" || KEEP=1
    done
done
echo "machine: load average $(cut -d' ' -f1-3 /proc/loadavg)"
