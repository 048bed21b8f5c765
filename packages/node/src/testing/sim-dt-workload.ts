/**
 * The data-type workload of the cluster simulation (issue 15; Jepsen's counter and set
 * workloads, riak_dt's eqc models): clients increment and decrement a counter, add unique
 * elements to an add-wins set and remove elements with the context of their read, and update a
 * map's counter, set and register fields, all through `POST /dt/{key}` on the real routes
 * (sim-client.ts), under the run's nemesis. Each operation is recorded as acknowledged (200),
 * failed (surely not applied: a 4xx, `attempted: false`, an overloaded queue) or unknown (no
 * answer, or any other error: it may have been applied). After the heal the workload reads its
 * keys at R = N (read repair), joins each replica's stored copy to see whether the replicas
 * converged, and reads once more for the final values. The verdict is sim-dt-check.ts's.
 *
 * A removal sometimes names an acknowledged element its read did not see: a remove removes only
 * what its context observed, so that element must survive (the add-wins rule).
 */
import { DATA_TYPE_CONTENT_TYPE, defaultDataTypeLimits, encodeDataTypeText, type Json } from '@ringkv/protocol';
import { joinSiblings } from '../replication/dt-service.js';
import type { SimNode } from './sim-node.js';
import type { SimExtraWorkload, SimWorkloadEnv } from './sim-workload-hook.js';

export type DtOutcome = 'acknowledged' | 'failed' | 'unknown';

/** One operation as the checker needs it; `field` names a map field (undefined: the key itself). */
export type DtHistoryEvent =
  | { readonly kind: 'counter'; readonly key: string; readonly field?: string; readonly delta: number; readonly outcome: DtOutcome }
  | { readonly kind: 'add'; readonly key: string; readonly field?: string; readonly element: string; readonly outcome: DtOutcome }
  | { readonly kind: 'remove'; readonly key: string; readonly field?: string; readonly element: string; readonly seen: boolean; readonly outcome: DtOutcome }
  | { readonly kind: 'assign'; readonly key: string; readonly field: string; readonly value: string; readonly outcome: DtOutcome };

/** A key after the heal: its value read at R = N, and whether its replicas hold one state. */
export interface DtFinalKey {
  readonly status: number;
  readonly value: Json | undefined;
  readonly converged: boolean;
  /** Stored siblings per replica (data-type siblings are joined by Store.merge: 1 each). */
  readonly siblings: readonly number[];
  /** Each replica's joined state as text, by node id (what a verdict of "not converged" shows). */
  readonly states: Readonly<Record<string, string>>;
}

export interface DtWorkloadOptions {
  readonly clients: number;
  readonly thinkMsMax: number;
  readonly requestTimeoutMs: number;
  /** Each request reads at r drawn from 1..rMax (a read at 1 often misses the node's own last write). */
  readonly rMax: number;
  /** Writes at w: at least 2, so an acknowledged write outlives the one disk a seed may lose. */
  readonly w: number;
}

export const DT_KEYS = { counter: 'dt-counter', set: 'dt-set', map: 'dt-map' } as const;
/** The map's fields: a counter, a set and a register. */
export const DT_FIELDS = { hits: 'hits', tags: 'tags', owner: 'owner' } as const;

interface DtRead {
  readonly status: number;
  readonly value: Json | undefined;
  readonly context: string | undefined;
}

const DT_LIMITS = { ...defaultDataTypeLimits, bytesMax: Number.MAX_SAFE_INTEGER };

/** The outcome of a write's answer (status 0: no answer). */
export function outcomeOf(status: number, body: string): DtOutcome {
  if (status === 200) return 'acknowledged';
  if (status >= 400 && status < 500) return 'failed';
  try {
    const error = (JSON.parse(body) as { error?: { code?: string; attempted?: boolean } }).error;
    if (error?.attempted === false || error?.code === 'KV_ERR_OVERLOADED') return 'failed';
  } catch {
    // No JSON body (no answer at all): unknown.
  }
  return 'unknown';
}

export class DtWorkload implements SimExtraWorkload {
  readonly history: DtHistoryEvent[] = [];
  readonly problems: string[] = [];
  readonly final = new Map<string, DtFinalKey>();
  operations = 0;
  private serial = 0;

  constructor(
    private readonly env: SimWorkloadEnv,
    private readonly options: DtWorkloadOptions,
  ) {}

  run(untilMs: number): Promise<void> {
    return Promise.all(Array.from({ length: this.options.clients }, (_, id) => this.runClient(id, untilMs))).then(() => undefined);
  }

  private r(): number {
    return 1 + Math.floor(this.env.random() * this.options.rMax);
  }

  private pick<T>(list: readonly T[]): T {
    return list[Math.floor(this.env.random() * list.length)]!;
  }

  private async runClient(id: number, untilMs: number): Promise<void> {
    const { clock, random } = this.env;
    while (clock.nowMs < untilMs) {
      await new Promise<void>((resolve) => clock.at(random() * this.options.thinkMsMax, undefined, resolve));
      const nodes = this.env.reachable();
      if (nodes.length === 0) continue;
      const node = this.pick(nodes);
      this.operations++;
      const roll = random();
      if (roll < 0.3) await this.count(node, DT_KEYS.counter, undefined);
      else if (roll < 0.45) await this.add(node, DT_KEYS.set, undefined, `c${id}-${this.serial++}`);
      else if (roll < 0.6) await this.remove(node, DT_KEYS.set, undefined);
      else if (roll < 0.75) await this.count(node, DT_KEYS.map, DT_FIELDS.hits);
      else if (roll < 0.83) await this.add(node, DT_KEYS.map, DT_FIELDS.tags, `m${id}-${this.serial++}`);
      else if (roll < 0.92) await this.remove(node, DT_KEYS.map, DT_FIELDS.tags);
      else await this.assign(node, `o${id}-${this.serial++}`);
    }
  }

  /** POSTs `op` (wrapped as a field update when `field` is given) and classifies the answer. */
  private async post(node: SimNode, key: string, field: string | undefined, op: Record<string, unknown>): Promise<DtOutcome> {
    const body = JSON.stringify(field === undefined ? op : { update: { [field]: op } });
    const reply = await this.env.client.request(node, 'POST', `/dt/${key}?r=${this.r()}&w=${this.options.w}`, this.options.requestTimeoutMs, body);
    if (reply.status >= 400 && reply.status < 500) this.problems.push(`POST /dt/${key} ${body}: ${reply.status} ${reply.body}`);
    const outcome = outcomeOf(reply.status, reply.body);
    this.env.trace(`dt ${key}${field === undefined ? '' : `.${field}`} ${body} ${outcome}${outcome === 'acknowledged' ? '' : ` (${reply.status})`}`);
    return outcome;
  }

  private async count(node: SimNode, key: string, field: string | undefined): Promise<void> {
    const amount = 1 + Math.floor(this.env.random() * 5);
    const delta = this.env.random() < 0.3 ? -amount : amount;
    const outcome = await this.post(node, key, field, delta < 0 ? { decrement: amount } : { increment: amount });
    this.history.push({ kind: 'counter', key, ...(field === undefined ? {} : { field }), delta, outcome });
  }

  private async add(node: SimNode, key: string, field: string | undefined, element: string): Promise<void> {
    const outcome = await this.post(node, key, field, { add: [element] });
    this.history.push({ kind: 'add', key, ...(field === undefined ? {} : { field }), element, outcome });
  }

  private async assign(node: SimNode, value: string): Promise<void> {
    const outcome = await this.post(node, DT_KEYS.map, DT_FIELDS.owner, { assign: value });
    this.history.push({ kind: 'assign', key: DT_KEYS.map, field: DT_FIELDS.owner, value, outcome });
  }

  /**
   * Reads the key at r and removes one element with the read's context: mostly one the read
   * saw, sometimes an acknowledged one it did not see (which must survive the removal).
   */
  private async remove(node: SimNode, key: string, field: string | undefined): Promise<void> {
    const read = await this.read(node, key, this.r(), this.options.requestTimeoutMs);
    if (read.status !== 200 && read.status !== 404) return;
    const seen = elementsOf(read.value, field);
    const unseen = this.history.filter((e) => e.kind === 'add' && e.key === key && e.field === field && e.outcome === 'acknowledged' && !seen.includes(e.element));
    // Without a context (the read found nothing) a removal removes what the node's own read
    // holds (docs/datatypes.md), so an element the client did not see is removed only with one.
    const blind = this.env.random() < 0.3 && unseen.length > 0 && read.context !== undefined;
    if (!blind && seen.length === 0) return;
    const element = blind ? (this.pick(unseen) as { element: string }).element : this.pick(seen);
    const op = { remove: [element], ...(read.context === undefined ? {} : { context: read.context }) };
    const outcome = await this.post(node, key, field, op);
    this.history.push({ kind: 'remove', key, ...(field === undefined ? {} : { field }), element, seen: !blind, outcome });
  }

  private async read(node: SimNode, key: string, r: number, timeoutMs: number): Promise<DtRead> {
    const reply = await this.env.client.request(node, 'GET', `/dt/${key}?r=${r}`, timeoutMs);
    if (reply.status >= 400 && reply.status < 500 && reply.status !== 404) this.problems.push(`GET /dt/${key}: ${reply.status} ${reply.body}`);
    if (reply.status !== 200) return { status: reply.status, value: undefined, context: undefined };
    const body = JSON.parse(reply.body) as { value: Json; context: string };
    return { status: 200, value: body.value, context: body.context };
  }

  /** Reads `key` at R = N from a member, tried a few times (a read may wait behind old batches). */
  private async readFinal(key: string): Promise<DtRead> {
    let read: DtRead | undefined;
    for (let attempt = 0; attempt < 5 && read?.status !== 200 && read?.status !== 404; attempt++) {
      read = await this.read(this.env.anchor(), key, this.env.n, 1_000);
    }
    return read!;
  }

  async finish(): Promise<void> {
    const keys = Object.values(DT_KEYS);
    await Promise.all(keys.map((key) => this.readFinal(key)));
    await new Promise<void>((resolve) => this.env.clock.at(100, undefined, resolve));
    for (const key of keys) {
      const owners = this.env.anchor().parts!.coordinator.preferenceList(key);
      const replicas = owners.map((id) => this.env.members().find((node) => node.id === id)?.disk.get(key));
      const nowMs = this.env.anchor().nowMs();
      const states = replicas.map((object) => {
        try {
          const { state } = joinSiblings(object, nowMs, DT_LIMITS);
          return state === undefined ? '' : encodeDataTypeText(state);
        } catch (error) {
          this.problems.push(`a replica of ${key} does not join: ${(error as Error).message}`);
          return '<unjoinable>';
        }
      });
      const read = await this.readFinal(key);
      if (read.status !== 200 && read.status !== 404) this.problems.push(`final read of ${key} answered ${read.status}`);
      const siblings = replicas.map((object) => object?.siblings.filter((s) => s.contentType === DATA_TYPE_CONTENT_TYPE).length ?? 0);
      const byNode = Object.fromEntries(owners.map((id, i) => [id, states[i]!]));
      this.final.set(key, { status: read.status, value: read.value, converged: new Set(states).size === 1, siblings, states: byNode });
    }
  }
}

/** The elements of a set value, or of the set field `field` of a map value. */
export function elementsOf(value: Json | undefined, field: string | undefined): string[] {
  const held = field === undefined ? value : value !== null && typeof value === 'object' && !Array.isArray(value) ? value[field] : undefined;
  return Array.isArray(held) ? (held as string[]) : [];
}
