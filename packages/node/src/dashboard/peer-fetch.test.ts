// PeerFetch (peer-fetch.ts) against real loopback servers on OS-chosen ports: a JSON answer,
// the forwarded Authorization header, and every way a peer can fail it (silent, too large,
// not JSON, refused) ends as a coded answer within the deadline, never a throw.
import t, { type Test } from 'tap';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PeerFetch } from './peer-fetch.js';

async function serve(t: Test, handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

t.test('a JSON answer, with the caller\'s Authorization forwarded as it came', async (t) => {
  const seen: Array<string | undefined> = [];
  const address = await serve(t, (req, res) => {
    seen.push(req.headers.authorization);
    res.writeHead(req.url === '/admin/dashboard/self' ? 200 : 404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ path: req.url }));
  });
  const peers = new PeerFetch({ timeoutMs: 2_000, responseBytesMax: 1 << 20 });
  t.teardown(() => peers.close());
  t.same(await peers.get(address, '/admin/dashboard/self', 'Bearer abc'), { status: 200, json: { path: '/admin/dashboard/self' } });
  t.same(await peers.get(address, '/admin/local/a%2Fb', undefined), { status: 404, json: { path: '/admin/local/a%2Fb' } }, 'the path is sent as given');
  t.same(seen, ['Bearer abc', undefined], 'no Authorization of its own is ever added');
});

t.test('a silent, oversized, non-JSON or absent peer is an answer with an error, within the deadline', async (t) => {
  const address = await serve(t, (req, res) => {
    if (req.url === '/silent') return; // never answers
    if (req.url === '/large') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ pad: 'x'.repeat(10_000) }));
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end('<html>');
  });
  const peers = new PeerFetch({ timeoutMs: 500, responseBytesMax: 1_000 });
  t.teardown(() => peers.close());
  const started = Date.now();
  const silent = await peers.get(address, '/silent', undefined);
  t.equal(silent.status, 0);
  t.match(silent.error, /^no answer/);
  t.ok(Date.now() - started < 5_000, 'given up at about the deadline');
  const large = await peers.get(address, '/large', undefined);
  t.equal(large.json, undefined, 'an answer over the size limit is not read');
  t.ok(large.error !== undefined);
  t.match(await peers.get(address, '/html', undefined), { status: 200, error: 'the answer is not JSON' });
  // A port nobody listens on: bind one, note it, close it.
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  t.match(await peers.get(`http://127.0.0.1:${port}`, '/admin/dashboard/self', undefined), { status: 0, error: /^no answer \(ECONNREFUSED\)/ });
});
