// docs/errors.md must list exactly the codes of the catalog, each with its status.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { errorCatalog } from '@ringkv/protocol';

const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
const rows = [...doc.matchAll(/^\| `(KV_ERR_[A-Z_]+)` \| (\d{3}) \|/gm)].map((m) => [m[1]!, Number(m[2])] as const);

t.test('every catalog code is documented with its status', async (t) => {
  for (const [code, { status }] of Object.entries(errorCatalog)) {
    const row = rows.find(([c]) => c === code);
    t.ok(row, `${code} is in docs/errors.md`);
    t.equal(row?.[1], status, `${code} is documented as ${status}`);
  }
});

t.test('the doc lists no code the catalog lacks', async (t) => {
  for (const [code] of rows) t.ok(Object.hasOwn(errorCatalog, code), `${code} exists in the catalog`);
  t.equal(rows.length, Object.keys(errorCatalog).length);
});
