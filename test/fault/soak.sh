#!/usr/bin/env bash
# A real-process soak of the fault harness (docs/testing.md): by default 10 minutes of kills,
# pauses, partitions, joins, leaves, removes, wiped disks and clock steps on a 5-node ring,
# then the checker. Build first (node scripts/pnpm.mjs run build). Environment:
#   FAULT_SECONDS (default 600), FAULT_SEED (default: from the clock, printed),
#   FAULT_MEMBERSHIP (default 1; 0 = kills, pauses and partitions only).
# The full tap output goes to fault-soak-SEED.txt (or the file given as $1); the terminal gets
# the seed, the fault log, the figures (acknowledged adds, lost, resurrected, unconverged,
# convergence time, read-your-writes miss rate) and the verdicts. Exits non-zero on a failure.
set -uo pipefail
cd "$(dirname "$0")/../.."
export FAULT_SECONDS="${FAULT_SECONDS:-600}"
export FAULT_SEED="${FAULT_SEED:-$(( $(date +%s) % 100000 ))}"
export FAULT_MEMBERSHIP="${FAULT_MEMBERSHIP:-1}"
report="${1:-fault-soak-$FAULT_SEED.txt}"
echo "soak: ${FAULT_SECONDS} s, seed ${FAULT_SEED}, membership ${FAULT_MEMBERSHIP}; full output in ${report}"
started=$(date +%s)
node_modules/.bin/tap --reporter=tap --timeout=0 test/fault/fault.test.ts > "$report" 2>&1
status=$?
grep -E '^\s+# |^\s+(not )?ok [0-9]+ - ' "$report" | sed -E 's/^\s+//'
echo "soak: finished with status ${status} after $(( $(date +%s) - started )) s"
exit "$status"
