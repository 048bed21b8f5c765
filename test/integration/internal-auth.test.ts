/**
 * Authentication of /internal/ requests against real node processes (issue 18, "What to build"
 * 1 and its acceptance): a forged request is refused before its body is read, a request is
 * bound to its receiver (id and boot epoch), and a request captured before a restart cannot be
 * replayed after it.
 */
import { readFileSync } from 'node:fs';
import t, { type Test } from 'tap';
import { Keyring, helloNode, signDeclared, signRequest } from '@ringkv/node';
import { decodeCoordinateResult, encodeCoordinate } from '@ringkv/node/testing';
import { DEFAULT_SECRET, errorCode, http, httpAgent, spawnNode, stopByPid, type NodeProcess } from '../helpers/process.js';
import { RawConnection } from '../helpers/raw-http.js';

const MIB = 1024 * 1024;
const KEY = new Keyring([DEFAULT_SECRET]).internalKeys[0]!;
const utf8 = (s: string) => Buffer.from(s, 'utf8');

/** Bytes the process has read through read(2)-like calls (/proc/<pid>/io `rchar`): sockets and files. */
function bytesRead(pid: number): number {
  const line = readFileSync(`/proc/${pid}/io`, 'utf8').split('\n').find((l) => l.startsWith('rchar:'));
  return Number(line?.split(/\s+/)[1] ?? NaN);
}

/**
 * Sends `head`, then up to `declared` bytes of body, 64 KiB at a time, and stops as soon as the
 * node answered or closed. `paceMs` > 0 waits that long for an answer after each chunk (so what
 * this side wrote is what the node let through, not what loopback buffers absorbed); 0 writes as
 * fast as the socket takes it. Returns the answer (when it arrived before a reset) and how many
 * body bytes this side had handed to its socket by then.
 */
async function stream(t: Test, node: NodeProcess, head: string, declared: number, paceMs: number): Promise<{ status: number | undefined; reason: unknown; bodyBytes: number }> {
  const connection = await RawConnection.open(node.port);
  t.teardown(() => connection.destroy());
  await connection.write(head);
  const headBytes = connection.socket.bytesWritten;
  const chunk = Buffer.alloc(64 * 1024, 0x78);
  let sent = 0;
  while (sent < declared && !connection.hasResponse && !connection.isClosed) {
    if (!(await connection.write(chunk))) break;
    sent += chunk.length;
    if (paceMs > 0) await connection.nextResponse(paceMs).catch(() => undefined);
  }
  let bodyBytes = connection.socket.bytesWritten - headBytes;
  try {
    const answer = await connection.nextResponse(5_000);
    bodyBytes = Math.min(bodyBytes, answer.bytesWrittenAtResponse - headBytes);
    return { status: answer.status, reason: (answer.json as { error?: { reason?: unknown } } | undefined)?.error?.reason, bodyBytes };
  } catch {
    // Closed (reset) before the answer could be read: the bytes written until then are what count.
    return { status: undefined, reason: undefined, bodyBytes };
  }
}

function rawHead(path: string, headers: Record<string, string>, contentLength: number): string {
  return [`POST ${path} HTTP/1.1`, 'host: 127.0.0.1', 'content-type: application/octet-stream', `content-length: ${contentLength}`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`), '', ''].join('\r\n');
}

async function stillServes(t: Test, node: NodeProcess, agent: ReturnType<typeof httpAgent>, key: string): Promise<void> {
  t.equal((await http(agent, 'PUT', `${node.url}/kv/${key}`, { body: 'fine' })).status, 204, 'the node still takes writes');
  const read = await http(agent, 'GET', `${node.url}/kv/${key}`);
  t.equal(read.status, 200);
  t.equal(read.body.toString(), 'fine');
}

t.test('a forged internal request with a 50 MiB body is refused before 1 MiB of it is read, and the node keeps serving', async (t) => {
  const node = await spawnNode(t, { id: 'authnode' });
  const agent = httpAgent(t);
  const declared = 50 * MIB;
  const receiver = await helloNode(node.url, DEFAULT_SECRET, 'peer-x');
  const digest = Buffer.alloc(32).toString('base64url');
  const forgedKey = new Keyring(['not-the-cluster-secret']).internalKeys[0]!;
  const cases: Array<[string, Record<string, string>, string]> = [
    ['a tag made with another secret', signDeclared(forgedKey, 'peer-x', receiver, '/internal/batch', { length: declared, digest }, Date.now()), 'unauthenticated'],
    ['a tag of the right form that is no tag', { ...signDeclared(KEY, 'peer-x', receiver, '/internal/batch', { length: 10, digest }, Date.now()) }, 'unauthenticated'],
    ['headers signed for another node', signDeclared(KEY, 'peer-x', { ...receiver, id: 'another-node' }, '/internal/batch', { length: declared, digest }, Date.now()), 'misdirected'],
    ['headers signed for an earlier boot', signDeclared(KEY, 'peer-x', { ...receiver, epoch: 'AAAAAAAAAAAAAAAA' }, '/internal/coordinate', { length: declared, digest }, Date.now()), 'stale-epoch'],
  ];
  for (const [what, headers, reason] of cases) {
    const path = headers['x-ringkv-epoch'] === 'AAAAAAAAAAAAAAAA' ? '/internal/coordinate' : '/internal/batch';
    // Paced: the answer comes after the headers, so the next chunk is rarely even needed.
    const paced = await stream(t, node, rawHead(path, headers, declared), declared, 100);
    t.ok(paced.bodyBytes < MIB, `${what}: refused after ${paced.bodyBytes} of ${declared} body bytes were written (< 1 MiB)`);
    if (paced.status !== undefined) {
      t.equal(paced.status, 401, `${what}: 401`);
      t.equal(paced.reason, reason, `${what}: reason ${reason}`);
    } else t.pass(`${what}: connection closed before the answer could be read`);
    // Flat out: loopback buffers take megabytes the node never reads; what it read is measured
    // on its side.
    const readBefore = bytesRead(node.pid);
    const flat = await stream(t, node, rawHead(path, headers, declared), declared, 0);
    const read = bytesRead(node.pid) - readBefore;
    t.ok(flat.status === 401 || flat.status === undefined, `${what}, written flat out: refused (${flat.status ?? 'reset'})`);
    t.ok(read < MIB, `${what}, written flat out: the node read ${read} bytes (< 1 MiB) while the client pushed ${flat.bodyBytes} into its socket`);
  }
  // Fifty at once, flat out: none is read.
  const readBefore = bytesRead(node.pid);
  const parallel = await Promise.all(Array.from({ length: 50 }, () => stream(t, node, rawHead('/internal/batch', cases[0]![1], declared), declared, 0)));
  const read = bytesRead(node.pid) - readBefore;
  t.ok(parallel.every((r) => r.status === 401 || r.status === undefined), '50 parallel forged uploads: all refused');
  t.ok(read < 50 * MIB / 8, `50 in parallel: the node read ${read} bytes in all (< 128 KiB each on average; the bodies declared 2.5 GiB)`);
  await stillServes(t, node, agent, 'after-forged');
});

t.test('receiver binding and restarts: a forwarded put captured on its way to one node is refused by another, and by the same node after a restart', async (t) => {
  const first = await spawnNode(t, { id: 'bind-a' });
  const second = await spawnNode(t, { id: 'bind-b' });
  const agent = httpAgent(t);
  const body = encodeCoordinate({ kind: 'put', key: 'once', write: { context: [], deleted: false, value: utf8('forwarded'), contentType: 'text/plain' }, options: { w: 1, timeoutMs: 2_000 } });
  const before = await helloNode(first.url, DEFAULT_SECRET, 'peer-x');
  const captured = { 'content-type': 'application/octet-stream', ...signRequest(KEY, 'peer-x', before, '/internal/coordinate', body, Date.now()) };
  const applied = await http(agent, 'POST', `${first.url}/internal/coordinate`, { headers: captured, body });
  t.equal(applied.status, 200, 'the genuine request is applied');
  t.same(decodeCoordinateResult(applied.body), { ok: true });

  const elsewhere = await http(agent, 'POST', `${second.url}/internal/coordinate`, { headers: captured, body });
  t.equal(elsewhere.status, 401, 'replayed to another node: 401');
  t.equal(errorCode(elsewhere), 'KV_ERR_UNAUTHORIZED');
  t.match(elsewhere.json, { error: { reason: 'misdirected' } });
  t.equal((await http(agent, 'GET', `${second.url}/kv/once`)).status, 404, 'the other node wrote nothing');

  // Restart the first node on its data directory and replay the captured request within the
  // 30 s window: the replay memory is gone with the process, the epoch refuses it.
  await stopByPid(first.pid, 10_000);
  const restarted = await spawnNode(t, { id: 'bind-a', dir: first.dir });
  const after = await helloNode(restarted.url, DEFAULT_SECRET, 'peer-x');
  t.not(after.epoch, before.epoch, 'a new boot has a new epoch');
  const replay = await http(agent, 'POST', `${restarted.url}/internal/coordinate`, { headers: captured, body });
  t.equal(replay.status, 401, 'replayed after the restart: 401');
  t.match(replay.json, { error: { reason: 'stale-epoch' } });
  const read = await http(agent, 'GET', `${restarted.url}/kv/once?r=1`);
  t.equal(read.status, 200, 'one write, not a second sibling from the replay (which would read as 300)');
  t.equal(read.body.toString(), 'forwarded');
});
