/**
 * `ringkv leave [--url U]`: the node at U leaves the ring (its data is handed to the new owners,
 * then it stops). `ringkv remove ID [--url U]`: the node at U removes dead member ID for good.
 * `ringkv transfers pause|resume [--url U]`: pauses or resumes U's handoff.
 */
import { request } from 'undici';
import { DEFAULT_URL, parse, UsageError } from '../args.js';

async function post(url: string, path: string): Promise<number> {
  const response = await request(`${url}${path}`, { method: 'POST', headersTimeout: 10_000, bodyTimeout: 10_000 });
  const body = await response.body.text();
  (response.statusCode < 300 ? process.stdout : process.stderr).write(`${body}\n`);
  return response.statusCode < 300 ? 0 : 1;
}

function baseUrl(raw: string | undefined): string {
  return (raw ?? process.env.RINGKV_URL ?? DEFAULT_URL).replace(/\/+$/, '');
}

export async function runLeave(argv: string[]): Promise<number> {
  const { values } = parse(argv, { url: { type: 'string' } });
  return post(baseUrl(values.url), '/admin/leave');
}

export async function runRemove(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { url: { type: 'string' } }, 1);
  const id = positionals[0];
  if (id === undefined) throw new UsageError('remove needs the id of a dead member');
  return post(baseUrl(values.url), `/admin/remove?id=${encodeURIComponent(id)}`);
}

export async function runTransfers(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { url: { type: 'string' } }, 1);
  const action = positionals[0];
  if (action !== 'pause' && action !== 'resume') throw new UsageError('transfers needs pause or resume');
  return post(baseUrl(values.url), `/admin/transfers?action=${action}`);
}
