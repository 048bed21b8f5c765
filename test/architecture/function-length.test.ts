// No function over 70 lines in packages/*/src (issue 14; STYLE.md §12). A failure lists every
// long function as file:line, name and length, longest first, so the fix is visible.
import t from 'tap';
import { fileURLToPath } from 'node:url';
import { join, dirname } from 'node:path';
import { functionLengths, longFunctions, FUNCTION_LINES_MAX } from './function-length.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** `lines` lines of a body, one statement each. */
function body(lines: number, indent = '  '): string {
  return Array.from({ length: lines }, (_, i) => `${indent}x += ${i};`).join('\n');
}

t.test('a planted long function is found with its file, line, name and length', async (t) => {
  const text = ['// header', '', `export function long(): number {`, '  let x = 0;', body(70), '  return x;', '}', ''].join('\n');
  const found = functionLengths('planted.ts', text);
  t.same(found, [{ file: 'planted.ts', line: 3, name: 'long', lines: 74 }]);
});

t.test('a long function nested in another is reported on its own, with its own name and line', async (t) => {
  const text = [
    'export class Outer {',
    '  run(): void {',
    '    const handler = () => {',
    '      let x = 0;',
    body(72, '      '),
    '    };',
    '    handler();',
    '  }',
    '}',
    'export const arrow = function () {',
    '  return [1].map((v) => {',
    '    let x = v;',
    body(71, '    '),
    '    return x;',
    '  });',
    '};',
  ].join('\n');
  const found = functionLengths('nested.ts', text).filter((fn) => fn.lines > FUNCTION_LINES_MAX);
  t.same(
    found.map((fn) => [fn.line, fn.name, fn.lines]),
    [
      [2, 'Outer.run', 78],
      [3, 'handler', 75],
      [81, 'arrow', 77],
      [82, '(argument of [1].map)', 75],
    ],
  );
});

t.test('methods, constructors, accessors and function expressions are measured; 70 lines pass', async (t) => {
  const text = [
    'class C {',
    '  constructor() {',
    body(68),
    '  }',
    '  get value(): number {',
    '    return 1;',
    '  }',
    '}',
    'const f = function named() { return 1; };',
  ].join('\n');
  const found = functionLengths('kinds.ts', text);
  t.same(
    found.map((fn) => [fn.name, fn.lines]),
    [
      ['C.constructor', 70],
      ['C.value', 3],
      ['named', 1],
    ],
  );
  t.equal(found.filter((fn) => fn.lines > FUNCTION_LINES_MAX).length, 0, 'exactly 70 lines is within the bound');
});

t.test(`no function over ${FUNCTION_LINES_MAX} lines in packages/*/src`, async (t) => {
  const long = longFunctions(root);
  const offenders = long;
  t.same(
    offenders.map((fn) => `${fn.file}:${fn.line} ${fn.name} (${fn.lines} lines)`),
    [],
    `functions over ${FUNCTION_LINES_MAX} lines:\n  ${offenders.map((fn) => `${fn.file}:${fn.line} ${fn.name} (${fn.lines} lines)`).join('\n  ')}`,
  );
});
