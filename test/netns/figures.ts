/**
 * The multi-host tier's availability figures and checks (issue 16, points 5 and 6). Each
 * request sample is placed in the phase of the nemesis's timeline it started in and given a
 * class by the ground truth at that moment (reachability.ts):
 *
 * - `quorum`: its coordinator ran and could have met the request's quorum;
 * - `no-quorum`: its coordinator ran and could not have;
 * - `coordinator-down`: the node it was sent to was killed or paused (the client could not
 *   reach it; a load balancer's readiness probe is what keeps clients away from it);
 * - `skewed-coordinator`: sent to the node running with a shifted wall clock;
 * - `transition`: the world changed while it ran (a cut or a heal mid-request), or it started
 *   while nftables rules were being changed: no class can be trusted, so it is counted and
 *   left out of the checks;
 * - `forward-caught`: a write its coordinator handed to a replica (outside the key's
 *   preference list a node forwards writes, replication/coordinator.ts) that the fault had cut
 *   off, killed or stopped within the last FORWARD_CAUGHT_MS, answered 504 naming that
 *   replica (`forwardedTo`). The server forwards only to a replica heard from in the last
 *   25 ms (FORWARD_FRESH_MS), and a write once handed over is final: the replica may have
 *   applied it (a stopped process applies it when it resumes, an answer lost on a cut link),
 *   so "outcome unknown" is the only true answer and retrying it elsewhere could apply it
 *   twice. Such a request's real coordinator died or vanished mid-request, like one in
 *   `coordinator-down`; counted and shown, left out of the checks. Only in that window: a
 *   504 from a forward to a replica gone longer than that fails the check.
 *
 * Per phase label (each fault kind, `healing`, `baseline`) and class: requests, successes,
 * p50/p99/max latency, 503s, 504s, other errors by code, and throughput (successful requests
 * per second the label was in force). The acceptance (issue 16) is checked per fault kind:
 * for `quorum`, p99 under 1 s and no 504; for `no-quorum`, every request answered 503 within
 * 1 s (one that succeeded is counted, not a failure: it did what a client wants).
 *
 * Pure; tested in figures.test.ts.
 */
import type { Ring } from '@ringkv/protocol';
import type { Sample } from './workload.js';
import type { Phase, PhaseLabel } from './nemesis.js';
import { canMeetQuorum, reaches } from './reachability.js';

export const CLASSES = ['quorum', 'no-quorum', 'coordinator-down', 'skewed-coordinator', 'transition', 'forward-caught'] as const;
export type RequestClass = (typeof CLASSES)[number];

export const LATENCY_LIMIT_MS = 1_000;
/**
 * The server's forward trust window (25 ms) plus 75 ms for the forwarder's event loop to have
 * read, late, an answer its peer sent before the fault: a forward can reach a replica the fault
 * just took at most this long after the fault is in place.
 */
export const FORWARD_CAUGHT_MS = 100;

export interface ClassFigures {
  readonly requests: number;
  readonly ok: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly status503: number;
  readonly status504: number;
  /** Failures other than 503 and 504, by code. */
  readonly otherErrors: Record<string, number>;
  /** Successful requests per second the label was in force. */
  readonly okPerSecond: number;
}

export interface LabelFigures {
  readonly label: PhaseLabel;
  readonly heldMs: number;
  readonly classes: Partial<Record<RequestClass, ClassFigures>>;
}

export interface Classified {
  readonly sample: Sample;
  readonly label: PhaseLabel;
  readonly cls: RequestClass;
}

export interface QuorumSettings {
  readonly ring: Ring;
  readonly n: number;
  /** The R and W the workload's requests use (the server's default quorum). */
  readonly r: number;
  readonly w: number;
}

/** The index of the phase in force at `ms` (the first one for earlier times). */
export function phaseAt(phases: readonly Phase[], ms: number): number {
  let lo = 0;
  let hi = phases.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (phases[mid]!.atMs <= ms) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

export function classify(sample: Sample, phases: readonly Phase[], settings: QuorumSettings): Classified {
  const start = phaseAt(phases, sample.startMs);
  const phase = phases[start]!;
  const label = phase.label;
  if (phase.changing || phaseAt(phases, sample.endMs) !== start) return { sample, label, cls: 'transition' };
  if (!phase.world.up.has(sample.coordinator)) return { sample, label, cls: 'coordinator-down' };
  if (phase.skewed === sample.coordinator) return { sample, label, cls: 'skewed-coordinator' };
  if (caughtForward(sample, phases, start)) return { sample, label, cls: 'forward-caught' };
  const op = sample.op === 'get' ? 'get' : 'put';
  const possible = canMeetQuorum(phase.world, settings.ring, { op, key: sample.key, coordinator: sample.coordinator, quorum: op === 'get' ? settings.r : settings.w, n: settings.n });
  return { sample, label, cls: possible ? 'quorum' : 'no-quorum' };
}

/** A 504 for a write handed to a replica the world change just before had made unreachable. */
function caughtForward(sample: Sample, phases: readonly Phase[], start: number): boolean {
  const phase = phases[start]!;
  const target = sample.forwardedTo;
  if (sample.status !== 504 || target === undefined || reaches(phase.world, sample.coordinator, target)) return false;
  // The change happened while the previous phase was `changing` (whose world is the one before
  // it) and was whole by phase.atMs; the target must have been reachable until then.
  const before = phases[start - 1];
  if (before?.changing !== true || !reaches(before.world, sample.coordinator, target)) return false;
  return sample.startMs - phase.atMs < FORWARD_CAUGHT_MS;
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

function classFigures(samples: readonly Sample[], heldMs: number): ClassFigures {
  const latencies = samples.map((s) => s.endMs - s.startMs).sort((a, b) => a - b);
  const otherErrors: Record<string, number> = {};
  for (const s of samples) {
    if (s.ok || s.status === 503 || s.status === 504) continue;
    const code = `${s.status}:${s.code ?? '?'}`;
    otherErrors[code] = (otherErrors[code] ?? 0) + 1;
  }
  const ok = samples.filter((s) => s.ok).length;
  return {
    requests: samples.length,
    ok,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    maxMs: latencies.at(-1) ?? 0,
    status503: samples.filter((s) => !s.ok && s.status === 503).length,
    status504: samples.filter((s) => !s.ok && s.status === 504).length,
    otherErrors,
    okPerSecond: heldMs === 0 ? 0 : ok / (heldMs / 1000),
  };
}

/** How long each label was in force, from the phases (the last one ends at `endMs`). */
export function heldByLabel(phases: readonly Phase[], endMs: number): Map<PhaseLabel, number> {
  const held = new Map<PhaseLabel, number>();
  phases.forEach((phase, i) => {
    const until = phases[i + 1]?.atMs ?? endMs;
    held.set(phase.label, (held.get(phase.label) ?? 0) + Math.max(0, until - phase.atMs));
  });
  return held;
}

/** Figures per phase label and class. */
export function figuresByLabel(classified: readonly Classified[], phases: readonly Phase[], endMs: number): LabelFigures[] {
  const held = heldByLabel(phases, endMs);
  return [...held].map(([label, heldMs]) => {
    const classes: Partial<Record<RequestClass, ClassFigures>> = {};
    for (const cls of CLASSES) {
      const samples = classified.filter((c) => c.label === label && c.cls === cls).map((c) => c.sample);
      if (samples.length > 0) classes[cls] = classFigures(samples, heldMs);
    }
    return { label, heldMs, classes };
  });
}

function describe(c: Classified, originMs: number): string {
  const s = c.sample;
  const outcome = s.ok ? 'ok' : `${s.status || 'no answer'} ${s.code ?? ''}`.trim();
  return `${s.op} ${s.key} via ${s.coordinator} at ${((s.startMs - originMs) / 1000).toFixed(1)} s: ${outcome} after ${s.endMs - s.startMs} ms`;
}

/**
 * The acceptance's checks for one fault kind; answers what failed (empty: it holds), each
 * message with the numbers and a few example requests.
 */
export function availabilityFailures(label: PhaseLabel, classified: readonly Classified[], originMs: number): string[] {
  const failures: string[] = [];
  const mine = classified.filter((c) => c.label === label);
  const reachable = mine.filter((c) => c.cls === 'quorum');
  const latencies = reachable.map((c) => c.sample.endMs - c.sample.startMs).sort((a, b) => a - b);
  const p99 = percentile(latencies, 99);
  const slow = reachable.filter((c) => c.sample.endMs - c.sample.startMs >= LATENCY_LIMIT_MS);
  if (p99 >= LATENCY_LIMIT_MS) {
    failures.push(`${label}: requests whose coordinator could reach a quorum: p99 ${p99} ms, limit ${LATENCY_LIMIT_MS} ms (${slow.length} of ${reachable.length} took ≥ 1 s; e.g. ${slow.slice(0, 3).map((c) => describe(c, originMs)).join('; ')})`);
  }
  const timeouts = reachable.filter((c) => c.sample.status === 504);
  if (timeouts.length > 0) {
    failures.push(`${label}: requests whose coordinator could reach a quorum got ${timeouts.length} × 504 of ${reachable.length} (e.g. ${timeouts.slice(0, 3).map((c) => describe(c, originMs)).join('; ')})`);
  }
  const hopeless = mine.filter((c) => c.cls === 'no-quorum');
  const wrong = hopeless.filter((c) => !c.sample.ok && (c.sample.status !== 503 || c.sample.endMs - c.sample.startMs >= LATENCY_LIMIT_MS));
  if (wrong.length > 0) {
    const byOutcome = new Map<string, number>();
    for (const c of wrong) {
      const key = c.sample.status === 503 ? '503 after ≥ 1 s' : `${c.sample.status || 'no answer'} ${c.sample.code ?? ''}`.trim();
      byOutcome.set(key, (byOutcome.get(key) ?? 0) + 1);
    }
    failures.push(
      `${label}: requests that could not meet their quorum must fail with 503 within 1 s; ${wrong.length} of ${hopeless.length} did not (${[...byOutcome].map(([k, v]) => `${v} × ${k}`).join(', ')}; e.g. ${wrong.slice(0, 3).map((c) => describe(c, originMs)).join('; ')})`,
    );
  }
  return failures;
}

const ms = (value: number) => `${Math.round(value)}`;

/** One line per label and class, for the test's comments and the soak's report. */
export function formatFigures(figures: readonly LabelFigures[]): string[] {
  const lines: string[] = [];
  for (const { label, heldMs, classes } of figures) {
    for (const [cls, f] of Object.entries(classes) as Array<[RequestClass, ClassFigures]>) {
      const other = Object.entries(f.otherErrors).map(([code, count]) => `${count} × ${code}`).join(', ');
      lines.push(
        `${label} (${(heldMs / 1000).toFixed(1)} s) ${cls}: ${f.requests} requests, ${f.ok} ok (${f.okPerSecond.toFixed(1)}/s), p50 ${ms(f.p50Ms)} ms, p99 ${ms(f.p99Ms)} ms, max ${ms(f.maxMs)} ms, ${f.status503} × 503, ${f.status504} × 504${other ? `, other: ${other}` : ''}`,
      );
    }
  }
  return lines;
}
