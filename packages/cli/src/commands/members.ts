/**
 * `ringkv members` (GET /admin/members: every member this node knows, with status,
 * incarnation and zone) and `ringkv preflist KEY` (GET /admin/preflist/KEY: the nodes that
 * hold KEY, then the fallbacks a sloppy write would use), as tables or, with --json, the
 * node's JSON answer.
 */
import { encodeKey } from '@ringkv/client';
import { UsageError } from '../args.js';
import { getJson, runReadCommand, table, type ReadTarget } from '../output.js';

interface MemberBody {
  id: string;
  address: string | null;
  status: string;
  incarnation?: number;
  zone?: string | null;
}

interface PreflistBody {
  key: string;
  preferenceList: MemberBody[];
  fallbacks: MemberBody[];
}

/** Prints the body as JSON or as `render` gives it; a non-200 answer is the error and exit 1. */
async function show<T>(target: ReadTarget, path: string, what: string, render: (body: T) => string): Promise<number> {
  const answer = await getJson<T>(`${target.url}${path}`, target.headers, target.dispatcher);
  if (answer.status !== 200) {
    process.stderr.write(`${what} ${answer.status}: ${JSON.stringify(answer.body)}\n`);
    return 1;
  }
  process.stdout.write(target.json ? `${JSON.stringify(answer.body, null, 2)}\n` : render(answer.body));
  return 0;
}

export function runMembers(argv: string[]): Promise<number> {
  return runReadCommand(argv, (target) =>
    show<MemberBody[]>(target, '/admin/members', 'members', (members) =>
      table([['node', 'status', 'incarnation', 'zone', 'address'], ...members.map((m) => [m.id, m.status, String(m.incarnation ?? '-'), m.zone ?? '-', m.address ?? '-'])]),
    ),
  );
}

/** A preference-list or fallback row (the preflist answer carries no incarnation). */
const row = (m: MemberBody) => [m.id, m.status, m.zone ?? '-', m.address ?? '-'];

export function runPreflist(argv: string[]): Promise<number> {
  return runReadCommand(
    argv,
    (target) => {
      const key = target.args[0];
      if (key === undefined) throw new UsageError('preflist needs KEY');
      return show<PreflistBody>(target, `/admin/preflist/${encodeKey(key)}`, 'preflist', (body) =>
        table([
          ['role', 'node', 'status', 'zone', 'address'],
          ...body.preferenceList.map((m, i) => [`replica ${i + 1}`, ...row(m)]),
          ...body.fallbacks.map((m, i) => [`fallback ${i + 1}`, ...row(m)]),
        ]),
      );
    },
    1,
  );
}
