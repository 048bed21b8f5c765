/**
 * What a failed call tells the caller: a write that may have landed (OutcomeUnknownError) against
 * one that surely did not (UnreachableError, RingkvAbortError before sending, refused answers),
 * with real processes where the distinction depends on the OS (a SIGSTOPped node accepts the
 * connection and never answers; a closed port refuses it) and stub servers where it depends on
 * what the server saw.
 */
import t, { type Test } from 'tap';
import { createServer as createTcpServer } from 'node:net';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { OutcomeUnknownError, RingkvAbortError, RingkvClient, RingkvError, UnreachableError } from '@ringkv/client';
import { continueByPid, spawnNode, waitFor } from '../helpers/process.js';

/** A URL on which nothing listens: bind a port, then close it. */
async function deadUrl(): Promise<string> {
  const server = createTcpServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return `http://127.0.0.1:${port}`;
}

/** An HTTP server on a loopback port, closed (its connections cut) when the test ends. */
async function stub(t: Test, handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ url: string; server: Server }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    server.closeAllConnections();
    return new Promise((resolve) => server.close(resolve));
  });
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, server };
}

function client(t: Test, urls: string[], options: { timeoutMs?: number; connectionsPerNode?: number } = {}): RingkvClient {
  const c = new RingkvClient({ urls, keyAware: false, ...options });
  t.teardown(() => c.close());
  return c;
}

t.test('a write to a SIGSTOPped node past its timeout is OutcomeUnknownError; a refused connection is not', async (t) => {
  const node = await spawnNode(t, { id: 'stopped' });
  t.teardown(() => continueByPid(node.pid)); // before the helpers stop it by PID
  const kv = client(t, [node.url], { timeoutMs: 400 });
  await kv.put('k', 'before'); // the connection is open and the node answers
  const { context } = await kv.get('k');
  process.kill(node.pid, 'SIGSTOP');
  const error = await kv.put('k', 'during', { context: context!, retries: 0 }).catch((e: unknown) => e);
  t.ok(error instanceof OutcomeUnknownError, 'an OutcomeUnknownError');
  t.ok(error instanceof RingkvError, 'which is a RingkvError');
  t.match(error, { name: 'OutcomeUnknownError', code: 'KV_ERR_OUTCOME_UNKNOWN', status: 0, mayHaveApplied: true, details: { url: node.url } });
  const read = await kv.get('k').catch((e: unknown) => e);
  t.ok(read instanceof UnreachableError && !(read instanceof OutcomeUnknownError), 'a read that got no answer is only unreachable');

  continueByPid(node.pid);
  // The write may have landed: after SIGCONT the node finishes it (or drops it as too late),
  // and a read shows the old value or the new one that superseded it.
  const after = await waitFor(async () => (await kv.get('k', { timeoutMs: 2_000 })).value, 20_000, 'the node answers again');
  t.ok(['before', 'during'].includes(Buffer.from(after).toString()), `the key holds the old or the new value (${Buffer.from(after).toString()})`);

  const refused = client(t, [await deadUrl()], { timeoutMs: 400 });
  const unreachable = await refused.put('k', 'v').catch((e: unknown) => e);
  t.ok(unreachable instanceof UnreachableError, 'refused: UnreachableError');
  t.notOk(unreachable instanceof OutcomeUnknownError, 'not an unknown outcome');
  t.match(unreachable, { code: 'KV_ERR_UNREACHABLE', mayHaveApplied: false });
});

t.test('abort: before sending, queued behind another request, during a read, after a write was sent', async (t) => {
  const seen: string[] = [];
  const hanging: ServerResponse[] = [];
  // Reads each request in full, records it, and never answers.
  const { url } = await stub(t, (req, res) => {
    req.resume();
    req.on('end', () => {
      seen.push(`${req.method} ${req.url?.split('?')[0]}`);
      hanging.push(res);
    });
  });
  const kv = client(t, [url], { timeoutMs: 30_000, connectionsPerNode: 1 });

  const early = await kv.put('a', 'v', { signal: AbortSignal.abort() }).catch((e: unknown) => e);
  t.ok(early instanceof RingkvAbortError, 'an already aborted signal: RingkvAbortError');
  t.match(early, { name: 'AbortError', code: 'KV_ERR_ABORTED', mayHaveApplied: false });
  t.same(seen, [], 'nothing was sent');

  const first = new AbortController();
  const inFlight = kv.put('b', 'v', { signal: first.signal }).catch((e: unknown) => e);
  await waitFor(() => seen.length === 1, 10_000, 'the first write reached the server');
  // The pool's one connection is busy: this write waits in the client's queue.
  const second = new AbortController();
  const queued = kv.delete('c', { signal: second.signal }).catch((e: unknown) => e);
  second.abort();
  const queuedError = await queued;
  t.ok(queuedError instanceof RingkvAbortError, 'a write aborted while queued in the client was not sent: RingkvAbortError');
  first.abort(new Error('user gave up'));
  const sentError = await inFlight;
  t.ok(sentError instanceof OutcomeUnknownError, 'a write aborted after it was sent: OutcomeUnknownError');
  t.match(sentError, { code: 'KV_ERR_OUTCOME_UNKNOWN', mayHaveApplied: true, details: { aborted: true, url } });
  t.match((sentError as Error).cause, { message: 'user gave up' }, 'the cause is the signal reason');

  const reading = new AbortController();
  const read = kv.get('d', { signal: reading.signal }).catch((e: unknown) => e);
  await waitFor(() => seen.length === 2, 10_000, 'the read reached the server');
  reading.abort();
  t.ok((await read) instanceof RingkvAbortError, 'an aborted read: RingkvAbortError');
  t.same(seen, ['PUT /kv/b', 'GET /kv/d'], 'the queued delete never reached the server');
});

t.test('a write answer that leaves the outcome open says mayHaveApplied; a refusal before any work does not', async (t) => {
  const answers: Record<string, [number, object]> = {
    '/kv/quorum': [503, { error: { code: 'KV_ERR_QUORUM_UNMET', message: 'needed 2', needed: 2, answered: 1 } }],
    '/kv/timeout': [504, { error: { code: 'KV_ERR_TIMEOUT', message: 'late', needed: 2, answered: 1 } }],
    '/kv/refused': [503, { error: { code: 'KV_ERR_QUORUM_UNMET', message: 'not attempted', needed: 2, answered: 0, attempted: false } }],
    '/kv/bad': [400, { error: { code: 'KV_ERR_BAD_QUORUM', message: 'w' } }],
  };
  const { url } = await stub(t, (req, res) => {
    req.resume();
    const [status, body] = answers[req.url!.split('?')[0]!]!;
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  });
  const kv = client(t, [url]);
  for (const [key, mayHaveApplied] of [['quorum', true], ['timeout', true], ['refused', false], ['bad', false]] as const) {
    const error = await kv.put(key, 'v').catch((e: unknown) => e);
    t.ok(error instanceof RingkvError && !(error instanceof OutcomeUnknownError), `${key}: the server's code is kept`);
    t.equal((error as RingkvError).mayHaveApplied, mayHaveApplied, `${key}: mayHaveApplied ${mayHaveApplied}`);
  }
  const read = await kv.get('timeout').catch((e: unknown) => e);
  t.equal((read as RingkvError).mayHaveApplied, false, 'a read never may have applied anything');
});

t.test('an abort ends a call that waits for its first ring fetch', async (t) => {
  // Never answers /admin/ring (the client's ring fetch waits 2 s for it).
  const { url } = await stub(t, (req) => req.resume());
  const kv = new RingkvClient({ urls: [url] });
  t.teardown(() => kv.close());
  const started = Date.now();
  const error = await kv.get('k', { signal: AbortSignal.timeout(100) }).catch((e: unknown) => e);
  t.ok(error instanceof RingkvAbortError, 'RingkvAbortError');
  t.ok(Date.now() - started < 1_500, `at the abort, not after the ring fetch's deadline (${Date.now() - started} ms)`);
});
