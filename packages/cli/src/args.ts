/** Argument parsing shared by the commands: node's own util.parseArgs plus integer checks. */
import { parseArgs, type ParseArgsConfig } from 'node:util';

export class UsageError extends Error {}

export interface Parsed {
  /** Option values; boolean options read as the string-typed `true`, so test them with Boolean(). */
  values: Record<string, string | undefined>;
  positionals: string[];
}

export function parse(argv: string[], options: NonNullable<ParseArgsConfig['options']>, positionals = 0): Parsed {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: positionals > 0, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (parsed.positionals.length > positionals) throw new UsageError(`unexpected argument "${parsed.positionals[positionals]}"`);
  return { values: parsed.values as Record<string, string | undefined>, positionals: parsed.positionals };
}

/** An integer option in [min, max], or `fallback` when absent. */
export function intOption(raw: string | undefined, name: string, fallback: number | undefined, min: number, max: number): number | undefined {
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new UsageError(`--${name} must be an integer from ${min} to ${max} (got "${raw}")`);
  }
  return Number(raw);
}

export const DEFAULT_URL = 'http://127.0.0.1:7070';
