/**
 * Clock skew against the peers (membership/clock-skew.ts), logged: when it first passes the
 * warning threshold, every minute while it stays there, and when it is back within it.
 */
import type { Logger } from 'pino';
import { SKEW_READY_MAX_MS, type ClockSkew } from '../membership/clock-skew.js';

/** How often the estimate is looked at, and how often a lasting skew is logged again. */
const CHECK_INTERVAL_MS = 2_000;
const RELOG_INTERVAL_MS = 60_000;

/** Starts watching; the returned function stops it (idempotent). */
export function watchClockSkew(clock: ClockSkew, nowMs: () => number, logger: Logger): () => void {
  let skewLoggedMs = -Infinity;
  let skewed = false;
  const skewCheck = setInterval(() => {
    const estimate = clock.estimate(nowMs());
    if (estimate.warning !== undefined && (!skewed || nowMs() - skewLoggedMs >= RELOG_INTERVAL_MS)) {
      const level = Math.abs(estimate.skewMs) > SKEW_READY_MAX_MS ? 'error' : 'warn';
      logger[level]({ skewMs: estimate.skewMs, peers: estimate.peers }, `clock skew: ${estimate.warning}${level === 'error' ? '; /readyz reports not ready' : ''}`);
      skewLoggedMs = nowMs();
    } else if (estimate.warning === undefined && skewed) {
      logger.info({ skewMs: estimate.skewMs, peers: estimate.peers }, 'clock skew back within bounds');
    }
    skewed = estimate.warning !== undefined;
  }, CHECK_INTERVAL_MS);
  skewCheck.unref();
  return () => clearInterval(skewCheck);
}
