/**
 * `ringkv local KEY [--url U] [--json]`: the node's own stored copy of KEY (GET
 * /admin/local/KEY, admin token): its siblings and context as it holds them, without asking
 * any other replica and without repair. For comparing replicas by hand; `--json` prints the
 * node's answer. Exit 1 when the node holds nothing for the key (404).
 */
import { encodeKey } from '@ringkv/client';
import { UsageError } from '../args.js';
import { getJson, runReadCommand, table, type ReadTarget } from '../output.js';

/** Body of GET /admin/local/KEY (the 300 body's shape: http/render.ts). */
interface LocalBody {
  key: string;
  context: string;
  siblings: Array<{ value?: string; contentType?: string; deleted?: boolean }>;
}

function render(body: LocalBody): string {
  const rows = body.siblings.map((s, i) => [String(i), s.deleted ? '(deleted)' : (s.contentType ?? ''), s.deleted ? '' : Buffer.from(s.value ?? '', 'base64').toString('utf8')]);
  return `${table([['sibling', 'content-type', 'value'], ...rows])}context: ${body.context}\n`;
}

async function showLocal(target: ReadTarget): Promise<number> {
  const key = target.args[0];
  if (key === undefined) throw new UsageError('local needs KEY');
  const answer = await getJson<LocalBody>(`${target.url}/admin/local/${encodeKey(key)}`, target.headers, target.dispatcher);
  if (answer.status !== 200) {
    process.stderr.write(`local ${answer.status}: ${JSON.stringify(answer.body)}\n`);
    return 1;
  }
  process.stdout.write(target.json ? `${JSON.stringify(answer.body, null, 2)}\n` : render(answer.body));
  return 0;
}

export function runLocal(argv: string[]): Promise<number> {
  return runReadCommand(argv, showLocal, 1, { token: 'admin' });
}
