/**
 * Where the node's log goes: pino's JSON lines to stdout, through a destination whose write
 * errors are never fatal. With stdout redirected to a file on a full disk (or past a file-size
 * limit), pino's default destination emits an `error` nobody listens to, and the process dies
 * over a log line (or, flushing at exit, retries the write for ever). A store's job is the data:
 * here a line that cannot be written is dropped (`failedWrites` counts them), the buffer of lines waiting is
 * bounded (LOG_BUFFER_BYTES_MAX, then new lines are dropped), and writing resumes by itself once
 * the disk has room. log4j's and lager's appenders make the same choice.
 */
import { pino, type Logger } from 'pino';

/** Bytes of log lines kept while stdout refuses them; past it, lines are dropped. */
export const LOG_BUFFER_BYTES_MAX = 1024 * 1024;

export interface NodeLog {
  readonly logger: Logger;
  /** Log writes that failed (each failure may have held several lines). */
  readonly failedWrites: () => number;
}

export function stdoutLog(level: string, base: Record<string, unknown>, fd = 1): NodeLog {
  const destination = pino.destination({ fd, sync: true, maxLength: LOG_BUFFER_BYTES_MAX });
  let failed = 0;
  destination.on('error', () => {
    failed++;
  });
  return { logger: pino({ level, base }, destination), failedWrites: () => failed };
}
