/**
 * `ringkv dt get|incr|add|remove|update`: data types (docs/datatypes.md) through the client
 * library. Each prints the key's state as one JSON line, `{"type", "value", "context"}`.
 */
import type { DataTypeValue } from '@ringkv/client';
import { intOption, parse, UsageError } from '../args.js';
import { clientFor } from '../key-client.js';

const flags = {
  url: { type: 'string' },
  'timeout-ms': { type: 'string' },
  token: { type: 'string' },
  cacert: { type: 'string' },
  r: { type: 'string' },
  w: { type: 'string' },
  context: { type: 'string' },
} as const;

/** Most elements one `add` or `remove` takes on the command line (the node's per-operation bound). */
const ELEMENTS_MAX = 1000;

/** The operation a subcommand sends, or a usage error. */
function operationOf(sub: string, args: string[], context: string | undefined): object {
  switch (sub) {
    case 'incr': {
      const raw = args[0] ?? '1';
      if (args.length > 1 || !/^-?\d{1,15}$/.test(raw)) throw new UsageError(`incr takes KEY and an optional integer BY (got "${args.join(' ')}")`);
      const by = Number(raw);
      return by < 0 ? { decrement: -by } : { increment: by };
    }
    case 'add':
    case 'remove':
      if (args.length === 0 || args.length > ELEMENTS_MAX) throw new UsageError(`${sub} takes KEY and 1 to ${ELEMENTS_MAX} elements`);
      return sub === 'add' ? { add: args } : { remove: args, ...(context === undefined ? {} : { context }) };
    case 'update': {
      if (args.length !== 1) throw new UsageError('update takes KEY and one JSON operation');
      try {
        return JSON.parse(args[0]!) as object;
      } catch {
        throw new UsageError(`update: the operation is not JSON (got ${JSON.stringify(args[0]!.slice(0, 40))})`);
      }
    }
    default:
      throw new UsageError(`unknown subcommand "${sub}" (get, incr, add, remove, update)`);
  }
}

export async function runDt(argv: string[]): Promise<number> {
  // `incr KEY -3`: a negative amount is an argument, not a flag.
  const { values, positionals } = parse(argv.map((a) => (/^-\d+$/.test(a) ? `\u2212${a.slice(1)}` : a)), flags, 2 + ELEMENTS_MAX);
  const [sub, key, ...rest] = positionals.map((p) => p.replace(/^\u2212/, '-'));
  if (sub === undefined || key === undefined) throw new UsageError('dt needs a subcommand and KEY');
  const r = intOption(values.r, 'r', undefined, 1, 16);
  const w = intOption(values.w, 'w', undefined, 1, 16);
  const timeoutMs = intOption(values['timeout-ms'], 'timeout-ms', undefined, 1, 3_600_000);
  const op = sub === 'get' ? undefined : operationOf(sub, rest, values.context);
  if (sub === 'get' && rest.length > 0) throw new UsageError(`get takes only KEY (got "${rest.join(' ')}")`);
  const client = clientFor(values);
  try {
    let state: DataTypeValue | undefined;
    if (op === undefined) {
      state = await client.dtGet(key, { ...(r ? { r } : {}), ...(timeoutMs ? { timeoutMs } : {}) });
      if (state === undefined) {
        process.stderr.write('not found\n');
        return 1;
      }
    } else {
      state = await client.dtUpdate(key, op, { ...(r ? { r } : {}), ...(w ? { w } : {}), ...(timeoutMs ? { timeoutMs } : {}) });
    }
    process.stdout.write(`${JSON.stringify(state)}\n`);
    return 0;
  } finally {
    await client.close();
  }
}
