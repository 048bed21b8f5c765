// nftables rulesets of the multi-host tier (firewall.ts).
import t from 'tap';
import { cutBetween, droppedSources, link, ruleset, TABLE } from './firewall.js';

const address = (host: number) => `10.150.1.${10 + host}`;

t.test('a two-way cut drops on both sides, a one-way loss only at the receiver', async (t) => {
  const split = cutBetween([1, 2], [3, 4, 5]);
  t.equal(split.size, 12);
  t.same(droppedSources(1, split), [3, 4, 5]);
  t.same(droppedSources(4, split), [1, 2]);
  const oneWay = new Set([link(1, 2)]);
  t.same(droppedSources(2, oneWay), [1], 'B drops what A sends');
  t.same(droppedSources(1, oneWay), [], 'A still hears B');
});

t.test('the ruleset replaces the table atomically, and the heal only deletes it', async (t) => {
  const script = ruleset(2, new Set([link(1, 2), link(3, 2)]), address);
  t.match(script, new RegExp(`^table inet ${TABLE}\\ndelete table inet ${TABLE}\\ntable inet ${TABLE} \\{`));
  t.match(script, 'type filter hook input priority filter; policy accept;');
  t.match(script, 'ip saddr { 10.150.1.11, 10.150.1.13 } drop');
  t.notMatch(script, '10.150.1.1 ', 'the clients address is never dropped');
  t.equal(ruleset(2, new Set(), address), `table inet ${TABLE}\ndelete table inet ${TABLE}\n`);
});
