// RequestMetrics: the same exposition as prom-client's Counter and Histogram, byte for byte, for
// the same requests; bucket edges; the bound on distinct ops.
import t from 'tap';
import { Counter, Histogram, Registry } from 'prom-client';
import { REQUEST_BUCKETS_SECONDS, REQUEST_OPS_MAX, RequestMetrics } from './request-metrics.js';

/** A registry with prom-client's own metrics, fed as metrics.ts fed them before issue 13. */
function reference() {
  const registry = new Registry();
  registry.setDefaultLabels({ node: 'n1' });
  const requests = new Counter({ name: 'ringkv_requests_total', help: 'Client requests by operation and HTTP status.', labelNames: ['op', 'status'], registers: [registry] });
  const latency = new Histogram({ name: 'ringkv_request_duration_seconds', help: 'Client request latency by operation, in seconds.', labelNames: ['op'], buckets: [...REQUEST_BUCKETS_SECONDS], registers: [registry] });
  return { registry, observe: (op: string, status: number, s: number) => (requests.inc({ op, status: String(status) }), latency.observe({ op }, s)) };
}

function ours() {
  const registry = new Registry();
  registry.setDefaultLabels({ node: 'n1' });
  const metrics = new RequestMetrics();
  metrics.register(registry);
  return { registry, observe: (op: string, status: number, s: number) => metrics.observe(op, status, s) };
}

/** The JSON form without prom-client's `exemplar: null` placeholders. */
function comparable(json: Awaited<ReturnType<Registry['getMetricsAsJSON']>>) {
  return json.map(({ name, help, type, values }) => ({
    name,
    help,
    type,
    values: values.map((v) => ({ metricName: (v as { metricName?: string }).metricName, labels: v.labels, value: v.value })),
  }));
}

t.test('the text and JSON expositions equal prom-client\'s for the same requests', async (t) => {
  const a = reference();
  const b = ours();
  // Every bucket edge exactly (le is inclusive), between edges, 0, and past the last bound.
  const seconds = [0, ...REQUEST_BUCKETS_SECONDS, ...REQUEST_BUCKETS_SECONDS.map((s) => s * 1.5), 10.5, 60];
  const requests: Array<[string, number]> = [['get', 200], ['put', 204], ['get', 404], ['delete', 204], ['get', 300], ['put', 503], ['get', 200]];
  for (const s of seconds) {
    for (const [op, status] of requests) {
      a.observe(op, status, s);
      b.observe(op, status, s);
    }
  }
  const text = await b.registry.metrics();
  t.equal(text, await a.registry.metrics(), 'identical text exposition');
  t.strictSame(comparable(await b.registry.getMetricsAsJSON()), comparable(await a.registry.getMetricsAsJSON()), 'the same JSON form (exemplars aside)');
  t.match(text, /ringkv_request_duration_seconds_bucket\{le="0.0005",node="n1",op="get"\} 8\n/, 'a value on a bound is counted in it (le is inclusive)');
  t.match(text, /ringkv_request_duration_seconds_bucket\{le="\+Inf",node="n1",op="put"\} 62\n/);
  t.match(text, /ringkv_requests_total\{op="get",status="200",node="n1"\} 62\n/);
});

t.test('before any request: the families are declared and empty, as prom-client\'s labelled ones are', async (t) => {
  t.equal(await ours().registry.metrics(), await reference().registry.metrics());
});

t.test(`at most ${REQUEST_OPS_MAX} distinct ops; later ones are counted as other`, async (t) => {
  const b = ours();
  for (let i = 0; i < REQUEST_OPS_MAX + 5; i++) b.observe(`op${i}`, 200, 0.001);
  const text = await b.registry.metrics();
  const ops = new Set([...text.matchAll(/ringkv_requests_total\{op="([^"]+)"/g)].map((m) => m[1]));
  t.equal(ops.size, REQUEST_OPS_MAX, 'the series are bounded');
  t.ok(ops.has('other'), 'the overflow has a series of its own');
  t.match(text, /ringkv_requests_total\{op="other",status="200",node="n1"\} 6\n/, 'every op past the first 15');
});

t.test('Registry.resetMetrics() clears the requests, as it clears prom-client\'s own metrics', async (t) => {
  const a = reference();
  const b = ours();
  a.observe('get', 200, 0.01);
  b.observe('get', 200, 0.01);
  a.registry.resetMetrics();
  b.registry.resetMetrics();
  a.observe('put', 204, 0.02);
  b.observe('put', 204, 0.02);
  t.equal(await b.registry.metrics(), await a.registry.metrics());
  t.notMatch(await b.registry.metrics(), /op="get"/);
});
