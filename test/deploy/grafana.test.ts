// deploy/grafana/ringkv.json: valid for Grafana 10, and every query of every panel names only
// metrics a real node exports (scraped from a node started here with gossip and process metrics);
// the check itself fails on a dashboard that names a metric the node does not export.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { DEPRECATED_METRICS } from '@ringkv/node';
import { scrapeFamilies } from '../helpers/metrics.js';
import { dashboardQueries, familyOf, metricNames, queryPanels, unknownMetrics, type Dashboard } from './dashboard.js';

const DASHBOARD_FILE = fileURLToPath(new URL('../../deploy/grafana/ringkv.json', import.meta.url));
const dashboard = JSON.parse(readFileSync(DASHBOARD_FILE, 'utf8')) as Dashboard;

t.test('the dashboard parses, targets Grafana 10, and has a Prometheus data source and a node variable', async (t) => {
  t.ok(dashboard.schemaVersion >= 36, `schemaVersion ${dashboard.schemaVersion} (Grafana 10 writes 38)`);
  const variables = new Map(dashboard.templating.list.map((v) => [v.name, v]));
  t.match(variables.get('datasource'), { type: 'datasource', query: 'prometheus' }, 'a Prometheus data source variable');
  t.match(variables.get('node'), { type: 'query', datasource: { uid: '${datasource}' } }, 'a node variable queried from that data source');
  t.match(variables.get('node')!.definition, /^label_values\(\w+, node\)$/, 'its values are the node label');
});

t.test('every panel has a query, on the data source variable', async (t) => {
  const panels = queryPanels(dashboard);
  t.ok(panels.length >= 20, `${panels.length} panels`);
  for (const panel of panels) {
    t.ok((panel.targets ?? []).length > 0 && panel.targets!.every((target) => (target.expr ?? '').trim() !== ''), `"${panel.title}" has queries, none empty`);
    t.equal(panel.datasource?.uid, '${datasource}', `"${panel.title}" reads the chosen data source`);
  }
  const ids = panels.map((p) => p.id);
  t.equal(new Set(ids).size, ids.length, 'panel ids are unique');
  // No two panels (rows included) cover the same cell of the 24-column grid.
  const taken = new Map<string, string>();
  for (const panel of dashboard.panels) {
    const { x, y, w, h } = panel.gridPos;
    t.ok(x >= 0 && w > 0 && x + w <= 24, `"${panel.title}" fits in 24 columns`);
    for (let col = x; col < x + w; col++) {
      for (let row = y; row < y + h; row++) {
        const other = taken.get(`${col},${row}`);
        if (other !== undefined) t.fail(`"${panel.title}" overlaps "${other}"`);
        taken.set(`${col},${row}`, panel.title);
      }
    }
  }
});

t.test('every metric every query names is one a node exports, and none is deprecated', async (t) => {
  const families = await scrapeFamilies(t);
  t.ok(families.size > 50, `the node declared ${families.size} families`);
  const unknown = unknownMetrics(dashboard, families);
  t.same(unknown, [], 'no query names a metric the node does not export');
  const used = new Set(dashboardQueries(dashboard).flatMap((q) => metricNames(q.expr)));
  t.ok(used.size >= 35, `the queries name ${used.size} metrics`);
  for (const name of used) t.notOk(name in DEPRECATED_METRICS, `${name} is not a deprecated name`);
  // The areas the dashboard promises, each with at least one of its metrics.
  for (const name of ['ringkv_requests_total', 'ringkv_request_duration_seconds_bucket', 'ringkv_quorum_failures_total', 'ringkv_read_repairs_total', 'ringkv_hints_stored', 'ringkv_hints_delivered_total', 'ringkv_anti_entropy_exchanges_total', 'ringkv_anti_entropy_keys_total', 'ringkv_transfer_keys_total', 'ringkv_ring_replicas_share', 'ringkv_gossip_suspicions_total', 'ringkv_gossip_deaths_total', 'ringkv_gossip_local_health_score', 'ringkv_store_commits_total', 'ringkv_store_writes_total', 'ringkv_connections_open', 'process_cpu_seconds_total', 'process_resident_memory_bytes']) {
    t.ok(used.has(name), `a panel shows ${name}`);
  }

  // The same check on a copy with one panel broken: it must name the metric and the panel.
  const broken = structuredClone(dashboard) as unknown as { panels: Array<{ title: string; type: string; targets?: Array<{ expr: string }> }> };
  const victim = broken.panels.find((p) => p.type !== 'row')!;
  victim.targets![0]!.expr = 'sum(rate(ringkv_no_such_metric_total{node=~"$node"}[5m])) / sum(rate(ringkv_requests_total_bucket[5m]))';
  t.same(
    unknownMetrics(broken as unknown as Dashboard, families).map((u) => u.name),
    ['ringkv_no_such_metric_total', 'ringkv_requests_total_bucket'],
    'a name the node does not export, and a histogram suffix on a counter, are both reported',
  );
  t.match(unknownMetrics(broken as unknown as Dashboard, families)[0]!.where, victim.title, 'with the panel they are in');
});

t.test('metricNames: only metric names, not functions, labels, strings, ranges, numbers or variables', async (t) => {
  const cases: Array<[string, string[]]> = [
    ['sum by (op, status) (rate(ringkv_requests_total{node=~"$node"}[$__rate_interval]))', ['ringkv_requests_total']],
    ['histogram_quantile(0.99, sum by (op, le) (rate(x_seconds_bucket{op="get"}[5m])))', ['x_seconds_bucket']],
    ['time() - max by (node, peer) (a_timestamp_seconds)', ['a_timestamp_seconds']],
    ['rate(a_total[1m]) / ignoring(reason) group_left rate(b_total[1m]) > 1e3', ['a_total', 'b_total']],
    ['a and on(node) b offset 5m or c unless d', ['a', 'b', 'c', 'd']],
    ['label_replace(up, "x", "$1", "instance", "(.*)")', ['up']],
    ['sum without (le) (h_count) * 0.5 + inf', ['h_count']],
  ];
  for (const [expr, names] of cases) t.same(metricNames(expr), names, expr);
});

t.test('familyOf: _bucket, _sum and _count belong to a histogram, and only to one', async (t) => {
  const families = new Map([['h_seconds', 'histogram'], ['c_total', 'counter'], ['g', 'gauge'], ['s', 'summary']]);
  t.equal(familyOf('h_seconds_bucket', families), 'h_seconds');
  t.equal(familyOf('h_seconds_sum', families), 'h_seconds');
  t.equal(familyOf('h_seconds_count', families), 'h_seconds');
  t.equal(familyOf('h_seconds', families), undefined, 'a histogram has no series of its bare name');
  t.equal(familyOf('c_total', families), 'c_total');
  t.equal(familyOf('c_total_count', families), undefined);
  t.equal(familyOf('g', families), 'g');
  t.equal(familyOf('s_count', families), 's');
  t.equal(familyOf('s_bucket', families), undefined, 'a summary has no buckets');
});
