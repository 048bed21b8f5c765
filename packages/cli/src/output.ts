/** What the read-only commands share: a JSON GET against a node, and plain-text tables. */
import { request, type Dispatcher } from 'undici';

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
