#!/usr/bin/env bash
# The multi-host tier's long run (docs/testing.md): by default 10 minutes of real network and
# process faults (nftables splits, bridges, one-way loss, isolated hosts; kill -9, SIGSTOP,
# clock skew under libfaketime) on 5 hosts in network namespaces under the set workload, then
# the checker, the availability figures per fault kind and a rolling restart. Root only (CI is
# root). Build first (node scripts/pnpm.mjs run build). Environment:
#   NETNS_SECONDS (default 600), NETNS_SEED (default: from the clock, printed).
# The full tap output goes to netns-soak-SEED.txt (or the file given as $1); the terminal gets
# the seed, the fault log with heal times, the figures per fault kind and class (throughput,
# p50/p99, 503/504/other), acknowledged writes, lost/resurrected/unconverged and the verdicts.
# Exits non-zero when anything failed (the availability checks fail on a server without the
# issue-16 deadlines; the data checks must pass in any case).
set -uo pipefail
cd "$(dirname "$0")/../.."
export NETNS_SECONDS="${NETNS_SECONDS:-600}"
export NETNS_SEED="${NETNS_SEED:-$(( $(date +%s) % 100000 ))}"
report="${1:-netns-soak-$NETNS_SEED.txt}"
echo "soak: ${NETNS_SECONDS} s of faults, seed ${NETNS_SEED}; commit $(git rev-parse --short HEAD); full output in ${report}"
started=$(date +%s)
node_modules/.bin/tap --reporter=tap --timeout=0 test/netns/tier.ts > "$report" 2>&1
status=$?
grep -E '^\s+# |^\s+(not )?ok [0-9]+ - ' "$report" | sed -E 's/^\s+//'
echo "soak: finished with status ${status} after $(( $(date +%s) - started )) s"
exit "$status"
