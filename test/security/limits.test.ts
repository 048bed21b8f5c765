/**
 * Bounds of the client port against real processes (issue #18): 300 slowloris connections
 * (headers trickled forever) do not slow normal requests past a second and are cut off by the
 * header timeout; past --connections-max, new connections are closed at once and counted while
 * the open ones keep working.
 */
import t from 'tap';
import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { Agent } from 'undici';
import { http, pidAlive, spawnNode, waitFor, type TestLike } from '../helpers/process.js';

t.setTimeout(120_000);

/** A raw keep-alive connection that sends whole requests and reads whole (Content-Length) answers. */
class Connection {
  private received = Buffer.alloc(0);
  closed = false;
  private wake: () => void = () => {};

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.received = Buffer.concat([this.received, chunk]);
      this.wake();
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
  }

  static open(t: TestLike, port: number): Promise<Connection> {
    return new Promise((resolve, reject) => {
      const socket = connect({ port, host: '127.0.0.1' });
      t.teardown(() => socket.destroy());
      socket.once('connect', () => resolve(new Connection(socket)));
      socket.once('error', reject);
    });
  }

  /** Sends a GET and resolves with the status and body of its answer, or rejects at the deadline. */
  async get(path: string, deadlineMs = 10_000): Promise<{ status: number; body: string }> {
    this.received = Buffer.alloc(0);
    this.socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer integration-test-admin-token\r\n\r\n`);
    const until = Date.now() + deadlineMs;
    for (;;) {
      const headEnd = this.received.indexOf('\r\n\r\n');
      if (headEnd !== -1) {
        const head = this.received.subarray(0, headEnd).toString('latin1');
        const length = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? 0);
        if (this.received.length >= headEnd + 4 + length) {
          return { status: Number(head.slice(9, 12)), body: this.received.subarray(headEnd + 4, headEnd + 4 + length).toString() };
        }
      }
      if (this.closed) throw new Error('connection closed before a whole answer');
      if (Date.now() > until) throw new Error(`no answer within ${deadlineMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, until - Date.now());
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  /** Resolves true once the server closed the connection, false at the deadline. */
  async closedWithin(deadlineMs: number): Promise<boolean> {
    const until = Date.now() + deadlineMs;
    while (!this.closed && Date.now() < until) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, until - Date.now());
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    return this.closed;
  }
}

const metric = (text: string, name: string) => Number(new RegExp(`^${name}\\{[^}]*\\} (\\d+)`, 'm').exec(text)?.[1] ?? NaN);

t.test('300 slowloris connections: requests still answer in under a second; the header timeout cuts them off', async (t) => {
  const HEADERS_TIMEOUT_MS = 3_000;
  const node = await spawnNode(t, { extraArgs: ['--headers-timeout-ms', String(HEADERS_TIMEOUT_MS)] });
  const slow: Socket[] = [];
  let closedBy = 0;
  const opened = performance.now();
  for (let i = 0; i < 300; i++) {
    const socket = connect({ port: node.port, host: '127.0.0.1' });
    t.teardown(() => socket.destroy());
    socket.on('error', () => {});
    socket.on('close', () => (closedBy = Math.max(closedBy, performance.now() - opened)));
    socket.write(`GET /kv/slow-${i} HTTP/1.1\r\nHost: 127.0.0.1\r\n`);
    slow.push(socket);
  }
  // One more header line per connection every 250 ms, forever: the request never completes.
  let line = 0;
  const trickle = setInterval(() => {
    line++;
    for (const socket of slow) if (!socket.destroyed) socket.write(`X-Slow-${line}: a\r\n`);
  }, 250);
  t.teardown(() => clearInterval(trickle));

  const agent = new Agent({ connections: 4 });
  t.teardown(() => agent.close());
  await waitFor(async () => metric((await http(agent, 'GET', `${node.url}/metrics`)).body.toString(), 'ringkv_connections_open') >= 300, 5_000, 'the node to hold the 300 slow connections');
  const latencies: number[] = [];
  for (let i = 0; i < 30; i++) {
    const started = performance.now();
    const answer = i % 2 === 0
      ? await http(agent, 'PUT', `${node.url}/kv/normal-${i}`, { headers: { 'content-type': 'text/plain' }, body: `v${i}` })
      : await http(agent, 'GET', `${node.url}/kv/normal-${i - 1}`);
    latencies.push(performance.now() - started);
    t.equal(answer.status, i % 2 === 0 ? 204 : 200, `request ${i} answered`);
  }
  const stillOpen = slow.filter((s) => !s.destroyed).length;
  const max = Math.max(...latencies);
  t.comment(`30 requests beside ${stillOpen} slowloris connections: max ${max.toFixed(1)} ms, median ${latencies.sort((a, b) => a - b)[15]!.toFixed(1)} ms`);
  t.ok(stillOpen >= 250, `the slow connections were still open while measuring (${stillOpen})`);
  t.ok(max < 1_000, `every request answered in under 1000 ms (max ${max.toFixed(1)} ms)`);

  // The header timeout holds: every slow connection is closed within headersTimeout + the 1 s check.
  await waitFor(() => slow.every((s) => s.destroyed || s.readableEnded), HEADERS_TIMEOUT_MS + 10_000, 'the node to close every slow connection');
  t.comment(`last slow connection closed ${closedBy.toFixed(0)} ms after it was opened (headers timeout ${HEADERS_TIMEOUT_MS} ms)`);
  t.ok(closedBy < HEADERS_TIMEOUT_MS + 2_500, `closed by the header timeout, not later (${closedBy.toFixed(0)} ms)`);
  t.ok(pidAlive(node.pid), 'the node is still running');
});

t.test('--connections-max: new connections past the cap are closed at once and counted; open ones keep working', async (t) => {
  const CAP = 20;
  const node = await spawnNode(t, { extraArgs: ['--connections-max', String(CAP)] });
  const held: Connection[] = [];
  for (let i = 0; i < CAP; i++) {
    const connection = await Connection.open(t, node.port);
    t.equal((await connection.get('/admin/status')).status, 200, `connection ${i + 1} is served`);
    held.push(connection);
  }
  const extra = await Connection.open(t, node.port);
  t.ok(await extra.closedWithin(5_000), `connection ${CAP + 1} is closed by the node`);
  await t.rejects(extra.get('/admin/status', 1_000), 'and gets no answer');
  const metrics = await held[0]!.get('/metrics');
  t.equal(metrics.status, 200, 'an open connection still works at the cap');
  t.ok(metric(metrics.body, 'ringkv_connections_dropped_total') >= 1, `the drop is counted (ringkv_connections_dropped_total ${metric(metrics.body, 'ringkv_connections_dropped_total')})`);
  t.equal(metric(metrics.body, 'ringkv_connections_open'), CAP, `ringkv_connections_open is ${CAP}`);
  for (const connection of held.slice(0, 5)) connection.socket.destroy();
  const served = await waitFor(async () => {
    const again = await Connection.open(t, node.port);
    return (await again.get('/admin/status', 2_000).catch(() => undefined))?.status === 200;
  }, 10_000, 'a new connection to be served once others closed');
  t.ok(served, 'below the cap again, new connections are served');
});
