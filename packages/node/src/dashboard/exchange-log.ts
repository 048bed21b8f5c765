/**
 * Anti-entropy per peer, as the dashboard shows it: when this node last exchanged with each
 * peer, and how many keys the exchanges repaired (in: fetched and merged here; out: pushed to
 * the peer), since start and in the last exchange. Fed with the same reports /metrics gets
 * (AntiEntropy's `events.exchanged`, wired in node.ts). Bounded: at most PEERS_MAX peers, the
 * one heard from longest ago dropped first (a ring that churned through many ids).
 */
import type { ExchangeReport } from '../replication/anti-entropy.js';

export const PEERS_MAX = 1_024;

export interface PeerExchanges {
  readonly peer: string;
  readonly exchanges: number;
  readonly failures: number;
  /** When the last exchange ended (ms since the epoch), whatever its result. */
  readonly lastEndedMs: number;
  /** The coded error of the last exchange, or null when it completed. */
  readonly lastError: string | null;
  readonly lastKeysIn: number;
  readonly lastKeysOut: number;
  readonly keysInTotal: number;
  readonly keysOutTotal: number;
}

export class ExchangeLog {
  private readonly peers = new Map<string, PeerExchanges>();

  record(report: ExchangeReport): void {
    const previous = this.peers.get(report.peer);
    this.peers.delete(report.peer); // re-inserted last: the map's order is least recent first
    this.peers.set(report.peer, {
      peer: report.peer,
      exchanges: (previous?.exchanges ?? 0) + 1,
      failures: (previous?.failures ?? 0) + (report.error === undefined ? 0 : 1),
      lastEndedMs: report.startedMs + report.durationMs,
      lastError: report.error ?? null,
      lastKeysIn: report.keysIn,
      lastKeysOut: report.keysOut,
      keysInTotal: (previous?.keysInTotal ?? 0) + report.keysIn,
      keysOutTotal: (previous?.keysOutTotal ?? 0) + report.keysOut,
    });
    if (this.peers.size > PEERS_MAX) this.peers.delete(this.peers.keys().next().value!);
  }

  /** Every peer, sorted by id. */
  list(): PeerExchanges[] {
    return [...this.peers.values()].sort((a, b) => (a.peer < b.peer ? -1 : a.peer > b.peer ? 1 : 0));
  }
}
