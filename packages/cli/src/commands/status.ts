/**
 * `ringkv status [--json] [--watch [--interval-ms MS]]`: a node's status, then the ring's
 * members, their zones and ownership, as tables; with --watch, refreshed until Ctrl-C.
 */
import type { StatusBody } from '@ringkv/protocol';
import { intOption, UsageError } from '../args.js';
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

/** Refreshes no faster than this: a status answer is cheap, but not free for a busy node. */
export const WATCH_INTERVAL_MIN_MS = 500;

export function runStatus(argv: string[]): Promise<number> {
  return runReadCommand(
    argv,
    (target, values) => {
      const intervalMs = intOption(values['interval-ms'], 'interval-ms', 2_000, WATCH_INTERVAL_MIN_MS, 3_600_000)!;
      if (values['interval-ms'] !== undefined && !values.watch) throw new UsageError('--interval-ms needs --watch');
      return values.watch ? watchStatus(target, intervalMs) : showStatus(target);
    },
    0,
    { extra: { watch: { type: 'boolean' }, 'interval-ms': { type: 'string' } } },
  );
}

async function showStatus(target: ReadTarget): Promise<number> {
  const { code, text } = await renderStatus(target);
  (code === 0 ? process.stdout : process.stderr).write(text);
  return code;
}

/**
 * Prints the status every `intervalMs` until SIGINT or SIGTERM, then exits 0. On a terminal
 * the screen is cleared before each refresh; otherwise (and with --json, one JSON object per
 * line) refreshes follow each other. A node that does not answer is shown as such, and the
 * watch goes on: it is how an operator sees a node come back.
 */
async function watchStatus(target: ReadTarget, intervalMs: number): Promise<number> {
  let stop: () => void = () => {};
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  let stopping = false;
  const onSignal = () => {
    stopping = true;
    stop();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    while (!stopping) {
      let text: string;
      try {
        text = (await renderStatus(target, true)).text;
      } catch (error) {
        text = `${target.url}: ${(error as { code?: string }).code ?? 'unreachable'}: ${(error as Error).message}\n`;
      }
      if (stopping) break;
      const clear = process.stdout.isTTY && !target.json ? '\x1b[H\x1b[2J' : '';
      process.stdout.write(`${clear}${target.json ? '' : `${new Date().toISOString()}  (every ${intervalMs} ms; Ctrl-C stops)\n`}${text}`);
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([stopped, new Promise<void>((resolve) => (timer = setTimeout(resolve, intervalMs)))]);
      clearTimeout(timer);
    }
    return 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** The status as text (tables, or JSON: pretty, or one line when `compact`), and the exit code. */
async function renderStatus({ url, json, headers, dispatcher }: ReadTarget, compact = false): Promise<{ code: number; text: string }> {
  const status = await getJson<StatusBody>(`${url}/admin/status`, headers, dispatcher);
  if (status.status !== 200) return { code: 1, text: `status ${status.status}: ${JSON.stringify(status.body)}\n` };
  const ring = await getJson<RingBody>(`${url}/admin/ring`, headers, dispatcher);
  if (json) return { code: 0, text: `${JSON.stringify({ status: status.body, ring: ring.body }, null, compact ? 0 : 2)}\n` };
  const s = status.body;
  const head = table([
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
  ]);
  return { code: 0, text: `${head}\n${ring.status === 200 ? table(ringRows(ring.body)) : ''}` };
}
