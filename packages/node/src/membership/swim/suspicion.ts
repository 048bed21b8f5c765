/**
 * Lifeguard's dynamic suspicion timeout (Lifeguard §3.2, memberlist suspicion.go): a suspicion
 * starts at the maximum timeout and shrinks toward the minimum with each independent
 * confirmation (another member also suspecting), logarithmically:
 *
 *   timeout(c) = max(min, max - (max - min) * log(c + 1) / log(k + 1))
 *
 * where k is the number of confirmations expected. A member that is truly dead is confirmed by
 * many and declared quickly; one suspected by a single slow prober gets the long timeout,
 * which gives it time to refute.
 */

/** Minimum suspicion timeout for a ring of `n` members. */
export function suspicionMinMs(n: number, suspicionMult: number, probeIntervalMs: number): number {
  return suspicionMult * Math.max(1, Math.log10(Math.max(1, n))) * probeIntervalMs;
}

/** Timeout after `confirmations` independent confirmations, `expected` being k. */
export function suspicionTimeoutMs(minMs: number, maxMs: number, confirmations: number, expected: number): number {
  if (expected < 1) return minMs;
  const fraction = Math.log(confirmations + 1) / Math.log(expected + 1);
  return Math.max(minMs, Math.floor(maxMs - (maxMs - minMs) * fraction));
}

/** One running suspicion of a member. */
export class Suspicion {
  private readonly confirmers = new Set<string>();

  constructor(
    readonly incarnation: number,
    readonly startedMs: number,
    private readonly minMs: number,
    private readonly maxMs: number,
    private readonly expected: number,
    firstSuspector: string,
  ) {
    this.confirmers.add(firstSuspector);
  }

  /** Records a confirmation; true when it came from a member not heard before. */
  confirm(from: string): boolean {
    if (this.confirmers.has(from)) return false;
    this.confirmers.add(from);
    return true;
  }

  get confirmations(): number {
    return this.confirmers.size - 1;
  }

  /** When the suspicion expires and the member is declared dead. */
  deadlineMs(): number {
    return this.startedMs + suspicionTimeoutMs(this.minMs, this.maxMs, this.confirmations, this.expected);
  }
}
