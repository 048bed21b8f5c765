/**
 * `ringkv repair [--peer ID] [--url U] [--json]` (also `ringkv anti-entropy`): anti-entropy
 * now, with progress. It asks the node for its partners (GET /admin/anti-entropy), then runs
 * one exchange per partner (POST /admin/anti-entropy?peer=ID), one after another, and prints a
 * line as each finishes: peer, keys in and out, bytes, duration. With --json, one JSON report
 * per line on stdout instead. Exit 1 if any exchange failed.
 */
import { request, type Dispatcher } from 'undici';
import { parse } from '../args.js';
import { adminToken, authHeader, caCert, credentialOptions, dispatcherFor } from '../credentials.js';
import { nodeUrl } from '../output.js';
import { formatBytes, Progress } from '../progress.js';

interface ExchangeReport {
  peer: string;
  durationMs: number;
  keysCompared: number;
  keysIn: number;
  keysOut: number;
  keysFailed: number;
  bytes: number;
  error?: string;
}

/** One exchange takes at most this long before the CLI gives up on the answer. */
const EXCHANGE_DEADLINE_MS = 600_000;

async function call<T>(method: 'GET' | 'POST', url: string, headers: Record<string, string>, dispatcher: Dispatcher | undefined): Promise<{ status: number; body: T }> {
  const response = await request(url, { method, headers, headersTimeout: EXCHANGE_DEADLINE_MS, bodyTimeout: EXCHANGE_DEADLINE_MS, ...(dispatcher ? { dispatcher } : {}) });
  return { status: response.statusCode, body: (await response.body.json()) as T };
}

/** A failed answer: the node's coded error on stderr, exit 1. */
function refused(what: string, answer: { status: number; body: unknown }, token: string | undefined): number {
  process.stderr.write(`${what} ${answer.status}: ${JSON.stringify(answer.body)}\n`);
  if (answer.status === 401 && token === undefined) process.stderr.write('no admin token found: pass --token, set RINGKV_ADMIN_TOKEN, or --dir with the ring\'s data directory\n');
  return 1;
}

function reportRow(r: ExchangeReport): string[] {
  return [r.peer, r.error ?? 'ok', String(r.keysCompared), String(r.keysIn), String(r.keysOut), String(r.keysFailed), formatBytes(r.bytes), `${r.durationMs} ms`];
}

const HEADER = ['peer', 'result', 'compared', 'in', 'out', 'failed', 'bytes', 'duration'];
/** Fixed column widths: rows are printed one at a time, as exchanges finish. */
const WIDTHS = [16, 8, 9, 7, 7, 7, 11, 10];
const line = (cells: string[]) => `${cells.map((cell, i) => cell.padEnd(WIDTHS[i]!)).join('  ').trimEnd()}\n`;

export async function runRepair(argv: string[]): Promise<number> {
  const { values } = parse(argv, { url: { type: 'string' }, peer: { type: 'string' }, json: { type: 'boolean' }, ...credentialOptions });
  const url = nodeUrl(values);
  const token = adminToken(values);
  const headers = authHeader(token);
  const dispatcher = dispatcherFor(caCert(values));
  const progress = new Progress(process.stderr, Date.now);
  try {
    let peers: string[];
    if (values.peer !== undefined) {
      peers = [values.peer];
    } else {
      const answer = await call<{ partners: string[] }>('GET', `${url}/admin/anti-entropy`, headers, dispatcher);
      if (answer.status !== 200) return refused('anti-entropy partners', answer, token);
      peers = answer.body.partners;
    }
    if (!values.json) process.stdout.write(peers.length === 0 ? 'no anti-entropy partners: nothing to repair\n' : line(HEADER));
    let failed = 0;
    for (const [i, peer] of peers.entries()) {
      progress.update(`repair: exchanging with ${peer} (${i + 1}/${peers.length})…`);
      const answer = await call<{ exchanges: ExchangeReport[] }>('POST', `${url}/admin/anti-entropy?peer=${encodeURIComponent(peer)}`, headers, dispatcher);
      progress.clear();
      if (answer.status !== 200) return refused(`anti-entropy with ${peer}`, answer, token);
      for (const report of answer.body.exchanges) {
        if (report.error !== undefined) failed++;
        process.stdout.write(values.json ? `${JSON.stringify(report)}\n` : line(reportRow(report)));
      }
    }
    return failed === 0 ? 0 : 1;
  } finally {
    progress.clear();
    await dispatcher?.close();
  }
}
