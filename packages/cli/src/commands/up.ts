/**
 * `ringkv up`: starts a local ring of K node processes (default 3) on 127.0.0.1 (HTTP ports P..P+K-1, data
 * under D; gossip on P+1000..), the first alone and the others joining through its gossip
 * address, prints each node's URL once every node sees every member alive, and stops them all
 * on Ctrl-C or SIGTERM.
 * The nodes share one cluster secret, kept in D/cluster-secret so restarts keep it.
 */
import { join, resolve } from 'node:path';
import { ADMIN_TOKEN_FILE, resolveAdminToken, resolveSecret } from '@ringkv/node';
import { intOption, parse, UsageError } from '../args.js';
import { Progress } from '../progress.js';
import { nodeSpecs, spawnNode, stopNodes, waitConverged, waitReady, type RunningNode } from '../local-ring.js';

export async function runUp(argv: string[]): Promise<number> {
  const { values } = parse(argv, { nodes: { type: 'string' }, n: { type: 'string' }, port: { type: 'string' }, dir: { type: 'string' } });
  const count = intOption(values.nodes, 'nodes', 3, 1, 64)!;
  const n = intOption(values.n, 'n', Math.min(3, count), 1, 16)!;
  if (n > count) throw new UsageError(`--n ${n} needs at least ${n} nodes (got --nodes ${count})`);
  const basePort = intOption(values.port, 'port', 7070, 0, 65535 - count + 1)!; // 0: OS-chosen ports
  const dir = resolve(values.dir ?? 'data');
  process.umask(0o077); // the ring's directory, secrets and logs are private to this user
  const secret = resolveSecret({ dataDir: dir }, process.env);
  // One admin token for every node, kept in D/admin-token: the admin commands find it there.
  const adminToken = resolveAdminToken(undefined, dir, process.env);
  const env = { RINGKV_ADMIN_TOKEN: adminToken };

  // The first node starts alone; the others join through its gossip address (SWIM).
  const specs = nodeSpecs(count, basePort, dir);
  const nodes: RunningNode[] = [spawnNode(specs[0]!, { n, secret, env })];
  let stopping = false;
  const stop = async (why: string) => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`ringkv up: ${why}: stopping ${nodes.length} node(s)\n`);
    await stopNodes(nodes);
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));

  // Progress on stderr: rewritten in place on a terminal, a line per change (at most every 2 s) otherwise.
  const progress = new Progress(process.stderr, Date.now);
  try {
    progress.update(`waiting: ${nodes[0]!.id} starting…`);
    await waitReady(nodes[0]!, 30_000);
    nodes.push(...specs.slice(1).map((spec) => spawnNode(spec, { n, secret, env, seeds: [nodes[0]!.gossipAddress] })));
    let ready = 0;
    await Promise.all(nodes.map((node) => waitReady(node, 30_000).then(() => progress.update(`waiting: ${++ready}/${count} nodes started…`))));
    await waitConverged(nodes, count, 30_000, (converged, total) => progress.update(`waiting: ${converged}/${total} nodes see all members alive…`));
    progress.done();
  } catch (error) {
    progress.done();
    process.stderr.write(`ringkv up: ${(error as Error).message}\n`);
    stopping = true;
    await stopNodes(nodes);
    return 1;
  }
  for (const node of nodes) {
    node.child.once('exit', (code, signal) => {
      if (!stopping) process.stderr.write(`ringkv up: node ${node.id} (pid ${node.child.pid}) exited (${code ?? signal}); see ${node.logFile}\n`);
    });
  }
  process.stdout.write(`ringkv: ring of ${count} node(s) up, N=${n}, data in ${dir}\n`);
  const tokenAt = process.env.RINGKV_ADMIN_TOKEN ? 'RINGKV_ADMIN_TOKEN (from the environment)' : join(dir, ADMIN_TOKEN_FILE);
  process.stdout.write(`admin token: ${tokenAt} (ringkv leave/remove/transfers read it; curl: -H "Authorization: Bearer $(cat ${join(dir, ADMIN_TOKEN_FILE)})")\n`);
  for (const node of nodes) process.stdout.write(`  ${node.id}  ${node.url}  pid ${node.child.pid}\n`);
  process.stdout.write('Ctrl-C stops the ring.\n');
  await new Promise(() => {}); // Serve until a signal arrives.
  return 0;
}
