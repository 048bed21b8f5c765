#!/usr/bin/env bash
# The multi-host tier's long runs (docs/testing.md). Root only (CI is root). Build first
# (node scripts/pnpm.mjs run build).
#
#   test/netns/soak.sh [REPORT]                                  the set workload (test/netns/tier.ts)
#   test/netns/soak.sh --workload dt|cas [--minutes M] [--membership] [--hosts H] [REPORT]
#
# The set workload: by default 10 minutes of real network and process faults (nftables splits,
# bridges, one-way loss, isolated hosts; kill -9, SIGSTOP, clock skew under libfaketime) on 5
# hosts in network namespaces, then the checker, the availability figures per fault kind and a
# rolling restart. `--workload dt` (counters, sets, map fields; the data-type checker) and
# `--workload cas` (a CAS register; the linearizability checker) are the Jepsen-style runs of
# issues 15 and 17 (test/netns/jepsen-run.ts): kills, pauses and nftables partitions, plus a
# node leaving and its host joining as a new member with `--membership`.
# Environment: NETNS_SECONDS (default 600; --minutes sets it), NETNS_SEED (default: from the
# clock, printed), NETNS_HOSTS (3–5, default 5).
# The full tap output goes to netns-soak[-WORKLOAD]-SEED.txt (or REPORT); the terminal gets the
# seed, the fault log with heal times, the figures (operations, acknowledged, unknown, failed,
# throughput, p50/p99) and the verdicts. Exits non-zero when anything failed; 64 on a usage error.
set -uo pipefail
cd "$(dirname "$0")/../.."
usage() { echo "usage: test/netns/soak.sh [--workload dt|cas] [--minutes M] [--membership] [--hosts 3|4|5] [REPORT]: $1" >&2; exit 64; }
workload=sets
report=""
while [ $# -gt 0 ]; do
  case "$1" in
    --workload) [ $# -ge 2 ] || usage "--workload needs a value"; workload="$2"; shift 2 ;;
    --minutes) [ $# -ge 2 ] || usage "--minutes needs a value"; [[ "$2" =~ ^[0-9]+$ ]] && [ "$2" -ge 1 ] && [ "$2" -le 1440 ] || usage "--minutes takes a whole number from 1 to 1440"; export NETNS_SECONDS=$(( $2 * 60 )); shift 2 ;;
    --membership) export NETNS_MEMBERSHIP=1; shift ;;
    --hosts) [ $# -ge 2 ] || usage "--hosts needs a value"; [[ "$2" =~ ^[345]$ ]] || usage "--hosts takes 3, 4 or 5"; export NETNS_HOSTS="$2"; shift 2 ;;
    -*) usage "unknown option $1" ;;
    *) [ -z "$report" ] || usage "one report file only"; report="$1"; shift ;;
  esac
done
case "$workload" in
  sets) file=test/netns/tier.ts; [ -z "${NETNS_MEMBERSHIP:-}" ] || usage "--membership is for --workload dt|cas" ;;
  dt|cas) file="test/netns/jepsen-$workload.ts" ;;
  *) usage "--workload takes dt or cas (default: the set workload)" ;;
esac
export NETNS_SECONDS="${NETNS_SECONDS:-600}"
export NETNS_SEED="${NETNS_SEED:-$(( $(date +%s) % 100000 ))}"
suffix=$([ "$workload" = sets ] && echo "" || echo "-$workload")
report="${report:-netns-soak$suffix-$NETNS_SEED.txt}"
echo "soak: ${workload}, ${NETNS_SECONDS} s of faults, seed ${NETNS_SEED}${NETNS_MEMBERSHIP:+, with leaves and joins}; commit $(git rev-parse --short HEAD); full output in ${report}"
started=$(date +%s)
node_modules/.bin/tap --reporter=tap --timeout=0 "$file" > "$report" 2>&1
status=$?
grep -E '^\s+# |^\s+(not )?ok [0-9]+ - ' "$report" | sed -E 's/^\s+//'
echo "soak: finished with status ${status} after $(( $(date +%s) - started )) s"
exit "$status"
