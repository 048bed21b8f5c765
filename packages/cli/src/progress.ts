/**
 * Progress of long commands on stderr (stdout stays the result, for scripts). On a terminal
 * one line is rewritten in place; elsewhere (a log, a pipe) a line is written only when its
 * text changes and at most once per `quietMs`, so a waiting command does not flood a log.
 * `done` ends the line. Time comes in as a function (tests pass their own).
 */
export interface ProgressSink {
  readonly isTTY?: boolean;
  write(text: string): unknown;
}

export class Progress {
  private last = '';
  private lastWrittenMs = -Infinity;
  private open = false;
  /** Off a terminal: the latest state not written because it came too soon after the last. */
  private unwritten: string | undefined;

  constructor(
    private readonly sink: ProgressSink,
    private readonly nowMs: () => number,
    private readonly quietMs = 2_000,
  ) {}

  /** Shows `text` as the current state. */
  update(text: string): void {
    if (text === this.last) return;
    if (this.sink.isTTY) {
      this.sink.write(`\r\x1b[K${text}`);
      this.open = true;
    } else {
      if (this.nowMs() - this.lastWrittenMs < this.quietMs) {
        this.unwritten = text;
        return;
      }
      this.sink.write(`${text}\n`);
      this.unwritten = undefined;
      this.lastWrittenMs = this.nowMs();
    }
    this.last = text;
  }

  /** Takes the in-place line away (before a result line); a held-back state is dropped. */
  clear(): void {
    if (this.open) this.sink.write('\r\x1b[K');
    this.open = false;
    this.unwritten = undefined;
    this.last = '';
  }

  /** Ends the in-place line, if one is shown; off a terminal, writes the final state if it was held back. */
  done(): void {
    if (this.open) this.sink.write('\n');
    if (this.unwritten !== undefined) this.sink.write(`${this.unwritten}\n`);
    this.open = false;
    this.unwritten = undefined;
  }
}

/** Bytes as B, KiB or MiB with one decimal. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}
