/**
 * The node processes of the multi-host tier: one `ringkv node` per host namespace, started from
 * the built CLI through `ip netns exec` (which execs in place, so the PID is the node's), bound
 * with `--host` to the host's own address (even hosts) or to 0.0.0.0 (odd hosts, as in a
 * container) and reachable at `--advertise` <its address>, on the same HTTP and gossip ports
 * on every host, each with every host's gossip address as its seeds (as a deployment would
 * list its machines). Every process is stopped by PID when the test ends (helpers/process.ts),
 * and HostNetwork.destroy kills whatever is left inside the namespaces.
 *
 * The operations the nemesis and the rolling restart apply: kill -9, SIGTERM (a drain),
 * SIGSTOP/SIGCONT, restart on the same data dir (optionally under libfaketime with the wall
 * clock shifted), nftables cuts, and the membership checks every heal waits for.
 */
import { DEFAULT_ADMIN_TOKEN, continueByPid, http, httpAgent, killByPid, spawnNode, tempDir, waitFor, waitExit, type NodeProcess, type TestLike } from '../helpers/process.js';
import { faketimeEnv } from '../helpers/faketime.js';
import { ruleset, type Link } from './firewall.js';
import { runAsync, type HostNetwork } from './network.js';

export const HTTP_PORT = 7070;
export const GOSSIP_PORT = 7946;

export type HostState = 'running' | 'stopped' | 'paused';

export interface Host {
  /** 1-based, as in the namespace's name. */
  readonly index: number;
  /** Changes when the host joins again as a new member (joinAsNew). */
  id: string;
  readonly address: string;
  readonly url: string;
  dir: string;
  proc: NodeProcess;
  state: HostState;
  /** The wall-clock offset it runs under (libfaketime), 0 for the real clock. */
  offsetMs: number;
}

type Agent = ReturnType<typeof httpAgent>;

export class NetnsCluster {
  private cut: ReadonlySet<Link> = new Set();
  /** Joins as a new member so far, per host index (for the next id). */
  private readonly joins = new Map<number, number>();

  private constructor(
    private readonly t: TestLike,
    readonly network: HostNetwork,
    readonly hosts: Host[],
    private readonly n: number,
    private readonly args: readonly string[],
    readonly agent: Agent,
  ) {}

  /** Starts a node on every host at once and waits until each sees all of them alive. */
  static async start(t: TestLike, network: HostNetwork, options: { n: number; args: readonly string[] }): Promise<NetnsCluster> {
    const agent = httpAgent(t);
    const placeholders = await Promise.all(
      Array.from({ length: network.hosts }, async (_, i) => {
        const index = i + 1;
        const address = network.names.hostAddress(index);
        return { index, id: `node${index}`, address, url: `http://${address}:${HTTP_PORT}`, dir: await tempDir(t, 'ringkv-netns-'), state: 'stopped' as HostState, offsetMs: 0 };
      }),
    );
    const cluster = new NetnsCluster(t, network, placeholders as Host[], options.n, options.args, agent);
    await Promise.all(cluster.hosts.map((host) => cluster.spawn(host, 0)));
    await cluster.waitMembershipHealed(60_000).catch((error: Error) => {
      throw new Error(`${error.message}; the nodes in the namespaces could not see each other: is bridged traffic dropped by the root namespace's firewall (net.bridge.bridge-nf-call-iptables with a FORWARD policy of DROP)?`);
    });
    return cluster;
  }

  private async spawn(host: Host, offsetMs: number): Promise<void> {
    const seeds = this.hosts.map((h) => `${h.address}:${GOSSIP_PORT}`).join(',');
    host.proc = await spawnNode(this.t, {
      id: host.id,
      dir: host.dir,
      port: HTTP_PORT,
      n: this.n,
      // Five nodes starting at once on a shared 2-core machine have taken over 20 s.
      startDeadlineMs: 90_000,
      prefix: this.network.execPrefix(host.index),
      // Odd hosts bind every address of their namespace (what a container does) and are
      // reachable only through --advertise; even hosts bind their own address.
      extraArgs: ['--host', host.index % 2 === 1 ? '0.0.0.0' : host.address, '--advertise', `${host.address}:${HTTP_PORT}`, '--gossip-port', String(GOSSIP_PORT), '--seeds', seeds, ...this.args],
      ...(offsetMs === 0 ? {} : { env: faketimeEnv(offsetMs) }),
    });
    if (host.proc.url !== host.url) throw new Error(`${host.id} serves ${host.proc.url}, expected ${host.url}`);
    host.state = 'running';
    host.offsetMs = offsetMs;
  }

  byId(id: string): Host {
    const host = this.hosts.find((h) => h.id === id);
    if (host === undefined) throw new Error(`no host ${id}`);
    return host;
  }

  running(): Host[] {
    return this.hosts.filter((h) => h.state === 'running');
  }

  async kill(host: Host): Promise<void> {
    if (host.state === 'paused') continueByPid(host.proc.pid);
    await killByPid(host.proc.pid);
    host.state = 'stopped';
  }

  /** SIGTERM, then waits for the exit; answers how long it took (SIGKILL after `deadlineMs`). */
  async terminate(host: Host, deadlineMs: number): Promise<{ exitMs: number; killed: boolean }> {
    const startedAt = Date.now();
    process.kill(host.proc.pid, 'SIGTERM');
    let killed = false;
    await waitExit(host.proc.child, deadlineMs).catch(async () => {
      killed = true;
      await killByPid(host.proc.pid);
    });
    host.state = 'stopped';
    return { exitMs: Date.now() - startedAt, killed };
  }

  pause(host: Host): void {
    process.kill(host.proc.pid, 'SIGSTOP');
    host.state = 'paused';
  }

  resume(host: Host): void {
    continueByPid(host.proc.pid);
    host.state = 'running';
  }

  /** Starts a stopped host's node again on its data dir, its wall clock `offsetMs` off. */
  async restart(host: Host, offsetMs = 0): Promise<void> {
    if (host.state !== 'stopped') throw new Error(`${host.id} is ${host.state}, not stopped`);
    await this.spawn(host, offsetMs);
  }

  /** Puts every host's nftables table in the state `cut` asks (an empty set heals), all hosts at once. */
  async applyCut(cut: ReadonlySet<Link>): Promise<void> {
    const address = (h: number) => this.network.names.hostAddress(h);
    await Promise.all(
      this.hosts.map(async (host) => {
        const after = ruleset(host.index, cut, address);
        if (ruleset(host.index, this.cut, address) === after) return;
        const [command, ...args] = this.network.execPrefix(host.index);
        await runAsync(command!, [...args, 'nft', '-f', '-'], after);
      }),
    );
    this.cut = cut;
  }

  /** What `host` says about every member (GET /admin/members). */
  async membersSeenBy(host: Host): Promise<Array<{ id: string; status: string }>> {
    const answer = await http(this.agent, 'GET', `${host.url}/admin/members`, { timeoutMs: 2_000, headers: { authorization: `Bearer ${DEFAULT_ADMIN_TOKEN}` } });
    return answer.json as Array<{ id: string; status: string }>;
  }

  /** True when every host runs and sees every host alive. */
  async membershipHealed(): Promise<boolean> {
    if (this.running().length !== this.hosts.length) return false;
    const views = await Promise.all(this.hosts.map((host) => this.membersSeenBy(host)));
    return views.every((view) => this.hosts.every((h) => view.find((m) => m.id === h.id)?.status === 'alive'));
  }

  /** Waits until the membership healed; answers the time it took. */
  async waitMembershipHealed(deadlineMs: number): Promise<number> {
    const startedAt = Date.now();
    await waitFor(() => this.membershipHealed(), deadlineMs, 'every host to see every host alive', 100);
    return Date.now() - startedAt;
  }

  /** Waits until `host` answers GET /readyz with 200; answers the time it took and the last reason it was not ready. */
  async waitReady(host: Host, deadlineMs: number): Promise<{ readyMs: number; lastReason: string }> {
    const startedAt = Date.now();
    let lastReason = '';
    await waitFor(async () => {
      const answer = await http(this.agent, 'GET', `${host.url}/readyz`, { timeoutMs: 2_000 });
      if (answer.status !== 200) lastReason = (answer.json as { error?: { message?: string } } | undefined)?.error?.message ?? String(answer.status);
      return answer.status === 200;
    }, deadlineMs, `${host.id} ready (GET /readyz 200)`, 50);
    return { readyMs: Date.now() - startedAt, lastReason };
  }

  /**
   * Asks `host`'s node to leave (POST /admin/leave): it leaves the ring at once and exits by
   * itself once it handed everything off; waits for that exit (killed by PID after
   * `deadlineMs`, and reported as such).
   */
  async leave(host: Host, deadlineMs: number): Promise<{ ms: number; killed: boolean }> {
    const askedAt = Date.now();
    const answer = await http(this.agent, 'POST', `${host.url}/admin/leave`, { timeoutMs: 10_000, headers: { authorization: `Bearer ${DEFAULT_ADMIN_TOKEN}` } });
    if (answer.status !== 202) throw new Error(`${host.id} refused to leave: ${answer.status} ${answer.body.toString()}`);
    let killed = false;
    await waitExit(host.proc.child, deadlineMs).catch(async () => {
      killed = true;
      await killByPid(host.proc.pid);
    });
    host.state = 'stopped';
    return { ms: Date.now() - askedAt, killed };
  }

  /** Starts a stopped host as a new member: the next free id `node<i>-j<k>`, an empty data dir. */
  async joinAsNew(host: Host): Promise<void> {
    if (host.state !== 'stopped') throw new Error(`${host.id} is ${host.state}, not stopped`);
    const base = `node${host.index}`;
    this.joins.set(host.index, (this.joins.get(host.index) ?? 0) + 1);
    host.id = `${base}-j${this.joins.get(host.index)}`;
    host.dir = await tempDir(this.t, 'ringkv-netns-');
    await this.spawn(host, 0);
  }
}
