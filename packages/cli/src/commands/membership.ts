/**
 * Admin commands, each a POST to one node's admin route with the admin token (found as
 * credentials.ts describes): `ringkv leave [--url U]`: the node at U leaves the ring (its data
 * is handed to the new owners, then it stops). `ringkv remove ID [--url U]`: the node at U
 * removes dead member ID for good. `ringkv transfers pause|resume [--url U]`: pauses or
 * resumes U's handoff. `ringkv anti-entropy [--peer ID] [--url U]`: runs anti-entropy now.
 */
import { request } from 'undici';
import { DEFAULT_URL, parse, UsageError } from '../args.js';
import { adminToken, authHeader, caCert, credentialOptions, dispatcherFor } from '../credentials.js';

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

export async function runTransfers(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, options, 1);
  const action = positionals[0];
  if (action !== 'pause' && action !== 'resume') throw new UsageError('transfers needs pause or resume');
  return post(values, `/admin/transfers?action=${action}`);
}

export async function runAntiEntropy(argv: string[]): Promise<number> {
  const { values } = parse(argv, { ...options, peer: { type: 'string' } });
  return post(values, `/admin/anti-entropy${values.peer === undefined ? '' : `?peer=${encodeURIComponent(values.peer)}`}`);
}
