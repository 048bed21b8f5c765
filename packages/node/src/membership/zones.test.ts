// Zones travel with membership (issue 16 point 2): in SWIM alive records, in a static list,
// and into the ring every part of a node places keys with.
import t from 'tap';
import { buildRing, preferenceList } from '@ringkv/protocol';
import { Swim, type SwimOutput } from './swim/swim.js';
import { defaultSwimConfig } from './swim/types.js';
import { SwimMembership } from './swim-membership.js';
import { StaticMembership } from './static-membership.js';
import { ringLayout } from './membership.js';
import { memoryCluster } from '../testing/memory-cluster.js';
import { seededRandom } from '../testing/rng.js';

const NOW = 1_700_000_000_000;

/** Delivers packets between machines by gossip address until none are left (bounded). */
function deliver(machines: Map<string, Swim>, first: SwimOutput): void {
  let queue = [...first.packets].map((p) => ({ ...p, from: '' }));
  for (let round = 0; round < 20 && queue.length > 0; round++) {
    const next: typeof queue = [];
    for (const packet of queue) {
      const to = machines.get(packet.to);
      if (to === undefined) continue;
      const from = [...machines.values()].find((m) => m.self.id === packet.message.from)!.self.gossipAddress;
      next.push(...to.receive(from, packet.message, NOW).packets.map((p) => ({ ...p, from: '' })));
    }
    queue = next;
  }
}

t.test('SWIM: a member\'s zone reaches the others with its alive record, and the view and ring carry it', async (t) => {
  const random = seededRandom(1);
  const a = new Swim({ id: 'a', gossipAddress: 'a.test:1', httpAddress: 'http://a.test:1', zone: 'z1' }, defaultSwimConfig, random, NOW);
  const b = new Swim({ id: 'b', gossipAddress: 'b.test:1', httpAddress: 'http://b.test:1', zone: 'z2' }, defaultSwimConfig, random, NOW);
  const c = new Swim({ id: 'c', gossipAddress: 'c.test:1', httpAddress: 'http://c.test:1' }, defaultSwimConfig, random, NOW);
  const machines = new Map([a, b, c].map((m) => [m.self.gossipAddress, m]));
  deliver(machines, b.join(['a.test:1'], NOW));
  deliver(machines, c.join(['a.test:1'], NOW));
  deliver(machines, b.join(['a.test:1'], NOW)); // b learns c through a's state
  t.equal(b.member('a')?.zone, 'z1', 'b knows a\'s zone');
  t.equal(a.member('b')?.zone, 'z2', 'a knows b\'s zone');
  t.equal(b.member('c')?.zone, undefined, 'c has none (as a node from before zones would send)');
  const view = new SwimMembership(b);
  t.same(view.members().map((m) => [m.id, m.zone ?? null]), [['a', 'z1'], ['b', 'z2'], ['c', null]]);
  t.same(ringLayout(view), [{ id: 'a', zone: 'z1' }, { id: 'b', zone: 'z2' }, { id: 'c', zone: '' }], 'the ring layout: ids and zones, none as \'\'');
});

t.test('static membership: peers carry zones; this node keeps its own whatever a new list says', async (t) => {
  const view = new StaticMembership('a', 'http://a.test:1', [{ id: 'b', address: 'http://b.test:1', zone: 'z2' }], 'z1');
  t.same(ringLayout(view), [{ id: 'a', zone: 'z1' }, { id: 'b', zone: 'z2' }]);
  view.replace([{ id: 'a', address: 'http://a.test:1' }, { id: 'b', address: 'http://b.test:1', zone: 'z3' }]);
  t.same(ringLayout(view), [{ id: 'a', zone: 'z1' }, { id: 'b', zone: 'z3' }], 'a list without a\'s zone does not erase it; b\'s zone changes');
});

t.test('every node\'s coordinator places keys with the zones, as the protocol does; a zone change rebuilds the ring', async (t) => {
  const { nodes } = memoryCluster({ nodes: 6, zone: (i) => `z${i % 3}` });
  const layout = nodes.map((node, i) => ({ id: node.id, zone: `z${i % 3}` }));
  const reference = buildRing(layout, nodes[0]!.coordinator.ring().tokensPerNode);
  for (const node of nodes) {
    t.same(ringLayout(node.membership), layout, `${node.id}'s view holds every zone, its own from its config`);
    let wrong = 0;
    for (let i = 0; i < 1_000; i++) {
      const list = node.coordinator.preferenceList(`k${i}`);
      const zones = new Set(list.map((id) => layout.find((m) => m.id === id)!.zone));
      if (list.join() !== preferenceList(reference, `k${i}`, 3).join() || zones.size !== 3) wrong++;
    }
    t.equal(wrong, 0, `${node.id}: 1,000 keys, one replica per zone, the protocol's lists`);
  }
  const first = nodes[0]!;
  const before = first.coordinator.ring();
  first.membership.replace(nodes.map((node, i) => ({ id: node.id, address: node.address, zone: node.id === 'node2' ? 'z9' : `z${i % 3}` })));
  t.not(first.coordinator.ring(), before, 'a zone change rebuilds the ring');
  t.equal(first.coordinator.ring().zones[1], 'z9', 'with the new zone');
  const zonedRing = first.coordinator.ring();
  first.membership.setStatus('node3', 'dead');
  t.equal(first.coordinator.ring(), zonedRing, 'a status change does not');
});
