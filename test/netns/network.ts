/**
 * The tier's network (issue 16, point 6): K "hosts", each a network namespace with one veth
 * pair into a bridge in the root namespace and its own address on a private /24, and the root
 * namespace's own address on that bridge, from which the clients and the test's admin requests
 * go. Every host therefore runs its node on the same ports, as real machines do.
 *
 * Cleanup, also on failure: `destroy` kills whatever still runs inside the run's namespaces (by
 * PID, as `ip netns pids` lists them; a process inside keeps a deleted namespace and its veth
 * alive), then deletes the namespaces (their nftables tables go with them) and the links. The
 * test calls it from t.teardown and from the process's 'exit' handler. `sweepStale` removes
 * what a crashed run left behind: names with this tier's prefix whose tag's PID no longer runs
 * node (or is this process: a leftover from an earlier run that had our PID).
 */
import { execFile, execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { pidAlive } from '../helpers/process.js';
import { PREFIX, chooseSubnet, pidOfTag, runNames, tagInName, type RunNames } from './names.js';

/** Runs a command; throws with its stderr. */
export function run(command: string, args: readonly string[], input?: string): string {
  try {
    return execFileSync(command, args, { encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'], timeout: 30_000, ...(input === undefined ? {} : { input }) });
  } catch (error) {
    const failure = error as { stderr?: string; message: string };
    throw new Error(`${command} ${args.join(' ')}: ${failure.stderr?.trim() || failure.message}`);
  }
}

/**
 * Runs a command without blocking the event loop (while the workload runs: a synchronous exec
 * would stall every client and show up as latency); rejects with its stderr.
 */
export function runAsync(command: string, args: readonly string[], input: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(command, args, { encoding: 'utf8', timeout: 30_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${command} ${args.join(' ')}: ${stderr.trim() || error.message}`));
      else resolve(stdout);
    });
    child.stdin!.end(input);
  });
}

/** Runs a command whose failure only means "already gone". */
function quietly(command: string, args: readonly string[]): void {
  try {
    execFileSync(command, args, { stdio: 'pipe', timeout: 30_000 });
  } catch {
    // Already gone.
  }
}

/** PIDs of the processes inside a namespace (none when it is gone). */
function pidsIn(namespace: string): number[] {
  try {
    return execFileSync('ip', ['netns', 'pids', namespace], { encoding: 'utf8', stdio: 'pipe', timeout: 10_000 }).split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** SIGKILLs every process in `namespaces`, by PID, and waits (bounded) until they are gone. */
function killInside(namespaces: readonly string[]): void {
  const pids = namespaces.flatMap(pidsIn);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  const until = Date.now() + 10_000;
  while (pids.some(pidAlive) && Date.now() < until) execFileSync('sleep', ['0.05']); // synchronous: this also runs in an 'exit' handler
}

export class HostNetwork {
  private destroyed = false;

  private constructor(
    readonly names: RunNames,
    readonly hosts: number,
  ) {}

  /** Makes the bridge, the namespaces and the veth pairs; undoes what it made if a step fails. */
  static create(hosts: number): HostNetwork {
    const routes = (JSON.parse(run('ip', ['-j', '-4', 'route', 'show', 'table', 'all'])) as Array<{ dst: string }>).map((route) => route.dst);
    const network = new HostNetwork(runNames(process.pid, chooseSubnet(process.pid, routes)), hosts);
    try {
      network.build();
    } catch (error) {
      network.destroy();
      throw error;
    }
    return network;
  }

  private build(): void {
    const { names } = this;
    run('ip', ['link', 'add', names.bridge, 'type', 'bridge']);
    run('ip', ['addr', 'add', `${names.clientAddress}/24`, 'dev', names.bridge]);
    run('ip', ['link', 'set', names.bridge, 'up']);
    for (let host = 1; host <= this.hosts; host++) {
      const namespace = names.namespace(host);
      run('ip', ['netns', 'add', namespace]);
      run('ip', ['link', 'add', names.hostVeth(host), 'type', 'veth', 'peer', 'name', names.peerVeth(host)]);
      run('ip', ['link', 'set', names.peerVeth(host), 'netns', namespace]);
      run('ip', ['link', 'set', names.hostVeth(host), 'master', names.bridge, 'up']);
      run('ip', ['-n', namespace, 'link', 'set', names.peerVeth(host), 'name', 'eth0']);
      run('ip', ['-n', namespace, 'addr', 'add', `${names.hostAddress(host)}/24`, 'dev', 'eth0']);
      run('ip', ['-n', namespace, 'link', 'set', 'eth0', 'up']);
      run('ip', ['-n', namespace, 'link', 'set', 'lo', 'up']);
    }
  }

  /** `ip netns exec <namespace of host>`: the prefix that runs a command on a host. */
  execPrefix(host: number): string[] {
    return ['ip', 'netns', 'exec', this.names.namespace(host)];
  }

  /** Removes every process, namespace and link of this run. Idempotent and synchronous. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    const namespaces = Array.from({ length: this.hosts }, (_, i) => this.names.namespace(i + 1));
    killInside(namespaces);
    for (const namespace of namespaces) quietly('ip', ['netns', 'del', namespace]);
    for (let host = 1; host <= this.hosts; host++) quietly('ip', ['link', 'del', this.names.hostVeth(host)]);
    quietly('ip', ['link', 'del', this.names.bridge]);
  }

  /** What of this run is still there (for the test's check that cleanup worked). */
  leftovers(): string[] {
    return [...listNamespaces(), ...listLinks()].filter((name) => tagInName(name) === this.names.tag);
  }
}

function listNamespaces(): string[] {
  return run('ip', ['netns', 'list']).split('\n').map((line) => line.split(' ')[0]!).filter(Boolean);
}

function listLinks(): string[] {
  return (JSON.parse(run('ip', ['-j', 'link', 'show'])) as Array<{ ifname: string }>).map((link) => link.ifname);
}

/** True when the run that owns `tag` is gone: its PID is dead, is us, or no longer runs node. */
function staleTag(tag: string): boolean {
  const pid = pidOfTag(tag);
  if (pid === process.pid || !pidAlive(pid)) return true;
  try {
    return !readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('node');
  } catch {
    return true;
  }
}

/** Removes every namespace and link of this tier left by runs that are gone; answers their names. */
export function sweepStale(): string[] {
  const namespaces = listNamespaces().filter((name) => name.startsWith(PREFIX) && tagInName(name) !== undefined && staleTag(tagInName(name)!));
  killInside(namespaces);
  for (const namespace of namespaces) quietly('ip', ['netns', 'del', namespace]);
  const links = listLinks().filter((name) => tagInName(name) !== undefined && staleTag(tagInName(name)!));
  // Host-side veths first (deleting one deletes its peer), then bridges.
  for (const link of links.sort((a, b) => Number(a.endsWith('b')) - Number(b.endsWith('b')))) quietly('ip', ['link', 'del', link]);
  return [...namespaces, ...links];
}
