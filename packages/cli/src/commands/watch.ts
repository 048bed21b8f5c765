/**
 * `ringkv watch KEY`: prints each new state of KEY as it changes (docs/watch.md), through the
 * client library's watch() (long polls that resume from the last context, on another node
 * after a failure). Runs until Ctrl-C (SIGINT or SIGTERM, exit 0) or, with --count, until that
 * many changes were printed.
 */
import type { WatchEvent } from '@ringkv/client';
import { intOption, parse, UsageError } from '../args.js';
import { clientFor } from '../key-client.js';

/** One change as a line: the value, `N siblings: …`, or `(deleted)`. */
function line(event: WatchEvent): string {
  if (!event.found) return '(deleted)';
  if (event.value !== undefined) return Buffer.from(event.value).toString('utf8');
  const values = event.siblings.map((s) => (s.deleted ? '(deleted)' : Buffer.from(s.value).toString('utf8')));
  return `${event.siblings.length} siblings: ${values.join(' | ')}`;
}

/** `--json`: the shape of `ringkv get --json`, plus `deleted`. */
function json(key: string, event: WatchEvent): string {
  const siblings = event.siblings.map((s) => (s.deleted ? { deleted: true } : { value: Buffer.from(s.value).toString('base64'), contentType: s.contentType }));
  return JSON.stringify({ key, found: event.found, deleted: event.deleted, context: event.context, siblings });
}

export async function runWatch(argv: string[]): Promise<number> {
  const options = { url: { type: 'string' }, token: { type: 'string' }, cacert: { type: 'string' }, r: { type: 'string' }, context: { type: 'string' }, json: { type: 'boolean' }, count: { type: 'string' }, 'poll-timeout-ms': { type: 'string' } } as const;
  const { values, positionals } = parse(argv, options, 1);
  const key = positionals[0];
  if (key === undefined) throw new UsageError('watch needs KEY');
  const r = intOption(values.r, 'r', undefined, 1, 16);
  const count = intOption(values.count, 'count', undefined, 1, 1_000_000_000);
  const pollTimeoutMs = intOption(values['poll-timeout-ms'], 'poll-timeout-ms', undefined, 1, 3_600_000);
  const client = clientFor(values);
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let printed = 0;
  try {
    for await (const event of client.watch(key, { signal: stop.signal, ...(r ? { r } : {}), ...(values.context ? { context: values.context } : {}), ...(pollTimeoutMs ? { pollTimeoutMs } : {}) })) {
      process.stdout.write(`${values.json ? json(key, event) : line(event)}\n`);
      if (!values.json) process.stderr.write(`context: ${event.context}\n`);
      if (count !== undefined && ++printed >= count) break;
    }
    return 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await client.close();
  }
}
