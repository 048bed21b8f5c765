/**
 * Concurrent read-modify-write on one key through the client library (SPEC.md "Versioning":
 * siblings never grow past the number of truly concurrent writers; a write that sends its
 * read's context supersedes what it saw). Twenty writers each loop get → union the siblings'
 * sets → add a unique element → put with the read's context. No acknowledged element may be
 * lost, and the sibling count may never exceed the number of writers.
 */
import t from 'tap';
import { RingkvClient, type Sibling } from '@ringkv/client';
import { spawnNode } from '../helpers/process.js';

const WRITERS = 20;
const DURATION_MS = 10_000;
const ITERATIONS_MAX = 150; // per writer: bounds the set (and so the value) size on fast machines
const KEY = 'rmw/set';
const utf8 = new TextDecoder();

/** The union of every live sibling's set (a tombstone contributes nothing). */
function unionOf(siblings: readonly Sibling[]): Set<string> {
  const union = new Set<string>();
  for (const sibling of siblings) {
    if (sibling.deleted) continue;
    const parsed: unknown = JSON.parse(utf8.decode(sibling.value));
    if (!Array.isArray(parsed) || !parsed.every((e) => typeof e === 'string')) throw new Error(`sibling is not a JSON set: ${utf8.decode(sibling.value).slice(0, 80)}`);
    for (const element of parsed as string[]) union.add(element);
  }
  return union;
}

t.test(`${WRITERS} concurrent read-modify-write loops on one key lose no acknowledged element`, async (t) => {
  const node = await spawnNode(t, { id: 'rmw' });
  const clients = Array.from({ length: WRITERS }, () => new RingkvClient({ urls: [node.url], timeoutMs: 10_000, connectionsPerNode: 2 }));
  t.teardown(() => Promise.all(clients.map((client) => client.close())));

  const acknowledged = new Set<string>();
  const attempted = new Set<string>();
  const putFailures: string[] = [];
  let maxSiblings = 0;
  let iterations = 0;
  const endAt = Date.now() + DURATION_MS;

  const writer = async (c: number, client: RingkvClient): Promise<void> => {
    for (let n = 0; n < ITERATIONS_MAX && Date.now() < endAt; n++) {
      const read = await client.get(KEY);
      maxSiblings = Math.max(maxSiblings, read.siblings.length);
      const set = read.found ? unionOf(read.siblings) : new Set<string>();
      const element = `c${c}-${n}`;
      set.add(element);
      attempted.add(element);
      try {
        await client.put(KEY, JSON.stringify([...set]), {
          contentType: 'application/json',
          ...(read.context === undefined ? {} : { context: read.context }),
        });
        acknowledged.add(element);
      } catch (error) {
        putFailures.push(`${element}: ${(error as { code?: string }).code ?? String(error)}`);
      }
      iterations++;
    }
  };
  const started = Date.now();
  await Promise.all(clients.map((client, c) => writer(c, client)));
  const elapsedMs = Date.now() - started;

  t.comment(`${iterations} iterations in ${elapsedMs} ms by ${WRITERS} writers; max siblings seen ${maxSiblings}; ${acknowledged.size} acknowledged`);
  t.same(putFailures, [], 'no put failed on a healthy node');
  t.ok(acknowledged.size >= WRITERS, `every writer got writes acknowledged (${acknowledged.size})`);
  t.ok(maxSiblings >= 1, 'reads saw the key');
  t.ok(maxSiblings <= WRITERS, `siblings never exceeded the ${WRITERS} concurrent writers (max ${maxSiblings})`);

  // Resolve whatever siblings are left by writing back their union with the read's context.
  let resolverCalls = 0;
  const resolved = await clients[0]!.get(KEY, {
    resolve: (siblings) => {
      resolverCalls++;
      return { value: JSON.stringify([...unionOf(siblings)]), contentType: 'application/json' };
    },
  });
  t.comment(`resolver called ${resolverCalls} time(s)`);
  t.equal(resolved.siblings.length, 1, 'the resolved read leaves exactly one value');
  t.ok(resolved.found && resolved.value !== undefined, 'and it is live');
  const final = unionOf(resolved.siblings);
  const lost = [...acknowledged].filter((element) => !final.has(element));
  t.same(lost, [], `every one of the ${acknowledged.size} acknowledged elements is in the final value`);
  const invented = [...final].filter((element) => !attempted.has(element));
  t.same(invented, [], 'the final value holds nothing that no writer wrote');

  // The resolution was written back: a plain read now answers one value, the same set.
  const again = await clients[1]!.get(KEY);
  t.equal(again.siblings.length, 1, 'a later plain read also sees one value');
  t.same([...unionOf(again.siblings)].sort(), [...final].sort(), 'with the same set');
});
