/**
 * The node-to-node transports alone, in one process: a node (in-memory store, so no fsync)
 * and a dialer, HttpTransport or StreamTransport, sending replica puts of 100-byte values from
 * `--concurrency` loops for `--seconds`. Prints ops/s and the CPU time of this process (both
 * sides) per replica op: what the internal hop costs, without SQLite. A/B in one run.
 *
 *   tsx bench/transport-micro.ts [--seconds 5] [--concurrency 64] [--transports stream,http]
 */
import { Keyring, MemoryStore, startNode, testConfig, validateConfig, type Member } from '@ringkv/node';
import { StreamTransport, update } from '@ringkv/node/testing';
import { HttpTransport } from '../packages/node/dist/transport/http-transport.js';
import { benchArgs } from './lib/cli.js';
const USAGE = `usage: tsx bench/transport-micro.ts [--seconds 5] [--concurrency 64] [--transports stream,http]\n\nThe node-to-node hop alone, in one process: replica puts per second and CPU µs per op of each transport.`;

const { values } = benchArgs({ options: { seconds: { type: 'string', default: '5' }, concurrency: { type: 'string', default: '64' }, transports: { type: 'string', default: 'stream,http' } } }, USAGE);
const seconds = Number(values.seconds);
const concurrency = Number(values.concurrency);
const SECRET = 'transport-micro-secret';
const limits = { batchOpsMax: 256, inflightMax: 4, queueOpsMax: 100_000 };

const node = await startNode(validateConfig({ nodeId: 'node-b', secret: SECRET, host: '127.0.0.1', httpPort: 0, n: 2, processMetrics: false }, testConfig), { store: new MemoryStore({ nowMs: Date.now }) });
const peer: Member = { id: 'node-b', address: node.url, status: 'alive', incarnation: 0 };
const value = new Uint8Array(100);

async function run(kind: string): Promise<void> {
  const keyring = new Keyring([SECRET]);
  const common = { selfId: 'node-a', nowMs: Date.now, peerTimeoutMs: 10_000, ...limits };
  const transport =
    kind === 'stream'
      ? new StreamTransport({ ...common, random: Math.random, keys: () => keyring.streamKeys, frameBytesMax: 64 * 1024 * 1024 })
      : new HttpTransport({ ...common, keys: () => keyring.internalKeys, connectionsPerPeer: 8, responseBytesMax: 64 * 1024 * 1024 });
  let i = 0;
  const put = () => {
    const key = `${kind}-${i++}`;
    const object = update(undefined, { coordinatorId: 'node-a', context: [], deleted: false, value, contentType: 'application/octet-stream', nowMs: Date.now() }, { siblingsMax: 8, clockEntriesMax: 8 });
    return transport.replica(peer, { kind: 'put', key, object });
  };
  await Promise.all(Array.from({ length: 200 }, put)); // warm up: connections, JIT
  const ops0 = i;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const deadline = t0 + seconds * 1000;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (performance.now() < deadline) await put();
  }));
  const wallS = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const ops = i - ops0;
  const stats = transport.stats();
  console.log(`| ${kind} | ${Math.round(ops / wallS)} | ${Math.round((cpu.user + cpu.system) / ops)} | ${(stats.opsSent / stats.batchesSent).toFixed(1)} |`);
  await transport.close();
}

console.log(`| transport | replica puts/s | CPU µs per op (both sides) | ops per batch |\n|---|---|---|---|`);
for (const kind of values.transports!.split(',')) await run(kind);
await node.close();
