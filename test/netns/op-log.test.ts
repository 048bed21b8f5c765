// The Jepsen runs' figures (op-log.ts): outcomes counted per kind and overall, latency
// percentiles and throughput over the acknowledged operations only, failures by code.
import t from 'tap';
import { RingkvError, OutcomeUnknownError } from '@ringkv/client';
import { opFigures, outcomeOfError, type OpSample } from './op-log.js';

t.test('figures per kind and for all', async (t) => {
  const samples: OpSample[] = [
    ...Array.from({ length: 100 }, (_, i): OpSample => ({ op: 'cas', startMs: 0, endMs: i + 1, outcome: 'acked' })),
    { op: 'cas', startMs: 0, endMs: 5_000, outcome: 'unknown', code: 'KV_ERR_TIMEOUT' },
    { op: 'read', startMs: 0, endMs: 3, outcome: 'failed', code: 'KV_ERR_QUORUM_UNMET' },
    { op: 'read', startMs: 0, endMs: 7.4, outcome: 'acked' },
  ];
  const [cas, read, all] = opFigures(samples, 10_000);
  t.match(cas, { op: 'cas', ops: 101, acked: 100, unknown: 1, failed: 0, ackedPerSecond: 10, p50Ms: 50, p99Ms: 99, maxMs: 100, codes: { KV_ERR_TIMEOUT: 1 } }, 'an unknown outcome is not in the latencies');
  t.match(read, { op: 'read', ops: 2, acked: 1, failed: 1, p99Ms: 7, codes: { KV_ERR_QUORUM_UNMET: 1 } });
  t.match(all, { op: 'all', ops: 103, acked: 101, unknown: 1, failed: 1 });
});

t.test("a write's outcome is the client's own verdict", async (t) => {
  t.equal(outcomeOfError(new RingkvError('KV_ERR_QUORUM_UNMET', 'x', 503, {}, { mayHaveApplied: false })), 'failed');
  t.equal(outcomeOfError(new RingkvError('KV_ERR_TIMEOUT', 'x', 504, {}, { mayHaveApplied: true })), 'unknown');
  t.equal(outcomeOfError(new OutcomeUnknownError('no answer')), 'unknown');
  t.equal(outcomeOfError(new Error('anything else')), 'unknown', 'an error the client does not classify may have applied');
});
