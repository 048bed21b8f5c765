// Data types under real faults on the multi-host tier (issue 15, acceptance; docs/testing.md):
// counters, sets and a map on 5 hosts in network namespaces while a seeded nemesis kills,
// pauses and partitions (nftables) nodes; after the heal every host's r=N reads are judged by
// the data-type checker. Root only; fails, never skips, without it. Environment:
//   NETNS_SECONDS (fault time, default 15; soak: test/netns/soak.sh --workload dt --minutes 10),
//   NETNS_SEED (replays the schedule), NETNS_HOSTS (3–5, default 5), NETNS_MEMBERSHIP=1 (adds
//   leaves and joins).
import t from 'tap';
import { optionsFromEnv, runJepsen } from './jepsen-run.js';

await runJepsen(t, optionsFromEnv('dt', { seconds: 15, holdMs: [3_000, 4_500] }));
