/**
 * Real network faults between the tier's hosts, made with nftables inside their namespaces
 * (`tc netem` is not available on this kernel: ENVIRONMENT.md). A fault is a set of directed
 * links `from>to` whose packets are dropped; each host gets one table, `inet ringkv_nemesis`,
 * with one input chain that drops what arrives from the hosts cut towards it:
 *
 *     table inet ringkv_nemesis {
 *       chain input {
 *         type filter hook input priority filter; policy accept;
 *         ip saddr { 10.150.3.12, 10.150.3.13 } drop
 *       }
 *     }
 *
 * A two-way cut is both directions; a one-way loss (A→B) is only B's rule, so B→A packets
 * still arrive but nothing A sends reaches B: TCP cannot connect either way (the SYN or the
 * SYN-ACK is lost) while B's UDP gossip still reaches A. The rules are stateless, so kept-alive
 * connections die with the rest. The root namespace's address (the clients') is never in a
 * rule. Each change replaces a host's table atomically (`nft -f`: create, delete, create), and
 * the heal deletes it; the table dies with its namespace at cleanup in any case.
 */

export const TABLE = 'ringkv_nemesis';

/** A directed link "from>to" (host numbers, 1-based). */
export type Link = `${number}>${number}`;

export function link(from: number, to: number): Link {
  return `${from}>${to}`;
}

/** Every link between the two sides, both ways. */
export function cutBetween(sideA: readonly number[], sideB: readonly number[]): Set<Link> {
  const cut = new Set<Link>();
  for (const a of sideA) {
    for (const b of sideB) {
      cut.add(link(a, b));
      cut.add(link(b, a));
    }
  }
  return cut;
}

/** The hosts whose packets `host` drops under `cut`, in order. */
export function droppedSources(host: number, cut: ReadonlySet<Link>): number[] {
  return [...cut].map((l) => l.split('>').map(Number) as [number, number]).filter(([, to]) => to === host).map(([from]) => from).sort((a, b) => a - b);
}

/** The `nft -f` script that puts `host`'s table in the state `cut` asks (no table: no drops). */
export function ruleset(host: number, cut: ReadonlySet<Link>, addressOf: (host: number) => string): string {
  const sources = droppedSources(host, cut);
  const reset = `table inet ${TABLE}\ndelete table inet ${TABLE}\n`;
  if (sources.length === 0) return reset;
  return (
    reset +
    `table inet ${TABLE} {\n` +
    `  chain input {\n` +
    `    type filter hook input priority filter; policy accept;\n` +
    `    ip saddr { ${sources.map(addressOf).join(', ')} } drop\n` +
    `  }\n` +
    `}\n`
  );
}
