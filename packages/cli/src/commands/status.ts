/** `ringkv status`: a node's status, then the ring's members, their zones and ownership, as tables. */
import type { StatusBody } from '@ringkv/protocol';
import { getJson, runReadCommand, table, type ReadTarget } from '../output.js';
import { ringRows, ringSummary, type RingBody } from './ring.js';

interface Transfers {
  pending: number;
  handedOff: number;
  paused: boolean;
  waiting: number;
}

interface AntiEntropyStatus {
  running?: { peer: string; keysIn: number; keysOut: number };
  peers: Array<{ peer: string; lastCompletedMs?: number }>;
}

/** What is left to hand off, and what moved: the progress of a join or leave. */
function transfersLine(t: Transfers | undefined): string {
  if (t === undefined) return '?';
  const state = t.paused ? 'paused' : t.pending === 0 ? 'idle' : 'handing off';
  return `${state}: ${t.pending} key(s) to hand off (${t.waiting} waiting for an owner), ${t.handedOff} handed off since start`;
}

function antiEntropyLine(ae: AntiEntropyStatus | undefined): string {
  if (ae === undefined) return '?';
  const running = ae.running ? `exchanging with ${ae.running.peer} (${ae.running.keysIn} in, ${ae.running.keysOut} out); ` : '';
  const last = ae.peers.map((p) => `${p.peer} ${p.lastCompletedMs === undefined ? 'never' : `${Math.round((Date.now() - p.lastCompletedMs) / 1000)} s ago`}`);
  return `${running}last completed: ${last.length === 0 ? 'none yet' : last.join(', ')}`;
}

export function runStatus(argv: string[]): Promise<number> {
  return runReadCommand(argv, showStatus);
}

async function showStatus({ url, json, headers, dispatcher }: ReadTarget): Promise<number> {
  const status = await getJson<StatusBody>(`${url}/admin/status`, headers, dispatcher);
  if (status.status !== 200) {
    process.stderr.write(`status ${status.status}: ${JSON.stringify(status.body)}\n`);
    return 1;
  }
  const ring = await getJson<RingBody>(`${url}/admin/ring`, headers, dispatcher);
  if (json) {
    process.stdout.write(`${JSON.stringify({ status: status.body, ring: ring.body }, null, 2)}\n`);
    return 0;
  }
  const s = status.body;
  process.stdout.write(
    table([
      ['node', s.nodeId],
      ['url', url],
      ['pid', String(s.pid)],
      ['version', s.version],
      ['uptime', `${Math.round(s.uptimeMs / 1000)} s`],
      ['keys', String(s.keys ?? '?')],
      ['ring', ring.status === 200 ? ringSummary(ring.body) : `${s.ringSize} node(s), N=${s.n}`],
      ['members', Object.entries(s.members).map(([k, v]) => `${k} ${v}`).join(', ')],
      ['transfers', transfersLine(s.transfers as Transfers | undefined)],
      ['anti-entropy', antiEntropyLine(s.antiEntropy as AntiEntropyStatus | undefined)],
    ]),
  );
  process.stdout.write('\n');
  if (ring.status === 200) process.stdout.write(table(ringRows(ring.body)));
  return 0;
}
