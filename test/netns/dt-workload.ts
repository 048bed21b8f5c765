/**
 * The data-type workload of the Jepsen-style multi-host run (issue 15, acceptance): workers
 * increment and decrement counters, add unique elements to sets and remove elements their own
 * read saw (with that read's context), and update a map's counter and set fields (adds, and
 * removals with the map read's context), each operation sent to one host picked at random
 * (one client per host, no failover: the host is the coordinator). Every write is recorded
 * for the checker (test/fault/dt-checker.ts) as acknowledged, failed or unknown, and every
 * operation's times and outcome for the figures (op-log.ts). Bounded: each worker stops at
 * `stopped()` or after `opsMax` operations.
 */
import type { RingkvClient } from '@ringkv/client';
import { random } from '../fault/harness.js';
import type { DtEvent } from '../fault/dt-checker.js';
import { codeOfError, outcomeOfError, type OpSample } from './op-log.js';

export const COUNTER_KEYS = ['ctr-0', 'ctr-1'] as const;
export const SET_KEYS = ['set-0', 'set-1'] as const;
export const MAP_KEY = 'map-0';
/** Map fields: counter n<i> and set s<i>, i < MAP_FIELDS. */
const MAP_FIELDS = 4;
export const DT_KEYS: readonly string[] = [...COUNTER_KEYS, ...SET_KEYS, MAP_KEY];

export interface DtWorkloadOptions {
  /** One client per host; a request goes to one of them. */
  readonly clients: readonly RingkvClient[];
  readonly workers: number;
  readonly seed: number;
  readonly timeoutMs: number;
  readonly opsMax: number;
  readonly stopped: () => boolean;
}

export interface DtWorkloadResult {
  readonly events: DtEvent[];
  readonly samples: OpSample[];
}

interface Plan {
  readonly op: string;
  /** The checker's events of this write, once its outcome is known. */
  readonly events: (outcome: DtEvent['outcome']) => DtEvent[];
  readonly key: string;
  readonly body: object;
}

/** Makes the next write (after the read it needs, if any); undefined when there is nothing to do. */
type Planner = (client: RingkvClient, rng: () => number, id: number, n: number, timeoutMs: number) => Promise<Plan | undefined>;

const pick = <T>(rng: () => number, list: readonly T[]): T => list[Math.floor(rng() * list.length)]!;
const amount = (rng: () => number) => (rng() < 0.7 ? 1 : -1) * (1 + Math.floor(rng() * 3));
const counterOp = (by: number) => (by < 0 ? { decrement: -by } : { increment: by });

const counter: Planner = async (_client, rng) => {
  const key = pick(rng, COUNTER_KEYS);
  const by = amount(rng);
  return { op: 'counter', key, body: counterOp(by), events: (outcome) => [{ kind: 'counter', name: key, by, outcome }] };
};

const setAdd: Planner = async (_client, rng, id, n) => {
  const key = pick(rng, SET_KEYS);
  const element = `w${id}-${n}`;
  return { op: 'set-add', key, body: { add: [element] }, events: (outcome) => [{ kind: 'add', name: key, element, outcome }] };
};

const setRemove: Planner = async (client, rng, _id, _n, timeoutMs) => {
  const key = pick(rng, SET_KEYS);
  const read = await client.dtGet(key, { timeoutMs });
  const seen = (read?.value as string[] | undefined) ?? [];
  if (read === undefined || seen.length === 0) return undefined;
  const element = pick(rng, seen);
  return { op: 'set-remove', key, body: { remove: [element], context: read.context }, events: (outcome) => [{ kind: 'remove', name: key, element, outcome }] };
};

const mapUpdate: Planner = async (_client, rng, id, n) => {
  const field = Math.floor(rng() * MAP_FIELDS);
  const by = amount(rng);
  const element = `m${id}-${n}`;
  return {
    op: 'map-update',
    key: MAP_KEY,
    body: { update: { [`n${field}`]: counterOp(by), [`s${field}`]: { add: [element] } } },
    events: (outcome) => [{ kind: 'counter', name: `${MAP_KEY}/n${field}`, by, outcome }, { kind: 'add', name: `${MAP_KEY}/s${field}`, element, outcome }],
  };
};

/** A removal from a map's set field, with the map read's context (one context for the whole map). */
const mapRemove: Planner = async (client, rng, _id, _n, timeoutMs) => {
  const read = await client.dtGet(MAP_KEY, { timeoutMs });
  const fields = Object.entries((read?.value ?? {}) as Record<string, unknown>).filter((e): e is [string, string[]] => Array.isArray(e[1]) && e[1].length > 0);
  if (read === undefined || fields.length === 0) return undefined;
  const [field, seen] = pick(rng, fields);
  const element = pick(rng, seen);
  return { op: 'map-remove', key: MAP_KEY, body: { update: { [field]: { remove: [element] } }, context: read.context }, events: (outcome) => [{ kind: 'remove', name: `${MAP_KEY}/${field}`, element, outcome }] };
};

/** The mix (shares add up to 1): as many set removals as adds, so a soak's sets stay small. */
const MIX: ReadonlyArray<readonly [number, Planner]> = [[0.35, counter], [0.2, setAdd], [0.2, setRemove], [0.15, mapUpdate], [0.1, mapRemove]];

async function worker(id: number, options: DtWorkloadOptions, result: DtWorkloadResult): Promise<void> {
  const rng = random(options.seed * 37 + id + 1);
  for (let n = 0; n < options.opsMax && !options.stopped(); n++) {
    const client = pick(rng, options.clients);
    let roll = rng();
    const [, plan] = MIX.find(([share]) => (roll -= share) < 0) ?? MIX.at(-1)!;
    const readStartMs = Date.now();
    let planned: Plan | undefined;
    try {
      planned = await plan(client, rng, id, n, options.timeoutMs);
    } catch (error) {
      result.samples.push({ op: 'read', startMs: readStartMs, endMs: Date.now(), outcome: 'failed', code: codeOfError(error) });
      await new Promise((resolve) => setTimeout(resolve, 50)); // a failed read: back off a little, as an application would
      continue;
    }
    if (planned === undefined) continue;
    const startMs = Date.now();
    try {
      await client.dtUpdate(planned.key, planned.body, { timeoutMs: options.timeoutMs });
      result.samples.push({ op: planned.op, startMs, endMs: Date.now(), outcome: 'acked' });
      result.events.push(...planned.events('acked'));
    } catch (error) {
      const outcome = outcomeOfError(error);
      result.samples.push({ op: planned.op, startMs, endMs: Date.now(), outcome, code: codeOfError(error) });
      result.events.push(...planned.events(outcome));
    }
  }
}

/** Runs the workers until `stopped()` (or each made `opsMax` operations). */
export async function runDtWorkload(options: DtWorkloadOptions): Promise<DtWorkloadResult> {
  const result: DtWorkloadResult = { events: [], samples: [] };
  await Promise.all(Array.from({ length: options.workers }, (_, i) => worker(i, options, result)));
  return result;
}
