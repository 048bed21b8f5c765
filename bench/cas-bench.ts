/**
 * Compare-and-set next to plain writes (issue 17, docs/cas.md) on a local ring of real node
 * processes, loaded through @ringkv/client: a phase of plain PUTs (causal writes at the default
 * quorum), then a phase of CAS writes (each client owns a key and moves it forward with
 * `cas(key, value, { ifVersion })` from the version it last saw: one Paxos round, two round
 * trips, per write), then consistent reads. Bounded: each phase ends at --seconds or --max-ops.
 *
 *   tsx bench/cas-bench.ts [--nodes 3] [--seconds 10] [--clients 16] [--max-ops 200000] [--sync full]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { RingkvClient, RingkvError } from '@ringkv/client';
import { startLocalRing, stopNodes } from '@ringkv/cli';
import { runPhase, type PhaseResult } from './lib/load.js';
import { LATENCY_HEADER, latencyCells, machine, markdownTable, writeResult } from './lib/report.js';
import { benchArgs } from './lib/cli.js';

const USAGE = `usage: tsx bench/cas-bench.ts [--nodes 3] [--seconds 10] [--clients 16] [--max-ops 200000] [--sync full|normal]\n\nThroughput and latency of CAS writes and consistent reads next to plain PUTs on one local ring.`;

const { values } = benchArgs({
  options: {
    nodes: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '10' },
    clients: { type: 'string', default: '16' },
    'max-ops': { type: 'string', default: '200000' },
    sync: { type: 'string', default: 'full' },
  },
}, USAGE);

const nodes = Number(values.nodes);
const seconds = Number(values.seconds);
const clients = Number(values.clients);
const maxOps = Number(values['max-ops']);
if (![nodes, seconds, clients, maxOps].every((x) => Number.isSafeInteger(x) && x > 0) || nodes > 9 || seconds > 600 || clients > 1024 || !['full', 'normal'].includes(values.sync!)) {
  process.stderr.write(`--nodes (1-9), --seconds (≤ 600), --clients (≤ 1024), --max-ops must be positive integers; --sync full or normal\n`);
  process.exit(64);
}

const codeOf = (error: unknown) => (error instanceof RingkvError ? error.code : 'EXCEPTION');
const value = randomBytes(100);
const dir = mkdtempSync(join(tmpdir(), 'ringkv-cas-bench-'));
const ring = await startLocalRing({ count: nodes, n: Math.min(3, nodes), basePort: 0, dir, secret: randomBytes(18).toString('base64url'), extraArgs: ['--sync', values.sync!] });
const client = new RingkvClient({ urls: ring.map((node) => node.url), connectionsPerNode: clients });
const results: Array<{ phase: string; result: PhaseResult }> = [];
try {
  const phase = { seconds, warmupSeconds: 1, clients, maxOps };
  results.push({ phase: 'plain PUT', result: await runPhase({ ...phase, label: 'plain put', exec: async ({ index, t0 }, rec) => {
    try {
      await client.put(`plain-${index % 10_000}`, value);
      rec.ok('put', t0);
    } catch (error) {
      rec.fail('put', t0, codeOf(error));
    }
  } }) });
  const versions = new Map<number, number>();
  results.push({ phase: 'CAS (if_version)', result: await runPhase({ ...phase, label: 'cas', exec: async ({ worker, t0 }, rec) => {
    try {
      const result = await client.cas(`cas-${worker}`, value, { ifVersion: versions.get(worker) ?? 0 });
      versions.set(worker, result.version);
      if (result.applied) rec.ok('cas', t0);
      else rec.fail('cas', t0, 'PRECONDITION');
    } catch (error) {
      rec.fail('cas', t0, codeOf(error));
    }
  } }) });
  results.push({ phase: 'consistent GET', result: await runPhase({ ...phase, label: 'consistent get', exec: async ({ worker, t0 }, rec) => {
    try {
      await client.getConsistent(`cas-${worker}`);
      rec.ok('get-consistent', t0);
    } catch (error) {
      rec.fail('get-consistent', t0, codeOf(error));
    }
  } }) });
} finally {
  await client.close();
  await stopNodes(ring);
  rmSync(dir, { recursive: true, force: true });
}

const rows = results.flatMap(({ phase, result }) => result.stats.map((s) => [phase, ...latencyCells(s)]));
process.stdout.write(`${markdownTable(['phase', ...LATENCY_HEADER], 'lrrrrrrr', rows)}\n`);
process.stdout.write(`result: ${writeResult('cas-bench', { machine: machine(), nodes, clients, seconds, sync: values.sync, results })}\n`);
