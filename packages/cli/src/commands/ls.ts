/**
 * `ringkv ls [--prefix P] [--limit L] [--after K] [--all] [--r R] [--json]`: listing keys
 * (docs/listing.md) through the client library. Prints one key per line (keys are printed as
 * JSON strings when they hold a control character, so every line is one key), then, unless
 * `--all`, the cursor of the next page on stderr. With --json, one JSON page per line:
 * `{"keys": [...], "next": K | null}`.
 */
import { LIST_LIMIT_MAX, type KeyListPage } from '@ringkv/client';
import { intOption, parse, UsageError } from '../args.js';
import { clientFor } from '../key-client.js';

const flags = {
  url: { type: 'string' },
  'timeout-ms': { type: 'string' },
  token: { type: 'string' },
  cacert: { type: 'string' },
  prefix: { type: 'string' },
  after: { type: 'string' },
  limit: { type: 'string' },
  r: { type: 'string' },
  all: { type: 'boolean' },
  json: { type: 'boolean' },
} as const;

/** Pages `--all` fetches at most: 10 million keys at the largest page. */
const ALL_PAGES_MAX = 10_000;

const printable = (key: string) => (/[\u0000-\u001f\u007f]/.test(key) ? JSON.stringify(key) : key);

function print(page: KeyListPage, json: boolean): void {
  if (json) process.stdout.write(`${JSON.stringify({ keys: page.keys, next: page.next })}\n`);
  else if (page.keys.length > 0) process.stdout.write(`${page.keys.map(printable).join('\n')}\n`);
}

export async function runLs(argv: string[]): Promise<number> {
  const { values } = parse(argv, flags, 0);
  const limit = intOption(values.limit, 'limit', undefined, 1, LIST_LIMIT_MAX);
  const r = intOption(values.r, 'r', undefined, 1, 16);
  const timeoutMs = intOption(values['timeout-ms'], 'timeout-ms', undefined, 1, 3_600_000);
  const all = Boolean(values.all);
  const json = Boolean(values.json);
  const options = { ...(values.prefix === undefined ? {} : { prefix: values.prefix }), ...(values.after === undefined ? {} : { after: values.after }), ...(limit ? { limit } : {}), ...(r ? { r } : {}), ...(timeoutMs ? { timeoutMs } : {}) };
  const client = clientFor(values);
  try {
    if (!all) {
      const page = await client.list(options);
      print(page, json);
      if (!json && page.next !== null) process.stderr.write(`more: ringkv ls --after ${JSON.stringify(page.next)}${values.prefix === undefined ? '' : ` --prefix ${JSON.stringify(values.prefix)}`}\n`);
      return 0;
    }
    for await (const page of client.listAll({ ...options, pagesMax: ALL_PAGES_MAX })) print(page, json);
    return 0;
  } finally {
    await client.close();
  }
}
