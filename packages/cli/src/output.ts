/** What the read-only commands share: a JSON GET against a node, and plain-text tables. */
import { request, type Dispatcher } from 'undici';
import { DEFAULT_URL, parse } from './args.js';
import { adminToken, anyToken, authHeader, caCert, credentialOptions, dispatcherFor } from './credentials.js';

/** Where and how a read-only command asks: the node's URL, --json, the token header, the CA's dispatcher. */
export interface ReadTarget {
  readonly url: string;
  readonly json: boolean;
  readonly headers: Record<string, string>;
  readonly dispatcher: Dispatcher | undefined;
  /** The command's positional arguments (at most `positionals` of them). */
  readonly args: readonly string[];
}

/** What a read command asks with: any token (open routes), or the admin token (GET /admin/local). */
export type TokenKind = 'any' | 'admin';

/** The node's URL from --url, else RINGKV_URL, else the default; no trailing slash. */
export function nodeUrl(values: Record<string, string | undefined>): string {
  return (values.url ?? process.env.RINGKV_URL ?? DEFAULT_URL).replace(/\/+$/, '');
}

/**
 * Parses `[--url U] [--json]`, the credentials, `extra` options and up to `positionals`
 * arguments, runs `show`, and closes the dispatcher.
 */
export async function runReadCommand(
  argv: string[],
  show: (target: ReadTarget, values: Record<string, string | undefined>) => Promise<number>,
  positionals = 0,
  options: { extra?: NonNullable<Parameters<typeof parse>[1]>; token?: TokenKind } = {},
): Promise<number> {
  const { values, positionals: args } = parse(argv, { url: { type: 'string' }, json: { type: 'boolean' }, ...credentialOptions, ...options.extra }, positionals);
  const url = nodeUrl(values);
  const dispatcher = dispatcherFor(caCert(values));
  const token = options.token === 'admin' ? adminToken(values) : anyToken(values);
  try {
    return await show({ url, json: Boolean(values.json), headers: authHeader(token), dispatcher, args }, values);
  } finally {
    await dispatcher?.close();
  }
}

/** GET `url` and its JSON body (5 s for headers and body). */
export async function getJson<T>(url: string, headers: Record<string, string>, dispatcher: Dispatcher | undefined): Promise<{ status: number; body: T }> {
  const response = await request(url, { headers, headersTimeout: 5_000, bodyTimeout: 5_000, ...(dispatcher ? { dispatcher } : {}) });
  return { status: response.statusCode, body: (await response.body.json()) as T };
}

/** Rows as left-aligned columns, two spaces apart; the first row is the header. */
export function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  return rows.map((row) => row.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n') + '\n';
}

/** A share of the key space as a percentage with one decimal. */
export function percent(share: number): string {
  return `${(share * 100).toFixed(1)} %`;
}
