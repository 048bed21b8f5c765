/**
 * Admin commands, each a POST to one node's admin route with the admin token (found as
 * credentials.ts describes): `ringkv leave [--url U]`: the node at U leaves the ring (its data
 * is handed to the new owners, then it stops). `ringkv remove ID [--url U]`: the node at U
 * removes dead member ID for good. `ringkv transfers pause|resume [--url U]`: pauses or
 * resumes U's handoff; `ringkv transfers status [--json]` shows it. (`ringkv anti-entropy` is
 * `ringkv repair`: repair.ts.)
 */
import { request } from 'undici';
import { DEFAULT_URL, parse, UsageError } from '../args.js';
import { adminToken, authHeader, caCert, credentialOptions, dispatcherFor } from '../credentials.js';
import { getJson, runReadCommand, table } from '../output.js';

const options = { url: { type: 'string' }, ...credentialOptions } as const;

async function post(values: Record<string, string | undefined>, path: string): Promise<number> {
  const url = (values.url ?? process.env.RINGKV_URL ?? DEFAULT_URL).replace(/\/+$/, '');
  const token = adminToken(values);
  const dispatcher = dispatcherFor(caCert(values));
  try {
    const response = await request(`${url}${path}`, {
      method: 'POST',
      headers: authHeader(token),
      headersTimeout: 10_000,
      bodyTimeout: 10_000,
      ...(dispatcher ? { dispatcher } : {}),
    });
    const body = await response.body.text();
    (response.statusCode < 300 ? process.stdout : process.stderr).write(`${body}\n`);
    if (response.statusCode === 401 && token === undefined) {
      process.stderr.write('no admin token found: pass --token, set RINGKV_ADMIN_TOKEN, or --dir with the ring\'s data directory\n');
    }
    return response.statusCode < 300 ? 0 : 1;
  } finally {
    await dispatcher?.close();
  }
}

export async function runLeave(argv: string[]): Promise<number> {
  const { values } = parse(argv, options);
  return post(values, '/admin/leave');
}

export async function runRemove(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, options, 1);
  const id = positionals[0];
  if (id === undefined) throw new UsageError('remove needs the id of a dead member');
  return post(values, `/admin/remove?id=${encodeURIComponent(id)}`);
}

interface TransfersBody {
  pending: number;
  waiting: number;
  handedOff: number;
  paused: boolean;
}

/** `transfers status [--json]`: GET /admin/transfers, read-only. */
function showTransfers(argv: string[]): Promise<number> {
  return runReadCommand(
    argv,
    async (target) => {
      const answer = await getJson<TransfersBody>(`${target.url}/admin/transfers`, target.headers, target.dispatcher);
      if (answer.status !== 200) {
        process.stderr.write(`transfers ${answer.status}: ${JSON.stringify(answer.body)}\n`);
        return 1;
      }
      const t = answer.body;
      process.stdout.write(
        target.json
          ? `${JSON.stringify(t, null, 2)}\n`
          : table([['state', t.paused ? 'paused' : t.pending === 0 ? 'idle' : 'handing off'], ['to hand off', String(t.pending)], ['waiting for an owner', String(t.waiting)], ['handed off since start', String(t.handedOff)]]),
      );
      return 0;
    },
    1,
  );
}

export async function runTransfers(argv: string[]): Promise<number> {
  if (argv[0] === 'status') return showTransfers(argv.slice(1));
  const { values, positionals } = parse(argv, options, 1);
  const action = positionals[0];
  if (action !== 'pause' && action !== 'resume') throw new UsageError('transfers needs status, pause or resume');
  return post(values, `/admin/transfers?action=${action}`);
}
