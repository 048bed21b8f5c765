/**
 * What GET /admin/dashboard and /admin/dashboard/self answer (docs/dashboard.md): the ring as
 * this node sees it (members, ownership drawn as arcs, replica health) and this node's own
 * figures (request rates and percentiles, hints per owner, transfers, anti-entropy per peer).
 * Every list is bounded: members by the ring, arcs by SEGMENTS_MAX, ranges by RANGES_MAX,
 * hint owners by HINT_OWNERS_MAX.
 */
import { arcs, ownershipShares, replicaHealth, replicaShares, RING_SPACE, type ReplicaHealth, type Ring } from '@ringkv/protocol';
import { isReachableStatus, type MembershipView } from '../membership/membership.js';
import type { TransferStatus } from '../replication/ownership-transfer.js';
import type { ExchangeLog, PeerExchanges } from './exchange-log.js';
import type { RequestWindow, WindowPoint, WindowTotals } from './request-window.js';

/** Above this many owner changes around the ring, the page draws shares, not arcs. */
export const SEGMENTS_MAX = 8_192;
/** Under-replicated ranges listed (fewest owners alive first); the counts cover them all. */
export const RANGES_MAX = 200;
export const HINT_OWNERS_MAX = 1_024;
/** Groups of under-replicated arcs (by which owners are down) listed. */
export const GROUPS_MAX = 50;

export interface FiguresDeps {
  readonly selfId: string;
  readonly n: number;
  readonly membership: MembershipView;
  readonly ring: () => Ring;
  readonly nowMs: () => number;
  readonly startedMs: number;
  readonly keyCount: () => number;
  /** Hints held here by owner: a bounded, reused table scan (node.ts, cost-bounded.ts). */
  readonly hintOwners: () => ReadonlyArray<{ owner: string; count: number; bytes: number }>;
  readonly transfers: () => TransferStatus;
  /** The exchange running now, if any (AntiEntropy.snapshot().running). */
  readonly exchangeRunning: () => { peer: string; startedMs: number; keysIn: number; keysOut: number } | undefined;
  readonly requests: RequestWindow;
  readonly requestSlotMs: number;
  readonly exchanges: ExchangeLog;
}

/** One node's own figures: what /admin/dashboard/self answers, and what peers are asked for. */
export interface NodeFigures {
  readonly nodeId: string;
  readonly nowMs: number;
  readonly uptimeMs: number;
  readonly keys: number;
  readonly requests: { readonly slotMs: number; readonly series: WindowPoint[]; readonly totals: WindowTotals };
  readonly hints: { readonly owners: Array<{ owner: string; count: number; bytes: number }>; readonly truncated: boolean };
  readonly transfers: TransferStatus;
  readonly antiEntropy: { readonly running: { peer: string; startedMs: number; keysIn: number; keysOut: number } | null; readonly peers: PeerExchanges[] };
}

export interface RingView {
  readonly tokensPerNode: number;
  readonly nodes: Array<{ id: string; zone: string | null; status: string; share: number; replicaShare: number }>;
  /**
   * The ring as drawn: [start (fraction of the ring, 0..1), index into `nodes` of the primary
   * owner], in ring order, adjacent arcs of one owner joined; null above SEGMENTS_MAX.
   */
  readonly segments: Array<[number, number]> | null;
}

export interface DashboardBody {
  readonly nodeId: string;
  readonly nowMs: number;
  readonly n: number;
  readonly members: Array<{ id: string; address: string; status: string; incarnation: number; zone: string | null }>;
  readonly ring: RingView;
  /** replicaHealth over the members this node can reach (alive or suspect); ranges as ring fractions. */
  readonly health: Omit<ReplicaHealth, 'ranges'> & {
    ranges: Array<{ start: number; end: number; owners: readonly string[]; alive: number }>;
    /** Every under-replicated arc, adjacent ones of one kind joined, for drawing; null above SEGMENTS_MAX. */
    bands: Array<{ start: number; end: number; belowQuorum: boolean }> | null;
    /** Under-replicated arcs grouped by which owners are down: what an operator acts on. Largest share first. */
    groups: Array<{ down: string[]; share: number; arcs: number; alive: number }>;
  };
  readonly self: NodeFigures;
}

export function nodeFigures(deps: FiguresDeps): NodeFigures {
  const now = deps.nowMs();
  const owners = [...deps.hintOwners()].sort((a, b) => b.count - a.count || (a.owner < b.owner ? -1 : 1));
  const running = deps.exchangeRunning();
  return {
    nodeId: deps.selfId,
    nowMs: now,
    uptimeMs: now - deps.startedMs,
    keys: deps.keyCount(),
    requests: { slotMs: deps.requestSlotMs, series: deps.requests.series(), totals: deps.requests.totals() },
    hints: { owners: owners.slice(0, HINT_OWNERS_MAX), truncated: owners.length > HINT_OWNERS_MAX },
    transfers: deps.transfers(),
    antiEntropy: { running: running === undefined ? null : { peer: running.peer, startedMs: running.startedMs, keysIn: running.keysIn, keysOut: running.keysOut }, peers: deps.exchanges.list() },
  };
}

const fraction = (position: number) => Math.round((position / RING_SPACE) * 1e7) / 1e7;

function ringSegments(ring: Ring): Array<[number, number]> | null {
  const index = new Map(ring.nodes.map((id, i) => [id, i]));
  const segments: Array<[number, number]> = [];
  for (const arc of arcs(ring, 1)) {
    const owner = index.get(arc.owners[0]!)!;
    if (segments.at(-1)?.[1] === owner) continue;
    if (segments.length === SEGMENTS_MAX) return null;
    segments.push([fraction(arc.start), owner]);
  }
  return segments;
}

interface UnderRange {
  readonly start: number;
  readonly end: number;
  readonly owners: readonly string[];
  readonly alive: number;
}

function healthBands(all: readonly UnderRange[], quorum: number): Array<{ start: number; end: number; belowQuorum: boolean }> | null {
  const bands: Array<{ start: number; end: number; belowQuorum: boolean }> = [];
  for (const range of [...all].sort((a, b) => a.start - b.start)) {
    const last = bands.at(-1);
    const belowQuorum = range.alive < quorum;
    if (last !== undefined && last.end === range.start && last.belowQuorum === belowQuorum) last.end = range.end;
    else if (bands.length === SEGMENTS_MAX) return null;
    else bands.push({ start: range.start, end: range.end, belowQuorum });
  }
  return bands.map((band) => ({ ...band, start: fraction(band.start), end: fraction(band.end) }));
}

function downGroups(all: readonly UnderRange[], isUp: (id: string) => boolean): Array<{ down: string[]; share: number; arcs: number; alive: number }> {
  const groups = new Map<string, { down: string[]; share: number; arcs: number; alive: number }>();
  for (const range of all) {
    const down = range.owners.filter((id) => !isUp(id)).sort();
    const name = down.join(',');
    const group = groups.get(name) ?? { down, share: 0, arcs: 0, alive: range.alive };
    group.share += (range.end - range.start) / RING_SPACE;
    group.arcs++;
    group.alive = Math.min(group.alive, range.alive);
    groups.set(name, group);
  }
  return [...groups.values()].sort((a, b) => b.share - a.share).slice(0, GROUPS_MAX);
}

export function dashboardBody(deps: FiguresDeps): DashboardBody {
  const ring = deps.ring();
  const statusOf = (id: string) => deps.membership.member(id)?.status ?? 'dead';
  const shares = ownershipShares(ring);
  const replicas = replicaShares(ring, deps.n);
  const isUp = (id: string) => isReachableStatus(deps.membership.member(id)?.status);
  // Every under-replicated arc (at most one per token): the bands and groups cover them all.
  const health = replicaHealth(ring, deps.n, isUp, Number.MAX_SAFE_INTEGER);
  return {
    nodeId: deps.selfId,
    nowMs: deps.nowMs(),
    n: deps.n,
    members: deps.membership.members().map((m) => ({ id: m.id, address: m.address, status: m.status, incarnation: m.incarnation, zone: m.zone ?? null })),
    ring: {
      tokensPerNode: ring.tokensPerNode,
      nodes: ring.nodes.map((id, i) => ({ id, zone: ring.zones[i] === '' ? null : ring.zones[i]!, status: statusOf(id), share: shares.get(id) ?? 0, replicaShare: replicas.get(id) ?? 0 })),
      segments: ringSegments(ring),
    },
    health: {
      ...health,
      ranges: health.ranges.slice(0, RANGES_MAX).map((r) => ({ start: fraction(r.start), end: fraction(r.end), owners: r.owners, alive: r.alive })),
      truncated: health.ranges.length > RANGES_MAX,
      bands: healthBands(health.ranges, health.quorum),
      groups: downGroups(health.ranges, isUp),
    },
    self: nodeFigures(deps),
  };
}
