/** `ringkv status`: a node's /admin/status as a short table. */
import { request } from 'undici';
import type { StatusBody } from '@ringkv/protocol';
import { DEFAULT_URL, parse } from '../args.js';

export async function runStatus(argv: string[]): Promise<number> {
  const { values } = parse(argv, { url: { type: 'string' }, json: { type: 'boolean' } });
  const url = (values.url ?? process.env.RINGKV_URL ?? DEFAULT_URL).replace(/\/+$/, '');
  const response = await request(`${url}/admin/status`, { headersTimeout: 5_000, bodyTimeout: 5_000 });
  const body = (await response.body.json()) as StatusBody;
  if (response.statusCode !== 200) {
    process.stderr.write(`status ${response.statusCode}: ${JSON.stringify(body)}\n`);
    return 1;
  }
  if (Boolean(values.json)) {
    process.stdout.write(`${JSON.stringify(body, null, 2)}\n`);
    return 0;
  }
  const rows: Array<[string, string]> = [
    ['node', body.nodeId],
    ['url', url],
    ['pid', String(body.pid)],
    ['version', body.version],
    ['uptime', `${Math.round(body.uptimeMs / 1000)} s`],
    ['ring size', String(body.ringSize)],
    ['N', String(body.n)],
    ['members', Object.entries(body.members).map(([k, v]) => `${k} ${v}`).join(', ')],
    ['keys', String(body.keys ?? '?')],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  for (const [k, v] of rows) process.stdout.write(`${k.padEnd(width)}  ${v}\n`);
  return 0;
}
