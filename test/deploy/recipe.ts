/**
 * What the deployment-recipe tests (test/deploy/) check recipes against: the CLI's own
 * `ringkv node` parser and the node's config validation (the flags and values a recipe passes
 * must start a node, as far as can be known without starting one), the HTTP routes a fully
 * wired node really serves (probe paths), the CLI's defaults (ports), and the repository's
 * files (paths, package.json scripts). Nothing here copies a flag name or a path from the code.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseNodeArgs } from '@ringkv/cli';
import { defaultConfig, validateConfig, type NodeConfig } from '@ringkv/node';
import { memoryCluster } from '@ringkv/node/testing';
import { REPO_ROOT } from '../helpers/process.js';

/** A file of the repository, as text. */
export function repoFile(path: string): string {
  return readFileSync(join(REPO_ROOT, path), 'utf8');
}

/** The root package.json's scripts. */
export function rootScripts(): Record<string, string> {
  return (JSON.parse(repoFile('package.json')) as { scripts: Record<string, string> }).scripts;
}

/** The path, inside an installed @ringkv/cli, of its `ringkv` executable (package.json "bin"). */
export function cliBinPath(): string {
  const bin = (JSON.parse(repoFile('packages/cli/package.json')) as { bin: Record<string, string> }).bin.ringkv;
  if (bin === undefined) throw new Error('packages/cli/package.json has no bin.ringkv');
  return bin.replace(/^\.\//, '');
}

/**
 * The config `ringkv node <argv>` would run with: the CLI's own parser (unknown flags, bad
 * values, missing required flags are its UsageError), then the node's validation as
 * main.ts runs it before the secrets are read (placeholders stand in for the secret and the
 * admin token, which recipes keep out of their command lines).
 */
export function nodeConfigFor(argv: readonly string[]): NodeConfig {
  return validateConfig({ ...parseNodeArgs([...argv]), secret: 'placeholder-secret', adminToken: 'placeholder-admin-token' });
}

/** The value of `--name` in argv (`--name value` or `--name=value`; the last one wins, as in parseArgs). */
export function flagValue(argv: readonly string[], name: string): string | undefined {
  let value: string | undefined;
  for (const [i, word] of argv.entries()) {
    if (word === `--${name}`) value = argv[i + 1];
    else if (word.startsWith(`--${name}=`)) value = word.slice(name.length + 3);
  }
  return value;
}

/** The port of `HOST:PORT`. */
export function portOf(address: string): number {
  const match = /:(\d+)$/.exec(address);
  if (match === null) throw new Error(`${address} has no port`);
  return Number(match[1]);
}

/** The host of `HOST:PORT`. */
export function hostOf(address: string): string {
  return address.replace(/:\d+$/, '');
}

/** The ports a node listens on when no flag says otherwise (the CLI passes none: the config's defaults). */
export const defaultPorts = { http: defaultConfig.httpPort, gossip: defaultConfig.gossipPort };

/**
 * The longest a node takes from SIGTERM to exit by its defaults, in whole seconds rounded up:
 * the drain (it keeps serving while peers learn it is stopping), then the shutdown grace for
 * in-flight requests (docs/membership.md "Draining"). A supervisor's stop timeout must exceed it.
 */
export const stopSecondsMax = Math.ceil((defaultConfig.drainMs + defaultConfig.shutdownGraceMs) / 1000);

/**
 * The GET routes a fully wired node serves, read from its Hono app's route table (an in-memory
 * node: the same createApp the process serves), not from a list copied here.
 */
export function nodeGetRoutes(): Set<string> {
  const { nodes } = memoryCluster({ nodes: 1, config: { n: 1 } });
  const routes = nodes[0]!.app.routes.filter((route) => route.method === 'GET' && !route.path.includes('*') && !route.path.includes(':'));
  return new Set(routes.map((route) => route.path));
}

/**
 * Splits a shell-like command line into words: quotes group and are removed, nothing is
 * expanded (`$X` stays as written), so a recipe's placeholders reach the checks verbatim.
 */
export function shellWords(line: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  let quote: string | undefined;
  for (const ch of line) {
    if (quote !== undefined) {
      if (ch === quote) quote = undefined;
      else word = (word ?? '') + ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      word = word ?? '';
    } else if (/\s/.test(ch)) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else {
      word = (word ?? '') + ch;
    }
  }
  if (quote !== undefined) throw new Error(`unterminated quote in: ${line}`);
  if (word !== undefined) words.push(word);
  return words;
}
