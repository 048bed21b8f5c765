// The lingering close on real loopback sockets: the answer reaches a client that is still
// sending, and the connection still ends, by the client's close, the bytes bound or the time bound.
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import t, { type Test } from 'tap';
import { closeLingering, LINGER_BYTES_MAX, LINGER_MS } from './lingering-close.js';

const ANSWER = 'HTTP/1.1 413 Payload Too Large\r\nconnection: close\r\ncontent-length: 0\r\n\r\n';

/** A server that answers after the first bytes and closes as Node's HTTP server does (destroySoon). */
async function answeringServer(t: Test): Promise<{ port: number; closed: Promise<{ bytesRead: number }> }> {
  let resolveClosed!: (value: { bytesRead: number }) => void;
  const closed = new Promise<{ bytesRead: number }>((resolve) => (resolveClosed = resolve));
  const server: Server = createServer((socket) => {
    closeLingering(socket);
    socket.once('close', () => resolveClosed({ bytesRead: socket.bytesRead }));
    socket.once('data', () => {
      socket.write(ANSWER);
      socket.destroySoon();
    });
    socket.resume();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { port: (server.address() as { port: number }).port, closed };
}

/** `halfOpen`: the client does not close its side when the server closes its own (it may keep sending). */
function connect(t: Test, port: number, halfOpen = false): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ port, host: '127.0.0.1', allowHalfOpen: halfOpen }, () => resolve(socket));
    socket.once('error', reject);
    t.teardown(() => socket.destroy());
  });
}

/** Everything the client received until its connection ended or failed. */
function received(socket: Socket): Promise<{ text: string; error?: string }> {
  let text = '';
  socket.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
  return new Promise((resolve) => {
    socket.once('error', (error: NodeJS.ErrnoException) => resolve({ text, error: error.code }));
    socket.once('close', () => resolve({ text }));
  });
}

t.test('a client that keeps sending and never closes gets the whole answer, and the connection still ends', async (t) => {
  const { port, closed } = await answeringServer(t);
  const socket = await connect(t, port, true);
  socket.on('error', () => {}); // a reset, once the server gives up on it
  const got = received(socket);
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  const started = Date.now();
  // Bounded in bytes and time; paced, so the server's bytes check (every 100 ms) can see it pass.
  for (let sent = 0; sent < 64 * 1024 * 1024 && Date.now() - started < LINGER_MS + 3_000 && !socket.destroyed && socket.writable; sent += chunk.length) {
    if (!socket.write(chunk)) await new Promise((resolve) => socket.once('drain', resolve).once('close', resolve));
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  const server = await closed;
  t.ok(Date.now() - started < LINGER_MS + 3_000, `the server closed while the client was still sending (after ${server.bytesRead} bytes, ${Date.now() - started} ms)`);
  socket.destroy();
  t.equal((await got).text, ANSWER, 'the answer arrived whole');
});

t.test('a client that stops and closes after the answer: the connection ends at once, not after the time bound', async (t) => {
  const { port, closed } = await answeringServer(t);
  const socket = await connect(t, port);
  const got = received(socket);
  socket.write('PUT /kv/x HTTP/1.1\r\n');
  const started = Date.now();
  socket.once('data', () => socket.end());
  const result = await got;
  t.equal(result.text, ANSWER, 'the answer arrived whole');
  t.equal(result.error, undefined, 'closed, not reset');
  await closed;
  t.ok(Date.now() - started < LINGER_MS, 'the server closed on the client\'s close, before its time bound');
});

t.test('a client that neither sends nor closes: the server closes after the time bound', async (t) => {
  const { port, closed } = await answeringServer(t);
  const socket = await connect(t, port, true);
  const got = received(socket);
  socket.write('x');
  const started = Date.now();
  await closed;
  t.ok(Date.now() - started >= LINGER_MS - 100, 'not before the time bound (the client had not closed)');
  socket.end();
  t.equal((await got).text, ANSWER, 'the answer arrived whole');
});
