/**
 * What the Grafana dashboard (deploy/grafana/ringkv.json) asks Prometheus for: every query of
 * every panel and template variable, and the metric names in a PromQL expression, checked
 * against the families a node's /metrics declares (grafana.test.ts).
 */

export interface DashboardTarget {
  readonly expr?: string;
  readonly refId?: string;
}

export interface DashboardPanel {
  readonly id?: number;
  readonly type: string;
  readonly title: string;
  readonly targets?: readonly DashboardTarget[];
  readonly panels?: readonly DashboardPanel[];
  readonly datasource?: { readonly type?: string; readonly uid?: string };
  /** Where the panel sits on Grafana's 24-column grid. */
  readonly gridPos: { readonly x: number; readonly y: number; readonly w: number; readonly h: number };
}

export interface Dashboard {
  readonly schemaVersion: number;
  readonly panels: readonly DashboardPanel[];
  readonly templating: { readonly list: ReadonlyArray<{ name: string; type: string; query?: unknown; definition?: string; datasource?: unknown }> };
}

/** Every panel, rows' nested panels included; rows themselves are not panels with queries. */
export function queryPanels(dashboard: Dashboard): DashboardPanel[] {
  const out: DashboardPanel[] = [];
  const walk = (panels: readonly DashboardPanel[]) => {
    for (const panel of panels) {
      if (panel.type === 'row') walk(panel.panels ?? []);
      else out.push(panel);
    }
  };
  walk(dashboard.panels);
  return out;
}

/** Every PromQL query of the dashboard, labelled with where it is: panel targets and query variables. */
export function dashboardQueries(dashboard: Dashboard): Array<{ where: string; expr: string }> {
  const queries: Array<{ where: string; expr: string }> = [];
  for (const panel of queryPanels(dashboard)) {
    for (const target of panel.targets ?? []) queries.push({ where: `panel "${panel.title}" ${target.refId ?? ''}`.trim(), expr: target.expr ?? '' });
  }
  for (const variable of dashboard.templating.list) {
    if (variable.type !== 'query') continue;
    const query = typeof variable.query === 'string' ? variable.query : (variable.query as { query?: string } | undefined)?.query ?? '';
    // label_values(selector, label): the selector is PromQL; the label (or a label alone) is not a metric.
    const selector = /^\s*label_values\((.+),\s*\w+\s*\)\s*$/.exec(query)?.[1];
    const labelOnly = /^\s*label_values\(\s*\w+\s*\)\s*$/.test(query);
    queries.push({ where: `variable $${variable.name}`, expr: selector ?? (labelOnly ? '' : query) });
  }
  return queries;
}

// PromQL words that look like names but are not metrics (aggregation modifiers, set and
// vector-matching operators) and Grafana's template functions.
const KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'and', 'or', 'unless', 'offset', 'bool', 'inf', 'nan', 'atan2']);

/**
 * The metric names an expression selects: identifiers that are not functions or aggregations
 * (followed by `(`), keywords, label names (inside `{...}` or the `by (...)` lists), strings,
 * range durations (`[5m]`), numbers or Grafana variables (`$node`, `$__rate_interval`).
 */
export function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, ' ') // strings
    .replace(/\{[^}]*\}/g, ' ') // label matchers
    .replace(/\[[^\]]*\]/g, ' ') // ranges and subqueries
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ') // label lists
    .replace(/\$\{?\w+\}?/g, ' '); // Grafana variables
  const names = new Set<string>();
  for (const match of stripped.matchAll(/(?<![\w.$])([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?/g)) {
    const [, name, call] = match;
    if (call !== undefined || KEYWORDS.has(name!.toLowerCase())) continue;
    names.add(name!);
  }
  return [...names];
}

/**
 * The family a sample name belongs to, among `families` (name → type from `# TYPE` lines):
 * itself, or for `_bucket`, `_sum` and `_count` the histogram (or summary) it is part of.
 */
export function familyOf(name: string, families: ReadonlyMap<string, string>): string | undefined {
  if (families.has(name) && families.get(name) !== 'histogram' && families.get(name) !== 'summary') return name;
  const suffix = /_(bucket|sum|count)$/.exec(name);
  if (suffix === null) return undefined;
  const base = name.slice(0, -suffix[0].length);
  const type = families.get(base);
  if (type === 'histogram') return base;
  if (type === 'summary' && suffix[1] !== 'bucket') return base;
  return undefined;
}

/** Each query's metric names that no family in `families` exports, with where they are used. */
export function unknownMetrics(dashboard: Dashboard, families: ReadonlyMap<string, string>): Array<{ where: string; name: string }> {
  const unknown: Array<{ where: string; name: string }> = [];
  for (const { where, expr } of dashboardQueries(dashboard)) {
    for (const name of metricNames(expr)) if (familyOf(name, families) === undefined) unknown.push({ where, name });
  }
  return unknown;
}
