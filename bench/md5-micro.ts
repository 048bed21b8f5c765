/**
 * What one MD5 costs, the JavaScript of @ringkv/protocol against node:crypto's one-shot
 * `crypto.hash`, per input size, in one process: ring positions of short keys (`p1-<i>`, as the
 * benchmarks write) and byte inputs from 100 B to 1 MiB; then the node's `objectDigest`, which
 * switches from the first to the second above 256 bytes. CPU-µs per call from
 * `process.cpuUsage`, median of `--rounds` rounds; every result is checked against node:crypto
 * first, so a fast wrong hash cannot print a figure.
 *
 *   tsx bench/md5-micro.ts [--rounds 5]
 */
import * as crypto from 'node:crypto';
import { md5, ringPosition } from '@ringkv/protocol';
import { objectDigest } from '../packages/node/dist/storage/digest-tree.js';
import { benchArgs } from './lib/cli.js';

const USAGE = `usage: tsx bench/md5-micro.ts [--rounds 5]\n\nCPU-µs per MD5: @ringkv/protocol's JavaScript against node:crypto, per input size, and the node's objectDigest.`;
const { values } = benchArgs({ options: { rounds: { type: 'string', default: '5' } } }, USAGE);
const rounds = Number(values.rounds);
if (!(rounds >= 1 && rounds <= 50)) throw new Error('--rounds must be 1..50');

const hash = (crypto as unknown as { hash: (algorithm: string, data: string | Uint8Array, encoding: 'buffer') => Buffer }).hash;
const keys = Array.from({ length: 1000 }, (_, i) => `p1-${i}`);
for (const key of keys) {
  if (ringPosition(key) !== hash('md5', key, 'buffer').readUIntBE(0, 6)) throw new Error(`ring position of ${key} differs from node:crypto`);
}

/** Median CPU-µs per call of `f` over the rounds, `calls` calls a round (bounded: at most ~2e8 bytes hashed a round). */
function perCall(calls: number, f: (i: number) => unknown): number {
  const results: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const start = process.cpuUsage();
    for (let i = 0; i < calls; i++) f(i);
    const used = process.cpuUsage(start);
    results.push((used.user + used.system) / calls);
  }
  return results.sort((a, b) => a - b)[Math.floor(results.length / 2)]!;
}

const rows: string[] = ['| input | node:crypto µs | JavaScript µs | objectDigest µs |', '|---|---:|---:|---:|'];
const keyCalls = 200_000;
rows.push(`| key position (\`p1-<i>\`) | ${perCall(keyCalls, (i) => hash('md5', keys[i % 1000]!, 'buffer').readUIntBE(0, 6)).toFixed(2)} | ${perCall(keyCalls, (i) => ringPosition(keys[i % 1000]!)).toFixed(2)} | |`);
for (const size of [100, 300, 500, 600, 1000, 4096, 65_536, 1 << 20]) {
  const input = crypto.randomBytes(size);
  if (Buffer.from(md5(input)).compare(hash('md5', input, 'buffer')) !== 0) throw new Error(`md5 of ${size} bytes differs from node:crypto`);
  const calls = Math.max(20, Math.floor(2e7 / (size + 100)));
  const native = perCall(calls, () => hash('md5', input, 'buffer'));
  const js = perCall(calls, () => md5(input));
  const object = perCall(calls, () => objectDigest('p1-12345', input));
  rows.push(`| ${size.toLocaleString('en-US')} bytes | ${native.toFixed(2)} | ${js.toFixed(2)} | ${object.toFixed(2)} |`);
}
process.stdout.write(`${rows.join('\n')}\n\nobjectDigest hashes the key's length, the key (8 bytes here) and the input, so 12 bytes more; median of ${rounds} rounds.\n`);
