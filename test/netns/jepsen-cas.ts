// Compare-and-set under real faults on the multi-host tier (issue 17, acceptance;
// docs/testing.md): a CAS register (linearizable reads, if_version and if_absent sets, retries
// with the same request id) on 5 hosts in network namespaces while a seeded nemesis kills,
// pauses and partitions (nftables) nodes; every operation's invocation, completion and outcome
// is recorded and the history judged by the linearizability checker. Root only; fails, never
// skips, without it. Environment: NETNS_SECONDS (fault time, default 15; soak:
// test/netns/soak.sh --workload cas --minutes 10), NETNS_SEED (replays the schedule),
// NETNS_HOSTS (3–5, default 5), NETNS_MEMBERSHIP=1 (adds leaves and joins: CAS across ring
// changes, docs/cas.md "Membership changes").
import t from 'tap';
import { optionsFromEnv, runJepsen } from './jepsen-run.js';

await runJepsen(t, optionsFromEnv('cas', { seconds: 15, holdMs: [3_000, 4_500] }));
