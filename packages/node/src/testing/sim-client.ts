/**
 * A client of the cluster simulation: HTTP requests to a node's app (`app.request()`, the
 * real routes, context codec and error mapping), carried by the simulated clock. The request
 * reaches the node after a seeded delay and runs as that node's current life (held back while
 * it is paused); the answer comes back the same way, and is lost if that life crashed first.
 * A node that is down refuses at once. The client gives up `slackMs` after the request's own
 * timeout_ms (the outcome is then unknown, as with any real client).
 */
import { CAS_VERSION_HEADER, CONTEXT_HEADER } from '@ringkv/protocol';
import type { SimClock } from './sim-clock.js';
import type { SimNode } from './sim-node.js';

export interface Reply {
  /** HTTP status; 0 when refused or never answered. */
  readonly status: number;
  readonly context: string | undefined;
  readonly body: string;
  /** X-Ringkv-Version of a compare-and-set answer (sim-cas-workload.ts), if any. */
  readonly version?: string;
}

/** A key's value as the set workload reads it. */
export interface SetRead {
  readonly status: number;
  readonly context: string | undefined;
  /** The union of the live siblings' elements. */
  readonly elements: string[];
  /** Siblings in the answer (tombstones included). */
  readonly siblings: number;
}

const NO_REPLY: Reply = { status: 0, context: undefined, body: '' };

export class SimClient {
  constructor(
    private readonly clock: SimClock,
    private readonly delayMs: () => number,
    private readonly slackMs: number,
  ) {}

  /** Sends `method path` (its query string without timeout_ms, which this adds) to `node`. */
  request(node: SimNode, method: 'GET' | 'PUT' | 'DELETE' | 'POST', query: string, timeoutMs: number, body?: string, context?: string): Promise<Reply> {
    const path = `${query}&timeout_ms=${timeoutMs}`;
    return new Promise((resolve) => {
      let settled = false;
      const done = (reply: Reply) => {
        if (settled) return;
        settled = true;
        this.clock.cancel(timer);
        resolve(reply);
      };
      const timer = this.clock.at(timeoutMs + this.slackMs, `client-timeout ${method} ${path}`, () => done(NO_REPLY));
      if (!node.up) {
        this.clock.at(this.delayMs(), `refused ${node.id}`, () => done(NO_REPLY));
        return;
      }
      const owner = node.owner;
      const headers: Record<string, string> = context === undefined ? {} : { [CONTEXT_HEADER]: context };
      this.clock.at(this.delayMs(), `client ${method} ${path} @${node.id}`, () => {
        const app = node.parts!.app;
        void Promise.resolve(app.request(path, { method, headers, ...(body === undefined ? {} : { body }) }))
          .then(async (response) => ({ status: response.status, context: response.headers.get(CONTEXT_HEADER) ?? undefined, body: await response.text(), version: response.headers.get(CAS_VERSION_HEADER) ?? undefined }))
          .then((reply) => this.clock.at(this.delayMs(), `reply ${reply.status} ${method} ${path}${reply.status >= 500 ? ` ${reply.body}` : ""}`, () => done(reply), owner));
      }, owner);
    });
  }

  /** Reads a set key at `r`; the union of its live siblings (each a JSON array of elements). */
  async readSet(node: SimNode, key: string, r: number, timeoutMs: number): Promise<SetRead> {
    const reply = await this.request(node, 'GET', `/kv/${key}?r=${r}`, timeoutMs);
    const values: string[] = [];
    let siblings = 0;
    if (reply.status === 200) {
      values.push(reply.body);
      siblings = 1;
    } else if (reply.status === 300) {
      const parsed = JSON.parse(reply.body) as { siblings: Array<{ value?: string; deleted?: boolean }> };
      siblings = parsed.siblings.length;
      for (const sibling of parsed.siblings) if (!sibling.deleted) values.push(Buffer.from(sibling.value ?? '', 'base64').toString());
    }
    const elements = new Set<string>();
    for (const value of values) for (const element of JSON.parse(value) as string[]) elements.add(element);
    return { status: reply.status, context: reply.context, elements: [...elements].sort(), siblings };
  }
}
