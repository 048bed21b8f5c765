/**
 * The client's copy of the ring, for key-aware routing. Fetched from any node's /admin/ring
 * and rebuilt, zones included, with the same placement code the nodes use (@ringkv/protocol), refreshed every
 * `refreshMs` and soon after a node failed to answer. A stale or missing copy only costs a
 * hop: the receiving node forwards to a replica, or the client falls back to its URLs.
 */
import type { Pool } from 'undici';
import { buildRing, preferenceList, type Ring } from '@ringkv/protocol';

interface RingBody {
  n: number;
  tokensPerNode: number;
  /** zone: what the node's ring was built with; null or absent (a node before zones) for none. */
  nodes: Array<{ id: string; address: string | null; zone?: string | null }>;
}

function isRingBody(value: unknown): value is RingBody {
  const body = value as RingBody;
  return (
    typeof body?.n === 'number' &&
    typeof body.tokensPerNode === 'number' &&
    Array.isArray(body.nodes) &&
    body.nodes.every(
      (node) =>
        typeof node?.id === 'string' &&
        (typeof node.address === 'string' || node.address === null) &&
        (node.zone === undefined || node.zone === null || typeof node.zone === 'string'),
    )
  );
}

export class RingView {
  private ring: Ring | undefined;
  private n = 0;
  private addresses = new Map<string, string>();
  private fetchedAt = -Infinity;
  private loading: Promise<void> | undefined;
  private closed = false;

  constructor(
    private readonly pool: (url: string) => Pool,
    private readonly seeds: readonly string[],
    private readonly refreshMs: number,
    /** Sent with every ring fetch (the client's token: with --auth-file, /admin/ring needs one). */
    private readonly headers: Record<string, string> = {},
  ) {}

  /**
   * Addresses of the key's preference list, or [] while no ring is known. Only the first
   * fetch is waited for; later refreshes run in the background while the old copy serves.
   */
  async replicasOf(key: string): Promise<string[]> {
    if (Date.now() - this.fetchedAt > this.refreshMs) {
      const refreshing = this.refresh();
      if (this.ring === undefined) await refreshing;
    }
    if (this.ring === undefined) return [];
    return preferenceList(this.ring, key, this.n).flatMap((id) => this.addresses.get(id) ?? []);
  }

  /** A node did not answer: refresh the ring at the next request. */
  suspect(): void {
    this.fetchedAt = -Infinity;
  }

  private refresh(): Promise<void> {
    this.loading ??= this.load().finally(() => (this.loading = undefined));
    return this.loading;
  }

  private async load(): Promise<void> {
    // Marked as fetched first, so a ring that cannot be fetched is retried at the refresh
    // interval rather than before every request.
    this.fetchedAt = Date.now();
    for (const seed of [...this.addresses.values(), ...this.seeds]) {
      if (this.closed) return;
      try {
        const response = await this.pool(seed).request({ method: 'GET', path: '/admin/ring', headers: this.headers, headersTimeout: 2_000, bodyTimeout: 2_000 });
        const body: unknown = await response.body.json().catch(() => undefined);
        if (response.statusCode !== 200 || !isRingBody(body)) continue;
        this.n = body.n;
        // With the zones, so the client's preference lists are the nodes' (protocol ring.ts).
        this.ring = buildRing(body.nodes.map((node) => ({ id: node.id, zone: node.zone ?? '' })), body.tokensPerNode);
        this.addresses = new Map(body.nodes.flatMap((node) => (node.address === null ? [] : [[node.id, node.address] as [string, string]])));
        return;
      } catch {
        // Try the next node.
      }
    }
  }

  close(): void {
    this.closed = true;
  }
}
