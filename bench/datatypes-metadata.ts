/**
 * Metadata of the data types under churn (issue 15: "metadata stays bounded under 10,000 adds
 * and removes"). Three replicas of one set (then one map) each apply random operations under
 * their own actor and exchange whole states at random (a seeded generator: the same seed gives
 * the same run). At checkpoints it prints the live payload (elements, or fields), the dots the
 * store holds, the causal context's entries, the encoded state's bytes and how many of them are
 * metadata (state bytes minus the bytes of the value's JSON). With `--fresh-actor-every K`
 * each replica takes a new actor every K operations, as a node does when it forgets a key's
 * actor (docs/datatypes.md): metadata then grows with actors, not with operations.
 *
 *   tsx bench/datatypes-metadata.ts [--ops 10000] [--universe 200] [--seed 1] [--fresh-actor-every 0]
 */
import {
  applyOperation,
  contextSize,
  defaultDataTypeLimits,
  dotsOf,
  encodeDataType,
  join,
  maxCounter,
  parseOperation,
  valueOf,
  type DataType,
} from '@ringkv/protocol';
import { seededRandom } from '@ringkv/node/testing';
import { benchArgs } from './lib/cli.js';

const USAGE = `usage: tsx bench/datatypes-metadata.ts [--ops 10000] [--universe 200] [--seed 1] [--fresh-actor-every 0]\n\nBytes of state and of metadata of a set and a map under random adds, removes and joins across 3 replicas.`;

const { values } = benchArgs({
  options: {
    ops: { type: 'string', default: '10000' },
    universe: { type: 'string', default: '200' },
    seed: { type: 'string', default: '1' },
    'fresh-actor-every': { type: 'string', default: '0' },
  },
}, USAGE);

const ops = Number(values.ops);
const universe = Number(values.universe);
const freshEvery = Number(values['fresh-actor-every']);
if (![ops, universe, freshEvery].every((n) => Number.isSafeInteger(n) && n >= 0) || ops > 1_000_000 || universe < 1) {
  process.stderr.write(`--ops (≤ 1000000), --universe (≥ 1) and --fresh-actor-every must be non-negative integers\n`);
  process.exit(64);
}
const limits = { ...defaultDataTypeLimits, entriesMax: 1_000_000, bytesMax: 64 * 1024 * 1024 };
const checkpoints = new Set([100, 1000, 2500, 5000, 10_000, ops]);

interface Replica {
  actor: string;
  state: DataType | undefined;
}

function measure(kind: string, done: number, replicas: Replica[]): string {
  const merged = replicas.reduce<DataType | undefined>((acc, r) => (r.state === undefined ? acc : acc === undefined ? r.state : join(acc, r.state)), undefined)!;
  const stateBytes = encodeDataType(merged, limits).length;
  const valueBytes = Buffer.byteLength(JSON.stringify(valueOf(merged)));
  const live = kind === 'set' ? (valueOf(merged) as string[]).length : Object.keys(valueOf(merged) as object).length;
  const dots = [...dotsOf(merged.store)].length;
  return `| ${kind} | ${done.toLocaleString('en')} | ${live} | ${dots} | ${contextSize(merged.context)} | ${stateBytes.toLocaleString('en')} | ${(stateBytes - valueBytes).toLocaleString('en')} |`;
}

function operation(kind: 'set' | 'map', random: () => number, state: DataType | undefined): unknown {
  const pick = () => `e${Math.floor(random() * universe)}`;
  if (kind === 'set') {
    const present = state === undefined ? [] : (valueOf(state) as string[]);
    return random() < 0.5 || present.length === 0 ? { add: [pick()] } : { remove: [present[Math.floor(random() * present.length)]!] };
  }
  const field = `f${Math.floor(random() * 20)}`;
  const roll = random();
  if (roll < 0.2) return { update: {}, remove: [field] };
  if (field < 'f1' || field.endsWith('5')) return { update: { [field]: { increment: 1 } } };
  if (field.endsWith('7')) return { update: { [field]: { assign: pick() } } };
  if (field.endsWith('9')) return { update: { [field]: roll < 0.6 ? { enable: true } : { disable: true } } };
  return { update: { [field]: roll < 0.6 ? { add: [pick()] } : { remove: [pick()] } } };
}

function run(kind: 'set' | 'map'): string[] {
  const random = seededRandom(Number(values.seed));
  const replicas: Replica[] = [0, 1, 2].map((i) => ({ actor: `node${i}~0`, state: undefined }));
  const rows: string[] = [];
  for (let done = 1; done <= ops; done++) {
    const replica = replicas[Math.floor(random() * 3)]!;
    if (freshEvery > 0 && done % freshEvery === 0) replica.actor = `${replica.actor.split('~')[0]}~${done}`;
    const op = parseOperation(operation(kind, random, replica.state), limits);
    const context = replica.state?.context ?? { vv: new Map(), cloud: new Map() };
    replica.state = applyOperation(replica.state, op, { actor: replica.actor, counter: maxCounter(context, replica.actor) + 1 }, done, limits);
    if (random() < 0.2) {
      const from = replicas[Math.floor(random() * 3)]!;
      if (from.state !== undefined && from !== replica) replica.state = join(replica.state, from.state);
    }
    if (checkpoints.has(done)) rows.push(measure(kind, done, replicas));
  }
  return rows;
}

process.stdout.write(`seed ${values.seed}, universe ${universe} elements, fresh actor every ${freshEvery || 'never'}\n\n`);
process.stdout.write('| type | operations | live elements/fields | dots in store | context entries | state bytes | metadata bytes |\n|---|---:|---:|---:|---:|---:|---:|\n');
for (const row of [...run('set'), ...run('map')]) process.stdout.write(`${row}\n`);
