/**
 * A small reader of deploy/docker/Dockerfile and the repository's .dockerignore, for the tests
 * that check them (no image can be built where the tests run: no registry).
 */
import { shellWords } from './recipe.js';

export interface Instruction {
  /** Upper-case keyword: FROM, COPY, RUN, ... */
  readonly keyword: string;
  /** The rest of the line, continuation lines joined. */
  readonly text: string;
  /** Index of the build stage (FROM) the instruction belongs to. */
  readonly stage: number;
}

export interface Stage {
  readonly image: string;
  readonly name: string | undefined;
}

export interface Dockerfile {
  readonly stages: Stage[];
  readonly instructions: Instruction[];
}

/** Instructions in order; comments and blank lines dropped, `\` continuations joined. */
export function parseDockerfile(text: string): Dockerfile {
  const lines = text.split('\n').filter((line) => !line.trimStart().startsWith('#'));
  const joined = lines.join('\n').replace(/\\\n/g, ' ');
  const stages: Stage[] = [];
  const instructions: Instruction[] = [];
  for (const line of joined.split('\n')) {
    const match = /^\s*([A-Za-z]+)\s+(.*)$/.exec(line);
    if (match === null) continue;
    const keyword = match[1]!.toUpperCase();
    const rest = match[2]!.trim();
    if (keyword === 'FROM') {
      const [image, as, name] = rest.split(/\s+/);
      stages.push({ image: image!, name: as?.toUpperCase() === 'AS' ? name : undefined });
    }
    instructions.push({ keyword, text: rest, stage: stages.length - 1 });
  }
  return { stages, instructions };
}

/** An instruction's argument list: the JSON (exec) form, else shell-like words. */
export function execForm(text: string): string[] {
  return text.startsWith('[') ? (JSON.parse(text) as string[]) : shellWords(text);
}

export interface Copy {
  readonly from: string | undefined;
  readonly sources: string[];
  readonly destination: string;
}

/** A COPY instruction's `--from`, sources and destination (other `--` options ignored). */
export function parseCopy(text: string): Copy {
  const words = execForm(text);
  const from = words.find((w) => w.startsWith('--from='))?.slice('--from='.length);
  const paths = words.filter((w) => !w.startsWith('--'));
  return { from, sources: paths.slice(0, -1), destination: paths.at(-1)! };
}

/** .dockerignore patterns (Go filepath.Match plus `**`), as regular expressions over context paths. */
export function dockerignorePatterns(text: string): RegExp[] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((pattern) => {
      if (pattern.startsWith('!')) throw new Error(`exceptions (${pattern}) are not supported by this reader`);
      const body = pattern
        .replace(/^\/+|\/+$/g, '')
        .split('/')
        .map((part) => (part === '**' ? '(?:.*/)?' : `${part.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')}/`))
        .join('');
      // A pattern that matches a directory excludes everything under it.
      return new RegExp(`^${body.replace(/\/$/, '')}(?:/.*)?$`);
    });
}

/** Whether the build context leaves `path` (relative to the repository root) out. */
export function ignored(patterns: readonly RegExp[], path: string): boolean {
  return patterns.some((pattern) => pattern.test(path));
}
