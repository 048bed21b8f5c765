// Compare-and-set against a real 3-node ring (issue 17): rounds of concurrent if_absent claims
// of one key, each claimer retrying with its own request id after a connection error or an
// unknown outcome; node3 is killed with SIGKILL during the second round. Every round must end
// with exactly one claimer told 204 and every other told 412, and a consistent read of the key
// must return the winner; the whole history goes to the linearizability checker.
import t from 'tap';
import { RingkvClient } from '@ringkv/client';
import { http, httpAgent, killByPid, pidAlive, type NodeProcess } from '../helpers/process.js';
import { startRing } from '../helpers/ring.js';
import { checkLinearizable, type Operation, type Outcome } from '../../packages/node/dist/testing/linearizability/index.js';

const ROUNDS = 4;
const CLAIMERS = 6;
/** Sends of one claim (its first and its retries with the same request id). */
const SENDS_MAX = 6;

t.test('concurrent if_absent claims: exactly one 204 per key, the rest 412, across a kill -9', async (t) => {
  const ring = await startRing(t, { nodes: 3, n: 3 });
  const agent = httpAgent(t);
  const history: Operation[] = [];
  const now = () => performance.now();
  let resent = 0;

  /** One claim, sent to node `first` and on failure to the next ones, always with the same id. */
  const claim = async (process: string, key: string, first: number): Promise<number | 'unknown'> => {
    const requestId = `${process}.${key}`;
    const invokedAt = now();
    let outcome: Outcome = { status: 'unknown' };
    let status: number | 'unknown' = 'unknown';
    for (let send = 0; send < SENDS_MAX && status === 'unknown'; send++) {
      const node = ring[(first + send) % ring.length]!;
      try {
        const answer = await http(agent, 'PUT', `${node.url}/kv/${key}?if_absent=1&timeout_ms=4000`, {
          headers: { 'content-type': 'text/plain', 'x-ringkv-request-id': requestId },
          body: process,
          timeoutMs: 10_000,
        });
        if (answer.status === 204 || answer.status === 412) {
          status = answer.status;
          outcome = { status: 'ok', completedAt: now(), result: { kind: 'cas', ok: answer.status === 204 } };
        } else {
          t.ok([503, 504].includes(answer.status), `${process}: a failed round is 503 or 504 (got ${answer.status} ${answer.body.toString().slice(0, 200)})`);
        }
      } catch {
        // The node is gone (connection refused or reset): the same claim goes to the next node.
        resent++;
      }
    }
    history.push({ process, key, call: { kind: 'cas', expected: null, value: process }, invokedAt, outcome });
    return status;
  };

  let round = 0;
  const live = (node: NodeProcess) => node !== ring[2] || round < 1;
  for (; round < ROUNDS; round++) {
    const key = `claim-${round}`;
    const claims = Array.from({ length: CLAIMERS }, (_, i) => claim(`r${round}c${i}`, key, i % ring.length));
    // Mid-run: node3 dies while the second round's claims are in flight.
    const statuses = await Promise.all(round === 1 ? [...claims, killByPid(ring[2]!.pid).then(() => 0)] : claims);
    const answers = statuses.slice(0, CLAIMERS);
    if (round === 1) t.notOk(pidAlive(ring[2]!.pid), 'node3 was killed during this round');
    t.equal(answers.filter((s) => s === 204).length, 1, `${key}: exactly one claim won`);
    t.equal(answers.filter((s) => s === 412).length, CLAIMERS - 1, `${key}: every other claim was refused with 412`);
    const reader = ring.find(live)!;
    const invokedAt = now();
    const read = await http(agent, 'GET', `${reader.url}/kv/${key}?consistent=1`, { timeoutMs: 10_000 });
    t.equal(read.status, 200, `${key}: a consistent read finds the claim`);
    const winner = history.find((op) => op.key === key && op.outcome.status === 'ok' && op.outcome.result.kind === 'cas' && op.outcome.result.ok);
    t.equal(read.body.toString(), winner?.process, `${key}: the value read is the winner's`);
    t.equal(read.headers['x-ringkv-version'], '1', `${key}: one change applied`);
    history.push({ process: `reader-${round}`, key, call: { kind: 'read' }, invokedAt, outcome: { status: 'ok', completedAt: now(), result: { kind: 'read', value: read.body.toString(), version: 1 } } });
  }
  // The client library over the same ring (node3 still dead: its URL fails over).
  const client = new RingkvClient({ urls: ring.map((node) => node.url), keyAware: false });
  t.teardown(() => client.close());
  t.same(await client.cas('lib-key', 'one', { ifAbsent: true }), { applied: true, version: 1 });
  t.same(await client.cas('lib-key', 'two', { ifAbsent: true }), { applied: false, version: 1, exists: true });
  t.same(await client.cas('lib-key', 'three', { ifVersion: 1 }), { applied: true, version: 2 });
  const got = await client.getConsistent('lib-key');
  t.match(got, { found: true, version: 2, contentType: 'text/plain; charset=utf-8' });
  t.equal(got.found && Buffer.from(got.value).toString(), 'three');
  t.ok(resent >= 1, `claims sent to node3 after its death went to another node with the same id (${resent})`);
  const verdict = checkLinearizable(history);
  t.equal(verdict.kind, 'ok', verdict.kind === 'violation' ? verdict.report : JSON.stringify(verdict));
});
