/**
 * Reading a node's Prometheus exposition in tests: the families it declares (`# TYPE`) and the
 * value of one sample. Names are the ones docs/metrics.md lists.
 */

/** `# TYPE` of every metric family in `text`: name → counter, gauge, histogram, ... */
export function metricFamilies(text: string): Map<string, string> {
  return new Map([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1]!, m[2]!]));
}

/**
 * The value of the first sample named `name` whose labels include every one of `labels`;
 * NaN when there is none.
 */
export function sampleValue(text: string, name: string, labels: Readonly<Record<string, string>> = {}): number {
  const wanted = Object.entries(labels).map(([label, value]) => `${label}="${value}"`);
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const labelText = line.startsWith(`${name}{`) ? line.slice(name.length + 1, line.lastIndexOf('}')) : '';
    const present = labelText.split(/,(?=[a-zA-Z_]+=")/);
    if (wanted.every((pair) => present.includes(pair))) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return NaN;
}
