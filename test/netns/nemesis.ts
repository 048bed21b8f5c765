/**
 * The multi-host tier's nemesis (issue 16, point 6): real network and process faults on the
 * hosts of a NetnsCluster, one at a time, each held for 6–9 s, then lifted; after each lift it
 * waits (up to 60 s) until every host sees every host alive again and records that time.
 *
 * | kind | what it does |
 * |---|---|
 * | `split` | 2 hosts cut from the other 3, both ways (nftables) |
 * | `bridge` | one host reaches everyone; the other four, in two pairs, reach only their pair and the bridge |
 * | `one-way` | packets from host A to host B dropped, B to A delivered |
 * | `isolated` | one host cut from all four others, both ways |
 * | `kill` | kill -9 of one node, restarted on its data dir when the fault ends |
 * | `pause` | SIGSTOP of one node, SIGCONT when the fault ends |
 * | `clock-skew` | kill -9, restart under libfaketime with the wall clock 20–50 s ahead or behind, then kill -9 and restart on the real clock when the fault ends |
 * | `rejoin` | (only when asked for: the Jepsen runs' `--membership`) a node leaves (POST /admin/leave, hands off, exits), then its host joins again as a new id on an empty data dir |
 * | `restart-isolated` | (only when asked for: the Jepsen runs) kill -9 of one node, its host cut from all others, the node restarted there: it runs alone, not joined to its ring (its seeds do not answer), until the cut is lifted (membership.md "Joined"; the CAS bug CI found on 2026-12-03) |
 *
 * The kinds come in a seeded shuffled order, cycled, until the held time reaches the run's
 * length and every kind has run at least once; targets, sides, durations and skews come
 * from the same seeded PRNG, so the seed (printed by the test) replays the schedule (process
 * timing still varies). The timeline records the state of the world (who runs, which links
 * drop) from each change on, for the availability figures (reachability.ts, figures.ts).
 */
import { shuffled, sleep } from '../fault/nemesis.js';
import { cutBetween, link, type Link } from './firewall.js';
import type { Host, NetnsCluster } from './hosts.js';
import { cutByIds, type World } from './reachability.js';

export const FAULT_KINDS = ['split', 'bridge', 'one-way', 'isolated', 'kill', 'pause', 'clock-skew'] as const;
/** Ring changes, injected only when a run asks for them (`kinds`). */
export const MEMBERSHIP_KINDS = ['rejoin'] as const;
/** A restart whose seeds do not answer, injected only when a run asks for it (the Jepsen runs). */
export const LONELY_RESTART_KINDS = ['restart-isolated'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number] | (typeof MEMBERSHIP_KINDS)[number] | (typeof LONELY_RESTART_KINDS)[number];

/** `baseline`: no fault and the membership healed; `healing`: lifted, membership not yet healed. */
export type PhaseLabel = FaultKind | 'baseline' | 'healing';

export interface Phase {
  readonly atMs: number;
  readonly label: PhaseLabel;
  readonly world: World;
  /** The node running with a shifted wall clock, if any. */
  readonly skewed?: string;
  /** Rules are being changed: some hosts have the new ones, some not (requests are transitions). */
  readonly changing?: boolean;
}

export interface FaultRecord {
  readonly kind: FaultKind;
  readonly detail: string;
  /** Since the nemesis began. */
  readonly atMs: number;
  /** How long the fault was held. */
  readonly activeMs: number;
  /** From the lift to every host seeing every host alive; undefined when it did not within 60 s. */
  readonly healMs: number | undefined;
}

export interface NemesisResult {
  readonly faults: FaultRecord[];
  readonly phases: Phase[];
}

export interface NemesisOptions {
  readonly rng: () => number;
  /** Faults are injected until their held time adds up to this. */
  readonly faultMs: number;
  /** Called with each fault's log line as it ends. */
  readonly log: (line: string) => void;
  /** The kinds to cycle through (default FAULT_KINDS). */
  readonly kinds?: readonly FaultKind[];
  /** How long each fault is held: [min, max) in ms (default [6000, 9000)). */
  readonly holdMs?: readonly [number, number];
}

const HEAL_DEADLINE_MS = 60_000;

class Recorder {
  readonly phases: Phase[] = [];
  private cut: ReadonlySet<Link> = new Set();
  private skewed: string | undefined;

  constructor(private readonly cluster: NetnsCluster) {}

  /** Records the world as it is now under `label`. */
  mark(label: PhaseLabel, changing = false): void {
    const up = new Set(this.cluster.running().map((h) => h.id));
    const cut = cutByIds(this.cut, (index) => this.cluster.hosts[index - 1]!.id);
    this.phases.push({ atMs: Date.now(), label, world: { up, cut }, ...(this.skewed === undefined ? {} : { skewed: this.skewed }), ...(changing ? { changing } : {}) });
  }

  /**
   * The phase begins once every host's rules are in place; while `nft` runs on the hosts (seconds
   * on a busy machine) the world is neither the old nor the new one, so that stretch is marked
   * `changing` and every request starting in it is a transition.
   */
  async applyCut(cut: ReadonlySet<Link>, label: PhaseLabel): Promise<void> {
    this.mark(label, true);
    await this.cluster.applyCut(cut);
    this.cut = cut;
    this.mark(label);
  }

  setSkewed(id: string | undefined): void {
    this.skewed = id;
  }
}

export async function runNetnsNemesis(cluster: NetnsCluster, options: NemesisOptions): Promise<NemesisResult> {
  const { rng } = options;
  const recorder = new Recorder(cluster);
  const faults: FaultRecord[] = [];
  const startedAt = Date.now();
  recorder.mark('baseline');
  let held = 0;
  let order: FaultKind[] = [];
  const injected = new Set<FaultKind>();
  const kinds = options.kinds ?? FAULT_KINDS;
  const [holdMin, holdMax] = options.holdMs ?? [6_000, 9_000];
  // Until the held time is reached and every kind ran once (on a busy machine restarts alone
  // can fill a short run's time).
  while (held < options.faultMs || injected.size < new Set(kinds).size) {
    if (order.length === 0) order = shuffled(rng, kinds);
    const kind = order.shift()!;
    const holdMs = holdMin + Math.floor(rng() * (holdMax - holdMin));
    const atMs = Date.now() - startedAt;
    const began = Date.now();
    const detail = await inject(cluster, recorder, kind, holdMs, rng);
    const activeMs = Date.now() - began;
    held += activeMs;
    recorder.mark('healing');
    const healMs = await cluster.waitMembershipHealed(HEAL_DEADLINE_MS).catch(() => undefined);
    recorder.mark('baseline');
    faults.push({ kind, detail, atMs, activeMs, healMs });
    injected.add(kind);
    options.log(`${(atMs / 1000).toFixed(1)} s ${kind}: ${detail}, held ${(activeMs / 1000).toFixed(1)} s, membership healed ${healMs === undefined ? `NOT within ${HEAL_DEADLINE_MS / 1000} s` : `in ${(healMs / 1000).toFixed(1)} s`}`);
    await sleep(1_000); // a stretch of baseline between faults
  }
  return { faults, phases: recorder.phases };
}

function pickHosts(rng: () => number, cluster: NetnsCluster): Host[] {
  return shuffled(rng, cluster.hosts);
}

const names = (hosts: readonly Host[]) => hosts.map((h) => h.id).join(', ');

/** Applies one fault, holds it `holdMs`, lifts it; answers what was done. */
async function inject(cluster: NetnsCluster, recorder: Recorder, kind: FaultKind, holdMs: number, rng: () => number): Promise<string> {
  const hosts = pickHosts(rng, cluster);
  const index = (list: readonly Host[]) => list.map((h) => h.index);
  let detail: string;
  switch (kind) {
    case 'split': {
      const [minority, majority] = [hosts.slice(0, 2), hosts.slice(2)];
      await recorder.applyCut(cutBetween(index(minority), index(majority)), kind);
      detail = `{${names(minority)}} | {${names(majority)}}`;
      break;
    }
    case 'bridge': {
      const [bridge, a, b] = [hosts[0]!, hosts.slice(1, 3), hosts.slice(3)];
      await recorder.applyCut(cutBetween(index(a), index(b)), kind);
      detail = `{${names(a)}} | {${names(b)}}, ${bridge.id} sees both`;
      break;
    }
    case 'one-way': {
      const [from, to] = [hosts[0]!, hosts[1]!];
      await recorder.applyCut(new Set([link(from.index, to.index)]), kind);
      detail = `${from.id} → ${to.id} dropped, ${to.id} → ${from.id} delivered`;
      break;
    }
    case 'isolated': {
      await recorder.applyCut(cutBetween([hosts[0]!.index], index(hosts.slice(1))), kind);
      detail = `${hosts[0]!.id} cut from all`;
      break;
    }
    case 'kill':
      // The world changes at the signal, not when the nemesis has seen the process go: a
      // request sent meanwhile is a transition, as while nftables rules are applied.
      recorder.mark(kind, true);
      await cluster.kill(hosts[0]!);
      recorder.mark(kind);
      await sleep(holdMs);
      recorder.mark(kind, true);
      await cluster.restart(hosts[0]!);
      return `${hosts[0]!.id} killed, restarted`;
    case 'pause':
      recorder.mark(kind, true);
      cluster.pause(hosts[0]!);
      recorder.mark(kind);
      await sleep(holdMs);
      recorder.mark(kind, true);
      cluster.resume(hosts[0]!);
      return `${hosts[0]!.id} paused`;
    case 'restart-isolated': {
      const [lonely, others] = [hosts[0]!, hosts.slice(1)];
      recorder.mark(kind, true);
      await cluster.kill(lonely);
      await recorder.applyCut(cutBetween([lonely.index], index(others)), kind);
      await cluster.restart(lonely);
      recorder.mark(kind);
      detail = `${lonely.id} killed and restarted cut from all (alone, not joined)`;
      break;
    }
    case 'clock-skew':
      return clockSkew(cluster, recorder, hosts[0]!, holdMs, rng);
    case 'rejoin':
      return rejoin(cluster, recorder, hosts[0]!);
  }
  await sleep(holdMs);
  await recorder.applyCut(new Set(), 'healing');
  return detail;
}

/** Restarts `host` with its wall clock 20–50 s off for `holdMs`, then on the real clock. */
async function clockSkew(cluster: NetnsCluster, recorder: Recorder, host: Host, holdMs: number, rng: () => number): Promise<string> {
  const offsetMs = Math.round(20 + rng() * 30) * 1_000 * (rng() < 0.5 ? -1 : 1);
  recorder.mark('clock-skew', true);
  await cluster.kill(host);
  recorder.mark('clock-skew');
  await cluster.restart(host, offsetMs);
  recorder.setSkewed(host.id);
  recorder.mark('clock-skew');
  await sleep(holdMs);
  recorder.mark('clock-skew', true);
  await cluster.kill(host);
  recorder.setSkewed(undefined);
  recorder.mark('healing');
  await cluster.restart(host);
  return `${host.id} restarted with its clock ${offsetMs > 0 ? '+' : ''}${offsetMs / 1000} s off, then on the real clock`;
}

/**
 * A leave and a join: `host`'s node leaves the ring (it hands its keys off and exits by
 * itself), then the host comes back as a new member, a new id on an empty data dir (ids are
 * never reused after a leave). Both ring changes move preference lists.
 */
async function rejoin(cluster: NetnsCluster, recorder: Recorder, host: Host): Promise<string> {
  const oldId = host.id;
  recorder.mark('rejoin', true);
  const { ms } = await cluster.leave(host, 120_000);
  recorder.mark('rejoin');
  await cluster.joinAsNew(host);
  recorder.mark('rejoin');
  return `${oldId} left (exited ${(ms / 1000).toFixed(1)} s after POST /admin/leave), its host joined as ${host.id}`;
}
