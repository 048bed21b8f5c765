/**
 * The set workload of the cluster simulation, the same as the real-process fault harness's
 * (test/fault/harness.ts): clients add unique elements to sets stored under keys by
 * read-modify-write (read at r, write back the union of the siblings plus the new element with
 * the read's context), sometimes write an element blind (no context: it must survive as a
 * sibling), and sometimes delete a key with the context of their read. Every operation goes
 * into a history in the checker's form (test/fault/checker.ts); a failed or unanswered write
 * is indeterminate (it may still land, so an add's end is unbounded).
 */
import type { SimClient } from './sim-client.js';
import type { SimClock } from './sim-clock.js';
import type { SimNode } from './sim-node.js';

export type SimHistoryEvent =
  | { readonly type: 'add'; readonly key: string; readonly element: string; readonly ok: boolean; readonly startMs: number; readonly endMs: number }
  | { readonly type: 'delete'; readonly key: string; readonly seen: readonly string[]; readonly ok: boolean; readonly startMs: number; readonly endMs: number }
  | { readonly type: 'read'; readonly key: string; readonly siblings: number; readonly elements: readonly string[]; readonly startMs: number; readonly endMs: number };

export interface WorkloadOptions {
  readonly keys: readonly string[];
  readonly clients: number;
  /** Share of operations that delete the key (with the read's context). */
  readonly deleteRate: number;
  /** Share of operations that write an element without reading (no context). */
  readonly blindRate: number;
  readonly thinkMsMax: number;
  /** timeout_ms of every request. */
  readonly requestTimeoutMs: number;
  readonly r: number;
  readonly w: number;
}

export class SetWorkload {
  readonly history: SimHistoryEvent[] = [];
  /** Answers no correct node gives (a 4xx to a well-formed request): reported as failures. */
  readonly unexpected: string[] = [];
  operations = 0;

  constructor(
    private readonly clock: SimClock,
    private readonly client: SimClient,
    private readonly random: () => number,
    /** The nodes a client may send to now (a client fails over from nodes that are down). */
    private readonly reachable: () => SimNode[],
    private readonly options: WorkloadOptions,
    private readonly trace: (line: string) => void = () => undefined,
  ) {}

  /** Runs the clients until `untilMs` (simulated); resolves when the last one stopped. */
  run(untilMs: number): Promise<void> {
    return Promise.all(Array.from({ length: this.options.clients }, (_, id) => this.runClient(id, untilMs))).then(() => undefined);
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => this.clock.at(ms, undefined, resolve));
  }

  private async runClient(id: number, untilMs: number): Promise<void> {
    const { keys, deleteRate, blindRate, thinkMsMax, r, requestTimeoutMs } = this.options;
    for (let n = 0; this.clock.nowMs < untilMs; n++) {
      await this.pause(this.random() * thinkMsMax);
      const nodes = this.reachable();
      if (nodes.length === 0) continue;
      const node = nodes[Math.floor(this.random() * nodes.length)]!;
      const key = keys[Math.floor(this.random() * keys.length)]!;
      const element = `c${id}-${n}`;
      this.operations++;
      if (this.random() < blindRate) {
        await this.add(node, key, [element], undefined, element);
        continue;
      }
      const readMs = this.clock.nowMs;
      const read = await this.client.readSet(node, key, r, requestTimeoutMs);
      if (read.status !== 200 && read.status !== 300 && read.status !== 404) continue;
      this.history.push({ type: 'read', key, siblings: read.siblings, elements: read.elements, startMs: readMs, endMs: this.clock.nowMs });
      // A delete covers only what its read saw, so it starts (for the checker's concurrency
      // rule) when the read did: an add acknowledged in between is concurrent with it.
      if (this.random() < deleteRate) await this.remove(node, key, read.elements, read.context, undefined, readMs);
      else await this.add(node, key, [...read.elements, element], read.context, element);
    }
  }

  private writePath(key: string, w = this.options.w): string {
    return `/kv/${key}?w=${w}`;
  }

  private note(what: string, status: number): void {
    if (status >= 400 && status < 500) this.unexpected.push(`${what}: ${status}`);
  }

  /** Writes `elements` (with `context`, if any) and records the add of `element`. */
  async add(node: SimNode, key: string, elements: readonly string[], context: string | undefined, element: string, w?: number): Promise<void> {
    const startMs = this.clock.nowMs;
    const reply = await this.client.request(node, 'PUT', this.writePath(key, w), this.options.requestTimeoutMs, JSON.stringify(elements), context);
    this.note(`PUT ${key}`, reply.status);
    const ok = reply.status === 204;
    this.trace(`add ${key} ${element} ${context === undefined ? 'blind ' : ''}${ok ? 'acknowledged' : `failed (${reply.status})`}`);
    this.history.push({ type: 'add', key, element, ok, startMs, endMs: ok ? this.clock.nowMs : Infinity });
  }

  /** Deletes `key` with `context` and records what the delete had seen (its read began at `startMs`). */
  async remove(node: SimNode, key: string, seen: readonly string[], context: string | undefined, w?: number, startMs = this.clock.nowMs): Promise<void> {
    const reply = await this.client.request(node, 'DELETE', this.writePath(key, w), this.options.requestTimeoutMs, undefined, context);
    this.note(`DELETE ${key}`, reply.status);
    this.trace(`delete ${key} (saw ${seen.join(',')}) ${reply.status === 204 ? 'acknowledged' : `failed (${reply.status})`}`);
    this.history.push({ type: 'delete', key, seen, ok: reply.status === 204, startMs, endMs: this.clock.nowMs });
  }
}
