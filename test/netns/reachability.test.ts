// The ground truth the availability figures are split by (reachability.ts), against the
// server's placement rules: reads need R primaries, sloppy writes W of primaries and fallbacks.
import t from 'tap';
import { buildRing, preferenceList } from '@ringkv/protocol';
import { canMeetQuorum, reaches, type World } from './reachability.js';

const ids = ['node1', 'node2', 'node3', 'node4', 'node5'];
const ring = buildRing(ids);
const all = new Set(ids);
const cutFrom = (side: string[]) => new Set(side.flatMap((a) => ids.filter((b) => !side.includes(b)).flatMap((b) => [`${a}>${b}`, `${b}>${a}`])));
const key = 'set-1';
const primaries = preferenceList(ring, key, 3);
const outsider = ids.find((id) => !primaries.includes(id))!;
const ask = (world: World, op: 'get' | 'put', coordinator: string) => canMeetQuorum(world, ring, { op, key, coordinator, quorum: 2, n: 3 });

t.test('reachability needs both processes up and both directions open', async (t) => {
  t.ok(reaches({ up: all, cut: new Set() }, 'node1', 'node2'));
  t.notOk(reaches({ up: all, cut: new Set(['node1>node2']) }, 'node2', 'node1'), 'a one-way loss breaks both directions');
  t.notOk(reaches({ up: new Set(['node1']), cut: new Set() }, 'node1', 'node2'));
  t.notOk(reaches({ up: new Set(['node2']), cut: new Set() }, 'node1', 'node1'), 'a stopped node reaches nothing');
});

t.test('an isolated host meets no quorum; the rest meet every quorum', async (t) => {
  const world = { up: all, cut: cutFrom([primaries[0]!]) };
  t.notOk(ask(world, 'get', primaries[0]!));
  t.notOk(ask(world, 'put', primaries[0]!));
  t.ok(ask(world, 'get', primaries[1]!), 'two primaries remain for a read');
  t.ok(ask(world, 'put', outsider), 'a non-replica forwards to a replica');
});

t.test('reads need primaries; sloppy writes take fallbacks', async (t) => {
  // The coordinator is a primary cut off with the two non-replicas: no other primary for a read,
  // but the two fallbacks stand in for a write.
  const side = [primaries[0]!, ...ids.filter((id) => !primaries.includes(id))];
  const world = { up: all, cut: cutFrom(side) };
  t.notOk(ask(world, 'get', primaries[0]!), 'one primary of three: no read quorum');
  t.ok(ask(world, 'put', primaries[0]!), 'its copy plus a fallback make W = 2');
  t.notOk(ask(world, 'get', outsider), 'a non-replica on that side reaches only the lone primary');
  t.notOk(ask({ up: new Set(ids.filter((id) => id !== outsider)), cut: new Set() }, 'get', outsider), 'a stopped coordinator meets nothing');
});

t.test('a read is coordinated where it arrives; only a write goes one hop on', async (t) => {
  // The outsider reaches one primary only, which reaches the other two (a bridge).
  const [bridge, ...others] = primaries as [string, ...string[]];
  const world = { up: all, cut: new Set(others.flatMap((p) => [`${outsider}>${p}`, `${p}>${outsider}`])) };
  t.ok(reaches(world, outsider, bridge));
  t.notOk(ask(world, 'get', outsider), 'a read there sees one primary of the two it needs');
  t.ok(ask(world, 'put', outsider), 'a write is handed to the primary it reaches, which meets W');
});
