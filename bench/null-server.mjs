#!/usr/bin/env node
// The do-nothing HTTP server, the ceiling of any Node store measured by the same load
// generator on the same cores: node:http, keep-alive, reads and discards each request body,
// answers GET with a fixed 100-byte body and 200, anything else with 204 (etcd's JSON gateway
// POSTs get 200 and `{}`). Prints one JSON line {"url": ...} once listening; SIGTERM stops it.
//   node bench/null-server.mjs [PORT (0 = OS-chosen)]
import { createServer } from 'node:http';

const value = Buffer.alloc(100, 120);
const server = createServer((req, res) => {
  req.on('data', () => {});
  req.on('end', () => {
    if (req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': value.length });
      res.end(value);
    } else if (req.method === 'POST') {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': 2 });
      res.end('{}');
    } else {
      res.writeHead(204);
      res.end();
    }
  });
});
server.keepAliveTimeout = 65_000;
server.listen(Number(process.argv[2] ?? 0), '127.0.0.1', () => {
  const { port } = server.address();
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${port}`, pid: process.pid })}\n`);
});
process.once('SIGTERM', () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
  setTimeout(() => process.exit(0), 2_000).unref();
});
