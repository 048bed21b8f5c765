/**
 * TLS against real processes (issue #18 acceptance): a 3-node ring started with --tls-cert,
 * --tls-key and --tls-ca serves HTTPS only, replicates over mutual TLS (w=3 and r=3 work, every
 * replica holds the value), plain HTTP to its port gets no data, and a node-to-node request
 * without a certificate from the ring's CA is refused even with a valid cluster signature.
 * Certificates are made with openssl in the test's temporary directory.
 */
import t from 'tap';
import { chmodSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { request as httpsRequest } from 'node:https';
import { CHALLENGE_PATH, newNonce, signChallengeRequest, signDial, STREAM_PATH, STREAM_PROTOCOL } from '@ringkv/node/testing';
import { Agent, request } from 'undici';
import { RingkvClient } from '@ringkv/client';
import { deriveKeys, helloNode, signRequest } from '@ringkv/node';
import { DEFAULT_SECRET, errorCode, http, nodeArgs, runCli, spawnNode, tempDir, waitFor, type NodeProcess, type TestLike } from '../helpers/process.js';
import { makeCa, makeNodeCert, type CertFiles } from '../helpers/tls-certs.js';

t.setTimeout(180_000);

function gossipAddressOf(node: NodeProcess): string {
  const line = node.logs.stdout.find((l) => l.includes('"node started"'))!;
  return (JSON.parse(line) as { gossipAddress: string }).gossipAddress;
}

function agentFor(t: TestLike, options: { ca?: Buffer; cert?: Buffer; key?: Buffer } = {}): Agent {
  const agent = new Agent({ connect: { ...options, rejectUnauthorized: options.ca !== undefined } });
  t.teardown(() => agent.close());
  return agent;
}

/** Bytes a plain-HTTP request to `port` gets back before the server closes the connection. */
function plainHttpAnswer(port: number, deadlineMs: number): Promise<{ bytes: Buffer; closed: boolean }> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ bytes: Buffer.concat(chunks), closed: false });
    }, deadlineMs);
    socket.on('connect', () => socket.write('GET /admin/status HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => {}); // a reset is an acceptable way to refuse
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ bytes: Buffer.concat(chunks), closed: true });
    });
  });
}

/** The status of a stream upgrade to `url` over TLS with `tls` (a 101 socket is closed at once). */
function upgradeStatus(url: string, tls: { ca: Buffer; cert?: Buffer; key?: Buffer }, headers: Record<string, string>): Promise<number> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = httpsRequest({ host: hostname, port: Number(port), path: STREAM_PATH, method: 'GET', agent: false, ...tls, headers: { connection: 'Upgrade', upgrade: STREAM_PROTOCOL, ...headers } });
    req.on('upgrade', (response, socket) => {
      socket.destroy();
      resolve(response.statusCode ?? 0);
    });
    req.on('response', (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error('no answer to the upgrade')));
    req.end();
  });
}

t.test('a 3-node ring over mutual TLS', async (t) => {
  const dir = await tempDir(t);
  const ca = makeCa(dir);
  const certs = ['node1', 'node2', 'node3'].map((name) => makeNodeCert(dir, ca, name));
  const tlsArgs = (c: CertFiles) => ['--tls-cert', c.cert, '--tls-key', c.key, '--tls-ca', ca.cert];
  const caPem = readFileSync(ca.cert);
  const first = await spawnNode(t, { id: 'node1', n: 3, extraArgs: tlsArgs(certs[0]!) });
  const rest = await Promise.all(
    [2, 3].map((i) => spawnNode(t, { id: `node${i}`, n: 3, extraArgs: ['--seeds', gossipAddressOf(first), ...tlsArgs(certs[i - 1]!)] })),
  );
  const ring = [first, ...rest];
  for (const node of ring) t.match(node.url, /^https:\/\/127\.0\.0\.1:\d+$/, `${node.id} advertises https://`);
  const agent = agentFor(t, { ca: caPem });
  for (const node of ring) {
    await waitFor(async () => {
      const status = (await http(agent, 'GET', `${node.url}/admin/status`)).json as { ringSize: number; members: { alive: number } };
      return status.ringSize === 3 && status.members.alive === 3;
    }, 60_000, `${node.id} to see 3 members alive over HTTPS`);
  }
  const members = (await http(agent, 'GET', `${first.url}/admin/members`)).json as Array<{ address: string }>;
  t.ok(members.every((m) => m.address.startsWith('https://')), 'every member address is https://');

  // w=3 and r=3: every replica answers over mutual TLS.
  const client = new RingkvClient({ urls: ring.map((n) => n.url), ca: caPem });
  t.teardown(() => client.close());
  for (let i = 0; i < 20; i++) await client.put(`tls-${i}`, `value-${i}`, { w: 3 });
  t.pass('20 PUTs with w=3 acknowledged');
  for (let i = 0; i < 20; i++) t.equal(Buffer.from((await client.get(`tls-${i}`, { r: 3 })).value!).toString(), `value-${i}`, `GET tls-${i} with r=3`);
  for (const node of ring) {
    const local = await http(agent, 'GET', `${node.url}/admin/local/tls-7`);
    t.equal(local.status, 200, `${node.id} holds its replica of tls-7`);
  }
  const transport = (await http(agent, 'GET', `${first.url}/metrics`)).body.toString();
  t.match(transport, /ringkv_transport_ops_sent_total\{[^}]*\} [1-9]/, 'node1 sent replica ops to its peers');

  // The CLI with --cacert.
  const cliGet = await runCli(t, ['get', 'tls-3', '--url', first.url, '--cacert', ca.cert]);
  t.equal(cliGet.stdout, 'value-3', 'ringkv get --cacert over HTTPS');
  const cliStatus = await runCli(t, ['status', '--url', first.url], 20_000, { RINGKV_CACERT: ca.cert });
  t.equal(cliStatus.code, 0, `ringkv status with RINGKV_CACERT: ${cliStatus.stderr}`);

  // Plain HTTP to the TLS port: no HTTP answer, no data, the connection is closed.
  const plain = await plainHttpAnswer(first.port, 10_000);
  t.ok(plain.closed, 'the node closes a plain-HTTP connection');
  t.notOk(plain.bytes.toString('latin1').includes('HTTP/'), `no HTTP response (${plain.bytes.length} bytes, a TLS alert at most)`);
  t.notOk(plain.bytes.toString('latin1').includes('node1'), 'and no data');
  await t.rejects(request(`http://127.0.0.1:${first.port}/admin/status`, { headersTimeout: 5_000 }), 'an HTTP client gets an error, not an answer');

  // A client that does not trust the ring's CA refuses the node's certificate.
  const untrusting = new RingkvClient({ urls: [first.url], keyAware: false, retries: 0 });
  t.teardown(() => untrusting.close());
  await t.rejects(untrusting.get('tls-1'), { code: 'KV_ERR_UNREACHABLE' }, 'a client without the CA cannot verify the node');

  // Node-to-node requests: a valid cluster signature is not enough without a certificate from the CA.
  const body = Buffer.from('not a batch');
  const peerAgent = agentFor(t, { ca: caPem, cert: readFileSync(certs[1]!.cert), key: readFileSync(certs[1]!.key) });
  // The request is signed for its receiver (its id and boot epoch, learned by a hello over mutual TLS).
  const receiver = await helloNode(first.url, DEFAULT_SECRET, 'node9', Date.now(), peerAgent);
  const signed = () => ({ 'content-type': 'application/octet-stream', ...signRequest(deriveKeys(DEFAULT_SECRET).internal, 'node9', receiver, '/internal/batch', body, Date.now()) });
  const noCert = await http(agent, 'POST', `${first.url}/internal/batch`, { headers: signed(), body });
  t.equal(noCert.status, 401, 'an internal request without a client certificate → 401');
  t.equal(errorCode(noCert), 'KV_ERR_UNAUTHORIZED');
  const rogueCa = makeCa(dir, 'rogue');
  const rogue = makeNodeCert(dir, rogueCa, 'rogue-node');
  const rogueAgent = agentFor(t, { ca: caPem, cert: readFileSync(rogue.cert), key: readFileSync(rogue.key) });
  const rogueAnswer = await http(rogueAgent, 'POST', `${first.url}/internal/batch`, { headers: signed(), body });
  t.equal(rogueAnswer.status, 401, 'with a certificate from another CA → 401');
  const peerAnswer = await http(peerAgent, 'POST', `${first.url}/internal/batch`, { headers: signed(), body });
  t.equal(peerAnswer.status, 400, 'with a node certificate the request passes to the signature and frame checks (400: not a batch)');
  t.equal(errorCode(peerAnswer), 'KV_ERR_BAD_REQUEST');

  // The same for the node-to-node stream (docs/transport.md), the default the ring above ran on.
  const streamKey = deriveKeys(DEFAULT_SECRET).stream;
  const challenge = async (dispatcher: Agent) => http(dispatcher, 'POST', `${first.url}${CHALLENGE_PATH}`, { headers: signChallengeRequest(streamKey, 'node9', Date.now(), newNonce()) });
  t.equal((await challenge(agent)).status, 401, 'a stream challenge without a client certificate → 401');
  const issued = (await challenge(peerAgent)).json as { node: string; epoch: string; challenge: string };
  const dial = (c: string) => signDial(streamKey, { sender: 'node9', to: { id: issued.node, epoch: issued.epoch }, challenge: c, nonce: newNonce() });
  t.equal(await upgradeStatus(first.url, { ca: caPem }, dial(issued.challenge)), 401, 'a signed stream upgrade without a client certificate → 401');
  t.equal(await upgradeStatus(first.url, { ca: caPem, cert: readFileSync(rogue.cert), key: readFileSync(rogue.key) }, dial(issued.challenge)), 401, 'with a certificate from another CA → 401');
  const fresh = (await challenge(peerAgent)).json as { challenge: string };
  t.equal(await upgradeStatus(first.url, { ca: caPem, cert: readFileSync(certs[1]!.cert), key: readFileSync(certs[1]!.key) }, dial(fresh.challenge)), 101, 'with a node certificate and the handshake: 101, a stream over mutual TLS');
});

t.test('bad TLS files stop a node at start-up with one coded line', async (t) => {
  const dir = await tempDir(t);
  const ca = makeCa(dir);
  const one = makeNodeCert(dir, ca, 'one');
  const two = makeNodeCert(dir, ca, 'two');
  const cases: Array<[name: string, args: string[], reason: RegExp]> = [
    ['a key that does not match the certificate', ['--tls-cert', one.cert, '--tls-key', two.key], /do not form a usable identity/],
    ['a missing certificate file', ['--tls-cert', `${dir}/none.crt`, '--tls-key', one.key], /cannot read/],
    ['a certificate without its key', ['--tls-cert', one.cert], /tlsKey must be given together|tlsCert and tlsKey/],
    ['a CA without a certificate', ['--tls-ca', ca.cert], /tlsCa needs --tls-cert/],
  ];
  for (const [name, args, reason] of cases) {
    const run = await runCli(t, nodeArgs({ dir: `${dir}/data-${cases.findIndex((c) => c[0] === name)}`, extraArgs: args }));
    t.equal(run.code, 2, `${name}: exit 2`);
    t.match(run.stderr.trim(), /^ringkv: cannot start: KV_ERR_CONFIG: [^\n]+$/, `${name}: one coded line`);
    t.match(run.stderr, reason, `${name}: says why`);
  }
  chmodSync(one.key, 0o644);
  const exposed = await runCli(t, nodeArgs({ dir: `${dir}/data-exposed`, extraArgs: ['--tls-cert', one.cert, '--tls-key', one.key] }));
  t.equal(exposed.code, 2, 'a world-readable key is refused');
  t.match(exposed.stderr, /other users can access it \(mode 644\)/);
});
