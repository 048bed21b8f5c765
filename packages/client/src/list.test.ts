// The client's listing helpers (docs/client.md "Listing keys"): the query it sends, the check
// of the answer, and the page iterator.
import t from 'tap';
import { listPage, listPath, pagesOf, type KeyListPage, type ListOptions } from './list.js';
import { RingkvError } from './errors.js';

t.test('listPath: every option percent-encoded; a bad limit is a TypeError before anything is sent', async (t) => {
  t.equal(listPath({}, 5000), '/kv?timeout_ms=5000');
  t.equal(listPath({ prefix: 'a b/é', after: 'a b/é1', limit: 1000, r: 2 }, 100), '/kv?prefix=a+b%2F%C3%A9&after=a+b%2F%C3%A91&limit=1000&r=2&timeout_ms=100');
  for (const limit of [0, 1001, 1.5]) t.throws(() => listPath({ limit }, 100), TypeError, `limit ${limit}`);
});

t.test('listPage: the shape is checked', async (t) => {
  t.same(listPage({ keys: ['a'], next: null }), { keys: ['a'], next: null });
  for (const bad of [undefined, {}, { keys: 'a', next: null }, { keys: [1], next: null }, { keys: [], next: 3 }]) {
    t.throws(() => listPage(bad), RingkvError, JSON.stringify(bad) ?? 'undefined');
  }
});

t.test('pagesOf: follows next until null, from after, bounded by pagesMax', async (t) => {
  const keys = ['a', 'b', 'c', 'd', 'e'];
  const asked: Array<string | undefined> = [];
  const fetch = async (options: ListOptions): Promise<KeyListPage> => {
    asked.push(options.after);
    const from = options.after === undefined ? 0 : keys.indexOf(options.after) + 1;
    const page = keys.slice(from, from + 2);
    return { keys: page, next: from + 2 < keys.length ? page.at(-1)! : null };
  };
  const all: string[] = [];
  for await (const page of pagesOf(fetch, {})) all.push(...page.keys);
  t.same(all, keys, 'every key once');
  t.same(asked, [undefined, 'b', 'd'], 'each page after the previous next');
  const bounded: string[] = [];
  for await (const page of pagesOf(fetch, { after: 'a', pagesMax: 1 })) bounded.push(...page.keys);
  t.same(bounded, ['b', 'c'], 'from after, one page');
});
