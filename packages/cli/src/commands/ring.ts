/**
 * `ringkv ring [--url U] [--json]`: the ring as one node sees it (GET /admin/ring): per node
 * its zone, status, tokens, the share of the key space it owns as primary, and the share of
 * the keys it holds a replica of (with zones, N replicas spread over the zones: docs/membership.md).
 */
import { getJson, percent, runReadCommand, table, type ReadTarget } from '../output.js';

/** Body of GET /admin/ring. */
export interface RingBody {
  n: number;
  tokensPerNode: number;
  zones?: string[];
  nodes: Array<{ id: string; address: string | null; status: string; zone?: string | null; tokens?: number; share: number; replicaShare?: number }>;
}

/** One row per node: id, zone, status, tokens, owns, replicas, address. */
export function ringRows(body: RingBody): string[][] {
  return [
    ['node', 'zone', 'status', 'tokens', 'owns', 'replicas', 'address'],
    ...body.nodes.map((node) => [
      node.id,
      node.zone ?? '-',
      node.status,
      String(node.tokens ?? body.tokensPerNode),
      percent(node.share),
      node.replicaShare === undefined ? '?' : percent(node.replicaShare),
      node.address ?? '-',
    ]),
  ];
}

/** The ring's one-line summary: size, N, zones. */
export function ringSummary(body: RingBody): string {
  const zones = body.zones ?? [];
  return `${body.nodes.length} node(s), N=${body.n}, ${zones.length === 0 ? 'no zones' : `${zones.length} zone(s): ${zones.join(', ')}`}`;
}

export function runRing(argv: string[]): Promise<number> {
  return runReadCommand(argv, showRing);
}

async function showRing({ url, json, headers, dispatcher }: ReadTarget): Promise<number> {
  const ring = await getJson<RingBody>(`${url}/admin/ring`, headers, dispatcher);
  if (ring.status !== 200) {
    process.stderr.write(`ring ${ring.status}: ${JSON.stringify(ring.body)}\n`);
    return 1;
  }
  if (json) {
    process.stdout.write(`${JSON.stringify(ring.body, null, 2)}\n`);
    return 0;
  }
  process.stdout.write(`ring: ${ringSummary(ring.body)}\n\n${table(ringRows(ring.body))}`);
  return 0;
}
