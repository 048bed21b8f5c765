/**
 * The two metrics every client request records, `ringkv_requests_total{op,status}` and
 * `ringkv_request_duration_seconds{op}`, kept so that recording costs next to nothing per
 * request (issue 12: "metrics that cost nothing per op").
 *
 * Why not prom-client's Counter and Histogram: their `inc(labels)` and `observe(labels, s)`
 * build a string key from the label object and check every label name on each call, and
 * their `labels(...)` children do the same work again on each `inc`/`observe` (a child is
 * only the labels bound in advance). Here each (op, status) pair has a cell of its own, found
 * with two Map lookups, and the latency buckets are plain arrays; the exposition is built at
 * scrape time, in exactly prom-client's format (request-metrics.test.ts compares the two
 * byte for byte), by objects the prom-client Registry accepts as metrics (name, help, type,
 * get()).
 */
import type { Registry } from 'prom-client';

/** Latency bucket bounds in seconds: 0.5 ms to 10 s. */
export const REQUEST_BUCKETS_SECONDS: readonly number[] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * Distinct `op` values kept apart; later ones are counted as `other`. The routes pass the HTTP
 * method, which Node's parser bounds already: this bounds the series whatever a caller passes.
 */
export const REQUEST_OPS_MAX = 16;

interface OpCells {
  readonly op: string;
  /** Requests by HTTP status. */
  readonly statuses: Map<number, { count: number }>;
  /** Per bucket (not cumulative); the last slot counts what exceeded every bound. */
  readonly buckets: number[];
  sum: number;
  count: number;
}

/** One value in prom-client's metric shape (what Registry.getMetricsAsString reads). */
interface MetricValue {
  value: number;
  labels: Record<string, string | number>;
  metricName?: string;
  sharedLabels?: Record<string, string>;
}

interface MetricData {
  name: string;
  help: string;
  type: 'counter' | 'histogram';
  values: MetricValue[];
  aggregator: 'sum';
}

/** The request counter and latency histogram of one node, registered on its registry by `register`. */
export class RequestMetrics {
  private byOp = new Map<string, OpCells>();
  /** Every (op, status) cell in the order first seen: the order of the exported series. */
  private statusCells: Array<{ readonly op: string; readonly status: string; readonly cell: { count: number } }> = [];

  constructor(private readonly bounds: readonly number[] = REQUEST_BUCKETS_SECONDS) {}

  /** Records one client request: op, HTTP status, and seconds taken. */
  observe(op: string, status: number, seconds: number): void {
    const cells = this.byOp.get(op) ?? this.addOp(op);
    const cell = cells.statuses.get(status);
    if (cell === undefined) this.addStatus(cells, status);
    else cell.count++;
    // Most requests are fast: the scan usually ends in the first few bounds.
    let i = 0;
    while (i < this.bounds.length && seconds > this.bounds[i]!) i++;
    cells.buckets[i]!++;
    cells.sum += seconds;
    cells.count++;
  }

  /** Registers `ringkv_requests_total` and `ringkv_request_duration_seconds` on `registry`. */
  register(registry: Registry): void {
    const counter = { name: 'ringkv_requests_total', help: 'Client requests by operation and HTTP status.', type: 'counter' as const };
    const histogram = { name: 'ringkv_request_duration_seconds', help: 'Client request latency by operation, in seconds.', type: 'histogram' as const };
    // reset(): Registry.resetMetrics() calls it on every metric; it clears both.
    const reset = () => this.reset();
    const requests = { ...counter, get: async () => this.counterData(counter), reset };
    const latency = {
      ...histogram,
      get: async (): Promise<MetricData> => ({ ...histogram, values: this.histogramValues(histogram.name).map(splay), aggregator: 'sum' }),
      getForPromString: async (): Promise<MetricData> => ({ ...histogram, values: this.histogramValues(histogram.name), aggregator: 'sum' }),
      reset,
    };
    // The Registry's typing wants prom-client's own classes; at run time it needs only these members.
    registry.registerMetric(requests as unknown as Parameters<Registry['registerMetric']>[0]);
    registry.registerMetric(latency as unknown as Parameters<Registry['registerMetric']>[0]);
  }

  /** Forgets every request recorded (Registry.resetMetrics). */
  reset(): void {
    this.byOp = new Map();
    this.statusCells = [];
  }

  private addOp(op: string): OpCells {
    // One slot is kept for `other`.
    if (this.byOp.size >= REQUEST_OPS_MAX - 1) return this.byOp.get('other') ?? this.addCells('other');
    return this.addCells(op);
  }

  private addCells(op: string): OpCells {
    const cells: OpCells = { op, statuses: new Map(), buckets: new Array<number>(this.bounds.length + 1).fill(0), sum: 0, count: 0 };
    this.byOp.set(op, cells);
    return cells;
  }

  private addStatus(cells: OpCells, status: number): void {
    const cell = { count: 1 };
    cells.statuses.set(status, cell);
    this.statusCells.push({ op: cells.op, status: String(status), cell });
  }

  private counterData(meta: { name: string; help: string; type: 'counter' }): MetricData {
    const values = this.statusCells.map(({ op, status, cell }) => ({ value: cell.count, labels: { op, status } }));
    return { ...meta, values, aggregator: 'sum' };
  }

  /** Cumulative buckets, +Inf, sum and count per op, as prom-client's Histogram lays them out. */
  private histogramValues(name: string): MetricValue[] {
    const values: MetricValue[] = [];
    for (const cells of this.byOp.values()) {
      const sharedLabels = { op: cells.op };
      let cumulative = 0;
      this.bounds.forEach((bound, i) => {
        cumulative += cells.buckets[i]!;
        values.push({ value: cumulative, labels: { le: bound }, metricName: `${name}_bucket`, sharedLabels });
      });
      values.push({ value: cells.count, labels: { le: '+Inf' }, metricName: `${name}_bucket`, sharedLabels });
      values.push({ value: cells.sum, labels: {}, metricName: `${name}_sum`, sharedLabels });
      values.push({ value: cells.count, labels: {}, metricName: `${name}_count`, sharedLabels });
    }
    return values;
  }
}

/** The JSON form (registry.getMetricsAsJSON) carries every label in `labels`. */
function splay(value: MetricValue): MetricValue {
  const { sharedLabels, ...rest } = value;
  return { ...rest, labels: { ...value.labels, ...sharedLabels } };
}
