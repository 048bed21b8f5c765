// The source files the architecture checks read: every .ts file under packages/*/src, tests
// (*.test.ts) and declaration files left out.
import { readdirSync, statSync, existsSync } from 'node:fs';
import { join } from 'node:path';

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...walk(path));
    else if (name.endsWith('.ts') && !name.endsWith('.test.ts') && !name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

/** Absolute paths of every source file under root/packages/<pkg>/src. */
export function sourceFiles(root: string): string[] {
  const out: string[] = [];
  for (const pkg of readdirSync(join(root, 'packages')).sort()) {
    const src = join(root, 'packages', pkg, 'src');
    if (existsSync(src)) out.push(...walk(src));
  }
  return out;
}
