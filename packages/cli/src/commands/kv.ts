/** `ringkv get|put|del`: one request through the client library. */
import { RingkvClient, type GetResult } from '@ringkv/client';
import { DEFAULT_URL, intOption, parse, UsageError } from '../args.js';
import { caCert, clientToken } from '../credentials.js';

const common = {
  url: { type: 'string' },
  'timeout-ms': { type: 'string' },
  token: { type: 'string' },
  cacert: { type: 'string' },
} as const;

/** A client for one command: --url, --token (else RINGKV_TOKEN) and --cacert (else RINGKV_CACERT). */
export function clientFor(values: Record<string, string | undefined>): RingkvClient {
  const token = clientToken(values);
  const ca = caCert(values);
  try {
    return new RingkvClient({ urls: [values.url ?? process.env.RINGKV_URL ?? DEFAULT_URL], ...(token ? { token } : {}), ...(ca ? { ca } : {}) });
  } catch (error) {
    // A malformed --url (or RINGKV_URL) is a usage error (exit 64), like any other bad flag.
    if (error instanceof TypeError) throw new UsageError(`--url: ${error.message.replace(/^RingkvClient: /, '')}`);
    throw error;
  }
}

/**
 * `get --json`: one JSON object on stdout, `{"key", "found", "context", "siblings": [...]}`,
 * siblings in the shape of the node's 300 body (`{"value": "<base64>", "contentType"}` or
 * `{"deleted": true}`), context null for a never-written key; exit 1 when not found, as without
 * --json.
 */
function printJson(key: string, result: GetResult): number {
  const siblings = result.siblings.map((s) => (s.deleted ? { deleted: true } : { value: Buffer.from(s.value).toString('base64'), contentType: s.contentType }));
  process.stdout.write(`${JSON.stringify({ key, found: result.found, context: result.context ?? null, siblings })}\n`);
  return result.found ? 0 : 1;
}

function printResult(result: GetResult): number {
  if (!result.found) {
    process.stderr.write(`not found${result.context ? ` (deleted; context ${result.context})` : ''}\n`);
    return 1;
  }
  if (result.siblings.length === 1 && result.value !== undefined) {
    process.stdout.write(Buffer.from(result.value));
    if (process.stdout.isTTY) process.stdout.write('\n');
  } else {
    process.stdout.write(`${result.siblings.length} siblings:\n`);
    for (const [i, s] of result.siblings.entries()) {
      process.stdout.write(s.deleted ? `  [${i}] (deleted)\n` : `  [${i}] ${s.contentType}: ${Buffer.from(s.value).toString('utf8')}\n`);
    }
  }
  process.stderr.write(`context: ${result.context}\n`);
  return 0;
}

export async function runGet(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { ...common, r: { type: 'string' }, json: { type: 'boolean' } }, 1);
  if (positionals[0] === undefined) throw new UsageError('get needs KEY');
  const client = clientFor(values);
  try {
    const result = await client.get(positionals[0], {
      r: intOption(values.r, 'r', undefined, 1, 16),
      timeoutMs: intOption(values['timeout-ms'], 'timeout-ms', undefined, 1, 3_600_000),
    });
    return values.json ? printJson(positionals[0], result) : printResult(result);
  } finally {
    await client.close();
  }
}

export async function runPut(argv: string[]): Promise<void> {
  const { values, positionals } = parse(argv, { ...common, w: { type: 'string' }, context: { type: 'string' }, 'content-type': { type: 'string' } }, 2);
  const [key, value] = positionals;
  if (key === undefined || value === undefined) throw new UsageError('put needs KEY and VALUE');
  const client = clientFor(values);
  try {
    await client.put(key, value, {
      w: intOption(values.w, 'w', undefined, 1, 16),
      timeoutMs: intOption(values['timeout-ms'], 'timeout-ms', undefined, 1, 3_600_000),
      ...(values.context ? { context: values.context } : {}),
      ...(values['content-type'] ? { contentType: values['content-type'] } : {}),
    });
  } finally {
    await client.close();
  }
}

export async function runDel(argv: string[]): Promise<void> {
  const { values, positionals } = parse(argv, { ...common, w: { type: 'string' }, context: { type: 'string' } }, 1);
  if (positionals[0] === undefined) throw new UsageError('del needs KEY');
  const client = clientFor(values);
  try {
    await client.delete(positionals[0], {
      w: intOption(values.w, 'w', undefined, 1, 16),
      timeoutMs: intOption(values['timeout-ms'], 'timeout-ms', undefined, 1, 3_600_000),
      ...(values.context ? { context: values.context } : {}),
    });
  } finally {
    await client.close();
  }
}
