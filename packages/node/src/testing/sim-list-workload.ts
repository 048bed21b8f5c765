/**
 * The listing workload of the cluster simulation (issue 15 point 3; docs/listing.md): writers
 * put and delete keys under one prefix while a lister pages through `GET /kv?prefix=` (small
 * pages, r of 1 or 2) under the run's nemesis. During the faults every page must hold keys of
 * the prefix, in strictly increasing byte order, after its cursor, and a whole listing no key
 * twice (docs/listing.md promises no more than that while replicas disagree). After the heal
 * each key is read at R = N, and a listing at R = N must hold exactly the keys those reads
 * found live, each once, and every key with an acknowledged put that no delete ever tried to
 * remove.
 */
import type { SimNode } from './sim-node.js';
import type { SimExtraWorkload, SimWorkloadEnv } from './sim-workload-hook.js';

export interface ListWorkloadOptions {
  readonly keys: number;
  readonly writers: number;
  readonly thinkMsMax: number;
  readonly requestTimeoutMs: number;
  /** Pages a listing may take before it is abandoned (a bound on every loop). */
  readonly pagesMax: number;
}

export const LIST_PREFIX = 'ls-';

/** Byte order of UTF-8 keys (the listing's order). */
function before(a: string, b: string): boolean {
  return Buffer.compare(Buffer.from(a), Buffer.from(b)) < 0;
}

export class ListWorkload implements SimExtraWorkload {
  readonly problems: string[] = [];
  /** Violations of the listing's promises (the verdict). */
  readonly violations: string[] = [];
  readonly counts = { puts: 0, putsAcknowledged: 0, deletes: 0, pages: 0, listings: 0, finalKeys: 0 };
  /** Keys with an acknowledged put, and keys some delete was sent for (whatever its outcome). */
  private readonly putAcked = new Set<string>();
  private readonly deleteTried = new Set<string>();
  private readonly keys: string[];

  constructor(
    private readonly env: SimWorkloadEnv,
    private readonly options: ListWorkloadOptions,
  ) {
    this.keys = Array.from({ length: options.keys }, (_, i) => `${LIST_PREFIX}${String(i).padStart(3, '0')}`);
  }

  run(untilMs: number): Promise<void> {
    const writers = Array.from({ length: this.options.writers }, () => this.runWriter(untilMs));
    return Promise.all([...writers, this.runLister(untilMs)]).then(() => undefined);
  }

  private pause(): Promise<void> {
    return new Promise((resolve) => this.env.clock.at(this.env.random() * this.options.thinkMsMax, undefined, resolve));
  }

  private node(): SimNode | undefined {
    const nodes = this.env.reachable();
    return nodes.length === 0 ? undefined : nodes[Math.floor(this.env.random() * nodes.length)];
  }

  private async runWriter(untilMs: number): Promise<void> {
    const { client, random } = this.env;
    const timeoutMs = this.options.requestTimeoutMs;
    while (this.env.clock.nowMs < untilMs) {
      await this.pause();
      const node = this.node();
      if (node === undefined) continue;
      const key = this.keys[Math.floor(random() * this.keys.length)]!;
      if (random() < 0.7) {
        this.counts.puts++;
        const reply = await client.request(node, 'PUT', `/kv/${key}?w=2`, timeoutMs, 'v');
        if (reply.status === 204) {
          this.putAcked.add(key);
          this.counts.putsAcknowledged++;
        }
        else if (reply.status >= 400 && reply.status < 500) this.problems.push(`PUT ${key}: ${reply.status} ${reply.body}`);
        continue;
      }
      const read = await client.request(node, 'GET', `/kv/${key}?r=2`, timeoutMs);
      if (read.status !== 200 && read.status !== 300) continue;
      this.counts.deletes++;
      this.deleteTried.add(key);
      const reply = await client.request(node, 'DELETE', `/kv/${key}?w=2`, timeoutMs, undefined, read.context);
      if (reply.status >= 400 && reply.status < 500) this.problems.push(`DELETE ${key}: ${reply.status} ${reply.body}`);
    }
  }

  private async runLister(untilMs: number): Promise<void> {
    while (this.env.clock.nowMs < untilMs) {
      await this.pause();
      const node = this.node();
      if (node === undefined) continue;
      const limit = 1 + Math.floor(this.env.random() * 8);
      await this.list(node, limit, 1 + Math.floor(this.env.random() * 2), this.options.requestTimeoutMs);
    }
  }

  /**
   * Pages through the prefix at `node`, checking each page; the keys listed, or undefined when
   * a page failed (a fault: the listing is abandoned, nothing to judge).
   */
  private async list(node: SimNode, limit: number, r: number, timeoutMs: number): Promise<string[] | undefined> {
    const seen: string[] = [];
    let after = '';
    for (let page = 0; page < this.options.pagesMax; page++) {
      const reply = await this.env.client.request(node, 'GET', `/kv?prefix=${LIST_PREFIX}&limit=${limit}&r=${r}${after === '' ? '' : `&after=${after}`}`, timeoutMs);
      if (reply.status >= 400 && reply.status < 500) this.problems.push(`listing: ${reply.status} ${reply.body}`);
      if (reply.status !== 200) return undefined;
      this.counts.pages++;
      const body = JSON.parse(reply.body) as { keys: string[]; next: string | null };
      let last = after;
      for (const key of body.keys) {
        if (!key.startsWith(LIST_PREFIX)) this.violations.push(`listing: ${key} is not under the prefix`);
        if (!before(last, key)) this.violations.push(`listing: ${key} after ${JSON.stringify(last)} on one page or across pages (r=${r}, limit ${limit})`);
        last = key;
        seen.push(key);
      }
      if (body.keys.length > limit) this.violations.push(`listing: a page of ${body.keys.length} keys at limit ${limit}`);
      if (body.next === null) {
        this.counts.listings++;
        if (new Set(seen).size !== seen.length) this.violations.push(`listing: a key listed twice (${seen.join(',')})`);
        return seen;
      }
      after = body.next;
    }
    this.problems.push(`a listing took more than ${this.options.pagesMax} pages`);
    return undefined;
  }

  /** Whether `key` is live after the heal, by a read at R = N (tried a few times). */
  private async live(key: string): Promise<boolean | undefined> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const reply = await this.env.client.request(this.env.anchor(), 'GET', `/kv/${key}?r=${this.env.n}`, 1_000);
      if (reply.status === 200 || reply.status === 404) return reply.status === 200;
      if (reply.status === 300) return (JSON.parse(reply.body) as { siblings: Array<{ deleted?: boolean }> }).siblings.some((s) => s.deleted !== true);
    }
    return undefined;
  }

  async finish(): Promise<void> {
    const live = await Promise.all(this.keys.map((key) => this.live(key)));
    if (live.includes(undefined)) {
      this.problems.push('a final read of a listed key did not answer');
      return;
    }
    const expected = this.keys.filter((_, i) => live[i]);
    const listed = await this.list(this.env.anchor(), 1 + Math.floor(this.env.random() * 8), this.env.n, 1_000);
    if (listed === undefined) {
      this.problems.push('the final listing did not complete');
      return;
    }
    this.counts.finalKeys = listed.length;
    const missing = expected.filter((key) => !listed.includes(key));
    const extra = listed.filter((key) => !expected.includes(key));
    if (missing.length > 0) this.violations.push(`final listing misses live keys: ${missing.join(', ')}`);
    if (extra.length > 0) this.violations.push(`final listing holds keys that read as deleted or absent: ${extra.join(', ')}`);
    const lost = [...this.putAcked].filter((key) => !this.deleteTried.has(key) && !live[this.keys.indexOf(key)]);
    if (lost.length > 0) this.violations.push(`keys with an acknowledged put and no delete read as absent: ${lost.join(', ')}`);
  }
}
