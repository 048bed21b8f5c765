/**
 * The fault harness's ring of real node processes (issue 6, membership changes from issue
 * 19): which ids are ring members, which process runs each, and the operations a nemesis
 * applies to them: kill -9 and restart (on the old data dir, or a wiped one, under a shifted
 * wall clock), SIGSTOP/SIGCONT, partitions through each node's fault layer, joins, graceful
 * leaves and operator removes. Every wait has a deadline; every process is stopped by PID
 * when the test ends (helpers/process.ts).
 *
 * A member is `inRing` from its start until it leaves or is removed; after that its id is
 * never started again (a removed or departed identity returning is its own fault, not one
 * this harness injects). The harness keeps at least 3 ring members so N = 3 holds.
 */
import { mkdir, rm } from 'node:fs/promises';
import { RingkvClient } from '@ringkv/client';
import { internalHeaders } from '@ringkv/node';
import { DEFAULT_SECRET, continueByPid, http, httpAgent, killByPid, spawnNode, tempDir, waitFor, type NodeProcess, type TestLike, stopByPid } from '../helpers/process.js';
import { gossipAddressOf, membersSeenBy, respawnNode, waitConverged } from '../helpers/ring.js';
import { faketimeEnv } from '../helpers/faketime.js';

export type MemberState = 'running' | 'stopped' | 'paused' | 'leaving' | 'gone';

export interface Member {
  readonly id: string;
  proc: NodeProcess;
  state: MemberState;
  /** False once the member left or was removed. */
  inRing: boolean;
  /** The wall-clock offset it runs under (libfaketime), 0 for the real clock. */
  offsetMs: number;
}

export interface ClusterOptions {
  readonly nodes: number;
  readonly n: number;
  /** Arguments every node gets (fault injection, grace, intervals). */
  readonly args: readonly string[];
}

type Agent = ReturnType<typeof httpAgent>;

export class FaultCluster {
  readonly members: Member[] = [];
  private readonly clients: RingkvClient[] = [];
  private current: RingkvClient | undefined;
  private nextId: number;

  private constructor(
    private readonly t: TestLike,
    private readonly options: ClusterOptions,
    readonly agent: Agent,
  ) {
    this.nextId = options.nodes + 1;
  }

  /** Starts `nodes` processes (node1 alone, the rest joining through it) and waits for convergence. */
  static async start(t: TestLike, options: ClusterOptions): Promise<FaultCluster> {
    const cluster = new FaultCluster(t, options, httpAgent(t));
    const first = await spawnNode(t, { id: 'node1', n: options.n, extraArgs: options.args });
    const seed = gossipAddressOf(first);
    const rest = await Promise.all(
      Array.from({ length: options.nodes - 1 }, (_, i) => spawnNode(t, { id: `node${i + 2}`, n: options.n, extraArgs: ['--seeds', seed, ...options.args] })),
    );
    for (const proc of [first, ...rest]) cluster.members.push({ id: proc.id, proc, state: 'running', inRing: true, offsetMs: 0 });
    await cluster.converged(30_000);
    return cluster;
  }

  /** Ring members (not left, not removed), whatever their process is doing. */
  ring(): Member[] {
    return this.members.filter((m) => m.inRing);
  }

  /** Ring members whose process runs and answers (not stopped, not paused). */
  up(): Member[] {
    return this.members.filter((m) => m.inRing && m.state === 'running');
  }

  /**
   * A client over the running ring members; a new one after each membership change (the old
   * ones stay usable and are closed when the test ends). Key-aware routing follows the ring.
   */
  client(): RingkvClient {
    if (this.current === undefined) {
      this.current = new RingkvClient({ urls: this.up().map((m) => m.proc.url), timeoutMs: 2_000, retries: 4 });
      this.clients.push(this.current);
    }
    return this.current;
  }

  private membershipChanged(): void {
    this.current = undefined;
  }

  async close(): Promise<void> {
    await Promise.all(this.clients.map((client) => client.close()));
  }

  /** Waits until every running ring member sees exactly the ring members, all alive. */
  async converged(deadlineMs: number): Promise<void> {
    await waitConverged(this.t, this.up().map((m) => m.proc), this.ring().length, deadlineMs);
  }

  /**
   * Cuts traffic between `side` and the other running members, both ways (an empty side
   * heals). A member that cannot be told (stopped, exiting) is skipped: its own plan died with
   * its process, and a restarted process starts with none.
   */
  async partition(side: ReadonlySet<string>): Promise<void> {
    const reachable = this.members.filter((m) => m.state === 'running' || m.state === 'leaving');
    for (const member of reachable) {
      const block = side.size === 0 ? [] : reachable.filter((other) => side.has(other.id) !== side.has(member.id)).map((other) => other.id);
      await this.setFaults(member, { block });
    }
  }

  /**
   * Sends `plan` to `member`'s fault layer (POST /internal/faults, signed for it: one hello
   * first). A member that cannot be told (stopped, exiting) is skipped.
   */
  private async setFaults(member: Member, plan: { block?: string[]; storeDelayMs?: number }): Promise<void> {
    const body = Buffer.from(JSON.stringify(plan));
    try {
      const headers = { 'content-type': 'application/json', ...(await internalHeaders(member.proc.url, DEFAULT_SECRET, 'nemesis', '/internal/faults', body)) };
      const answer = await http(this.agent, 'POST', `${member.proc.url}/internal/faults`, { headers, body, timeoutMs: 5_000 });
      if (answer.status !== 200 && member.state === 'running') throw new Error(`${member.id} refused the fault plan: ${answer.status} ${answer.body.toString()}`);
    } catch (error) {
      if (member.state === 'running' && member.proc.child.exitCode === null) throw error;
    }
  }

  /** Makes `member`'s store `delayMs` slow (0: normal again) through its fault layer. */
  slowStore(member: Member, delayMs: number): Promise<void> {
    return this.setFaults(member, { storeDelayMs: delayMs });
  }

  pause(member: Member): void {
    process.kill(member.proc.pid, 'SIGSTOP');
    member.state = 'paused';
  }

  resume(member: Member): void {
    continueByPid(member.proc.pid);
    if (member.state === 'paused') member.state = 'running';
  }

  /** SIGTERM: the node drains (peers told, served a moment more) and exits; SIGKILL only if it hangs. */
  async drain(member: Member): Promise<void> {
    await stopByPid(member.proc.pid, 10_000);
    member.state = 'stopped';
  }

  async kill(member: Member): Promise<void> {
    await killByPid(member.proc.pid);
    member.state = 'stopped';
  }

  /**
   * Starts a stopped member again as the same id on its ports: on its data dir, or on an
   * emptied one (`wipe`: a lost disk), with its wall clock `offsetMs` off (0: the real clock).
   * Waits until every running member sees it alive.
   */
  async restart(member: Member, options: { wipe?: boolean; offsetMs?: number } = {}): Promise<void> {
    if (options.wipe) {
      await rm(member.proc.dir, { recursive: true, force: true });
      await mkdir(member.proc.dir, { recursive: true });
    }
    const offsetMs = options.offsetMs ?? 0;
    const others = this.up().filter((m) => m !== member).map((m) => m.proc);
    member.proc = await respawnNode(this.t, member.proc, others, this.options.n, this.options.args, offsetMs === 0 ? {} : { env: faketimeEnv(offsetMs) });
    member.offsetMs = offsetMs;
    member.state = 'running';
    this.membershipChanged(); // its URL is the same, but a client may have given up its pool
    await this.seenAlive(member, 60_000);
  }

  /** Waits until every other running ring member lists `member` as alive. */
  async seenAlive(member: Member, deadlineMs: number): Promise<void> {
    await this.seenAs(member.id, ['alive'], deadlineMs);
  }

  /** Waits until every running ring member (but `id` itself) lists `id` with one of `statuses`. */
  async seenAs(id: string, statuses: readonly string[], deadlineMs: number): Promise<void> {
    for (const observer of this.up().filter((m) => m.id !== id)) {
      await waitFor(async () => {
        const status = (await membersSeenBy(this.agent, observer.proc)).find((m) => m.id === id)?.status ?? 'absent';
        return statuses.includes(status) || undefined;
      }, deadlineMs, `${observer.id} sees ${id} as ${statuses.join(' or ')}`);
    }
  }

  /**
   * A new member with a fresh id joins through a running member: on a fresh data dir, or
   * (`reuse`) on the emptied data dir and the ports of a member that is gone, as when a
   * machine whose disk was lost comes back as a new member.
   */
  async join(options: { offsetMs?: number; reuse?: Member } = {}): Promise<Member> {
    const id = `node${this.nextId++}`;
    const offsetMs = options.offsetMs ?? 0;
    const seed = gossipAddressOf(this.up()[0]!.proc);
    let dir: string;
    let ports: { port?: number; gossip: string[] } = { gossip: [] };
    if (options.reuse === undefined) {
      dir = await tempDir(this.t);
    } else {
      dir = options.reuse.proc.dir;
      await rm(dir, { recursive: true, force: true });
      await mkdir(dir, { recursive: true });
      ports = { port: options.reuse.proc.port, gossip: ['--gossip-port', gossipAddressOf(options.reuse.proc).split(':').at(-1)!] };
    }
    const proc = await spawnNode(this.t, {
      id,
      dir,
      n: this.options.n,
      ...(ports.port === undefined ? {} : { port: ports.port }),
      extraArgs: ['--seeds', seed, ...ports.gossip, ...this.options.args],
      ...(offsetMs === 0 ? {} : { env: faketimeEnv(offsetMs) }),
    });
    const member: Member = { id, proc, state: 'running', inRing: true, offsetMs };
    this.members.push(member);
    this.membershipChanged();
    await this.seenAlive(member, 60_000);
    return member;
  }

  /**
   * Asks `member` to leave (POST /admin/leave): it leaves the ring at once and its process
   * exits by itself once it handed everything off. Returns a promise for that exit (bounded by
   * `deadlineMs`; a node still running then is reported, not killed).
   */
  async leave(member: Member, deadlineMs: number): Promise<{ exited: boolean; code: number | null; ms: number }> {
    const askedAt = Date.now();
    const answer = await http(this.agent, 'POST', `${member.proc.url}/admin/leave`, { timeoutMs: 10_000 });
    if (answer.status !== 202) throw new Error(`${member.id} refused to leave: ${answer.status} ${answer.body.toString()}`);
    member.inRing = false;
    member.state = 'leaving';
    this.membershipChanged();
    const exited = await waitFor(() => member.proc.child.exitCode !== null || member.proc.child.signalCode !== null || undefined, deadlineMs, `${member.id} to finish leaving`).catch(() => false);
    if (exited) member.state = 'gone';
    return { exited: Boolean(exited), code: member.proc.child.exitCode, ms: Date.now() - askedAt };
  }

  /**
   * An operator's remove: kill `member`, wait until every running member sees it dead, then
   * POST /admin/remove on one of them and wait until all see it gone from the ring.
   */
  async remove(member: Member): Promise<void> {
    await this.kill(member);
    await this.seenAs(member.id, ['dead'], 60_000);
    const via = this.up().find((m) => m !== member)!;
    const answer = await http(this.agent, 'POST', `${via.proc.url}/admin/remove?id=${member.id}`, { timeoutMs: 10_000 });
    if (answer.status !== 200) throw new Error(`remove ${member.id} via ${via.id}: ${answer.status} ${answer.body.toString()}`);
    member.inRing = false;
    member.state = 'gone';
    this.membershipChanged();
    await this.seenAs(member.id, ['left', 'absent', 'removed'], 60_000);
  }

  /** The member with this id, if any. */
  byId(id: string): Member | undefined {
    return this.members.find((m) => m.id === id);
  }

  /**
   * One anti-entropy round on demand (POST /admin/anti-entropy: an exchange with every
   * partner) on every running member, repeated (at most 3 rounds) until one ends without a
   * failed exchange. Answers the keys moved and the rounds run.
   */
  async repair(): Promise<{ keys: number; rounds: number; failures: number }> {
    let keys = 0;
    let failures = 0;
    let round = 0;
    while (round < 3) {
      round++;
      failures = 0;
      for (const member of this.up()) {
        try {
          const answer = await http(this.agent, 'POST', `${member.proc.url}/admin/anti-entropy`, { timeoutMs: 120_000 });
          const reports = (answer.json as { exchanges?: Array<{ keysIn: number; keysOut: number; error?: string }> } | undefined)?.exchanges ?? [];
          if (answer.status !== 200) failures++;
          for (const report of reports) {
            keys += report.keysIn + report.keysOut;
            if (report.error !== undefined) failures++;
          }
        } catch {
          failures++;
        }
      }
      if (failures === 0) break;
    }
    return { keys, rounds: round, failures };
  }

  /** How many keys `member` still has to hand off (0 when it does not answer). */
  async transfersPending(member: Member): Promise<number> {
    try {
      return ((await http(this.agent, 'GET', `${member.proc.url}/admin/status`, { timeoutMs: 5_000 })).json as StatusView).transfers.pending;
    } catch {
      return 0;
    }
  }

  /**
   * Heals every fault: resumes paused processes, clears partitions, puts every member running
   * under a shifted clock back on the real one, restarts stopped ring members, waits (bounded)
   * for leaving members to exit, then for gossip to converge. Answers what it had to wait for
   * in vain (reported by the harness; convergence itself throws when it fails).
   */
  async heal(): Promise<string[]> {
    const problems: string[] = [];
    for (const member of this.members) if (member.state === 'paused') this.resume(member);
    await this.partition(new Set());
    for (const member of this.ring()) {
      if (member.state === 'running' && member.offsetMs !== 0) await this.kill(member);
      if (member.state === 'stopped') await this.restart(member);
    }
    for (const member of this.members.filter((m) => m.state === 'leaving')) {
      const exited = await waitFor(() => member.proc.child.exitCode !== null || member.proc.child.signalCode !== null || undefined, 120_000, `${member.id} to finish leaving`).catch(() => false);
      if (exited) member.state = 'gone';
      else problems.push(`${member.id} was still leaving 120 s after the heal`);
    }
    await this.converged(60_000);
    return problems;
  }

  /** Sum over running ring members of a number from /admin/status. */
  async statusSum(pick: (status: StatusView) => number): Promise<number> {
    let total = 0;
    for (const member of this.up()) total += pick((await http(this.agent, 'GET', `${member.proc.url}/admin/status`, { timeoutMs: 5_000 })).json as StatusView);
    return total;
  }
}

/** The part of /admin/status the harness reads. */
export interface StatusView {
  readonly hints: Record<string, number>;
  readonly transfers: { pending: number };
  readonly keys: number;
}
