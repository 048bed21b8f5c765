/**
 * A one-line progress bar on stderr while a phase runs: only when stderr is a terminal (piped
 * or redirected output, as in CI and in the smoke tests, gets nothing), redrawn in place with
 * `\r`, cleared at the end.
 */
export class Progress {
  private readonly tty = process.stderr.isTTY === true;
  private drawn = false;
  private lastOps = 0;
  private lastAt = 0;
  private rate = 0;

  constructor(
    private readonly label: string,
    private readonly totalMs: number,
  ) {}

  /** Redraws: `elapsedMs` of `totalMs`, `ops` operations so far, `errors` failed. */
  update(elapsedMs: number, ops: number, errors: number): void {
    if (!this.tty) return;
    if (this.lastAt === 0 && elapsedMs > 0) this.rate = Math.round((ops * 1000) / elapsedMs);
    if (elapsedMs - this.lastAt >= 1000) {
      this.rate = Math.round(((ops - this.lastOps) * 1000) / (elapsedMs - this.lastAt));
      this.lastOps = ops;
      this.lastAt = elapsedMs;
    }
    const fraction = Math.min(1, elapsedMs / Math.max(1, this.totalMs));
    const width = 24;
    const filled = Math.round(fraction * width);
    const bar = `${'#'.repeat(filled)}${'.'.repeat(width - filled)}`;
    const line = `${this.label} [${bar}] ${Math.round(fraction * 100)}% ${(elapsedMs / 1000).toFixed(0)}/${(this.totalMs / 1000).toFixed(0)} s  ${ops} ops  ${this.rate} ops/s  ${errors} errors`;
    const columns = process.stderr.columns ?? 100;
    process.stderr.write(`\r${line.slice(0, columns - 1)}\x1b[K`);
    this.drawn = true;
  }

  /** Clears the line. */
  done(): void {
    if (this.tty && this.drawn) process.stderr.write('\r\x1b[K');
    this.drawn = false;
  }
}
