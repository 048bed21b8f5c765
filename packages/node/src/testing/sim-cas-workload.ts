/**
 * The compare-and-set workload of the cluster simulation (issue 17; Jepsen's CAS-register
 * workload): clients read a few keys linearizably (`GET ?consistent=1`), write them
 * unconditionally (`PUT ?consistent=1`), claim them (`?if_absent=1`) and move them on by
 * version (`?if_version=V`, V the version the client saw last), through the real HTTP routes
 * of whichever node is up, while the nemesis does its worst. Every value written is unique, so
 * the history pins down which write a read saw. Answers become the linearizability checker's
 * operations (testing/linearizability/): a 204 or 412 is a known result; a 503 that says
 * `attempted: false` surely did not apply (dropped); anything else a write gets (a 504, no
 * answer) is an unknown outcome, which the checker lets take effect at any time after its
 * invocation, or never. This module only produces the history; test/sim/cas-sim.test.ts judges it.
 */
import type { Operation, Outcome, RegisterCall } from './linearizability/history.js';
import type { Reply, SimClient } from './sim-client.js';
import type { SimClock } from './sim-clock.js';
import type { SimNode } from './sim-node.js';

export interface CasWorkloadOptions {
  readonly keys: readonly string[];
  readonly clients: number;
  readonly thinkMsMax: number;
  /** timeout_ms of every request: long enough for a learn after a ring change and a contended round. */
  readonly requestTimeoutMs: number;
}

/** What a run of the workload did, for the report. */
export interface CasWorkloadStats {
  readonly operations: number;
  /** Known results: 200/404 reads, 204/412 writes. */
  readonly answered: number;
  /** Writes whose outcome is unknown (504, no answer). */
  readonly unknown: number;
  /** Requests that surely did not apply (503 attempted: false) and reads with no answer. */
  readonly failed: number;
}

export class CasWorkload {
  readonly history: Operation[] = [];
  /** Answers no correct node gives to these well-formed requests (a 400, a 500): reported as failures. */
  readonly unexpected: string[] = [];
  private counts = { operations: 0, answered: 0, unknown: 0, failed: 0 };

  constructor(
    private readonly clock: SimClock,
    private readonly client: SimClient,
    private readonly random: () => number,
    /** The nodes a client may send to now. */
    private readonly reachable: () => SimNode[],
    private readonly options: CasWorkloadOptions,
    private readonly trace: (line: string) => void = () => undefined,
  ) {}

  get stats(): CasWorkloadStats {
    return { ...this.counts };
  }

  /** Runs the clients until `untilMs` (simulated); resolves when the last one stopped. */
  run(untilMs: number): Promise<void> {
    return Promise.all(Array.from({ length: this.options.clients }, (_, id) => this.runClient(id, untilMs))).then(() => undefined);
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => this.clock.at(ms, undefined, resolve));
  }

  private async runClient(id: number, untilMs: number): Promise<void> {
    const versions = new Map<string, number>();
    for (let n = 0; this.clock.nowMs < untilMs; n++) {
      await this.pause(this.random() * this.options.thinkMsMax);
      const nodes = this.reachable();
      if (nodes.length === 0) continue;
      const node = nodes[Math.floor(this.random() * nodes.length)]!;
      const key = this.options.keys[Math.floor(this.random() * this.options.keys.length)]!;
      const value = `k${id}-${n}`;
      const dice = this.random();
      const call: RegisterCall = dice < 0.3 ? { kind: 'read' } : dice < 0.45 ? { kind: 'write', value } : dice < 0.65 ? { kind: 'cas', expected: null, value } : { kind: 'cas-version', expected: versions.get(key) ?? 0, value };
      await this.perform(`p${id}`, node, key, call, versions);
    }
  }

  /** Sends one operation, records it in the history; `versions` learns the version answered. */
  async perform(process: string, node: SimNode, key: string, call: RegisterCall, versions?: Map<string, number>): Promise<Operation> {
    this.counts.operations++;
    const invokedAt = this.clock.nowMs;
    const timeoutMs = this.options.requestTimeoutMs;
    let reply: Reply;
    if (call.kind === 'read') reply = await this.client.request(node, 'GET', `/kv/${key}?consistent=1`, timeoutMs);
    else if (call.kind === 'write') reply = await this.client.request(node, 'PUT', `/kv/${key}?consistent=1`, timeoutMs, call.value);
    else if (call.kind === 'cas') reply = await this.client.request(node, 'PUT', `/kv/${key}?if_absent=1`, timeoutMs, call.value);
    else reply = await this.client.request(node, 'PUT', `/kv/${key}?if_version=${call.expected}`, timeoutMs, call.value);
    const completedAt = this.clock.nowMs;
    const version = reply.version === undefined ? undefined : Number(reply.version);
    if (version !== undefined) versions?.set(key, version);
    const outcome = this.outcomeOf(call, reply, completedAt, version);
    if (reply.status >= 400 && ![404, 412, 503, 504].includes(reply.status)) this.unexpected.push(`${call.kind} ${key} @${node.id}: ${reply.status} ${reply.body}`);
    if (outcome.status === 'ok') this.counts.answered++;
    else if (outcome.status === 'unknown' && call.kind !== 'read') this.counts.unknown++;
    else this.counts.failed++;
    this.trace(`cas ${process} ${call.kind}${'value' in call ? ` ${call.value}` : ''} ${key} @${node.id}: ${reply.status}${version === undefined ? '' : ` v${version}`}${reply.status === 200 ? ` ${reply.body}` : ''}`);
    const operation: Operation = { process, key, call, invokedAt, outcome };
    this.history.push(operation);
    return operation;
  }

  private outcomeOf(call: RegisterCall, reply: Reply, completedAt: number, version: number | undefined): Outcome {
    if (call.kind === 'read') {
      if (reply.status === 200) return { status: 'ok', completedAt, result: { kind: 'read', value: reply.body, ...(version === undefined ? {} : { version }) } };
      if (reply.status === 404) return { status: 'ok', completedAt, result: { kind: 'read', value: null, ...(version === undefined ? {} : { version }) } };
      return { status: 'unknown' };
    }
    if (reply.status === 204) return call.kind === 'write' ? { status: 'ok', completedAt, result: { kind: 'write' } } : { status: 'ok', completedAt, result: { kind: 'cas', ok: true } };
    if (reply.status === 412 && call.kind !== 'write') return { status: 'ok', completedAt, result: { kind: 'cas', ok: false } };
    if (reply.status === 503 && surelyNotApplied(reply.body)) return { status: 'failed', completedAt };
    return { status: 'unknown' };
  }
}

/** A 503 whose body says the round did not apply (cas-routes.ts: KV_ERR_QUORUM_UNMET, attempted: false). */
function surelyNotApplied(body: string): boolean {
  try {
    const parsed = JSON.parse(body) as { error?: { code?: string; attempted?: boolean } };
    return parsed.error?.code === 'KV_ERR_QUORUM_UNMET' && parsed.error.attempted === false;
  } catch {
    return false;
  }
}
