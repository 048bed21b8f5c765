// Silent defaults for time and randomness in packages/*/src: a parameter, destructured
// property or class property whose default is the process's clock, randomness or timers, and
// a `??` or `||` fallback to them. Each lets a part escape an injected clock unnoticed: the
// cluster simulation passes its manual clock and seeded randomness, and a part that falls
// back to its own behind it makes a seed replay differently (STYLE.md §2). Defaults belong in
// the composition root only, where one line picks the process's clock for every part.
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import ts from 'typescript';
import { sourceFiles } from './source-files.js';

/** The process's own sources of time, randomness and timers. */
const PROCESS_SOURCES: ReadonlySet<string> = new Set(['Date.now', 'Math.random', 'performance.now', 'realTimers']);

export interface DefaultClock {
  readonly file: string;
  readonly line: number;
  /** What defaults: `parameter nowMs`, `?? fallback`, ... */
  readonly kind: string;
  /** The default's source text. */
  readonly text: string;
}

/**
 * The process source a default value is: the source itself (`Date.now`, `realTimers`), a call
 * of it (`Date.now()`), or a function that only calls it (`() => performance.now()`).
 * Parentheses and `as` casts are seen through. A larger expression that merely contains one
 * (`options.store ?? new MemoryStore(..., nowMs ?? Date.now)`) is not itself a default to a
 * process source; the inner fallback is reported on its own.
 */
function processSourceOf(node: ts.Expression, sourceFile: ts.SourceFile): string | undefined {
  if (ts.isParenthesizedExpression(node) || ts.isAsExpression(node) || ts.isNonNullExpression(node)) return processSourceOf(node.expression, sourceFile);
  if (ts.isIdentifier(node) || ts.isPropertyAccessExpression(node)) {
    const text = node.getText(sourceFile).replace(/\s+/g, '');
    return PROCESS_SOURCES.has(text) ? text : undefined;
  }
  if (ts.isCallExpression(node)) return processSourceOf(node.expression, sourceFile);
  if ((ts.isArrowFunction(node) || ts.isFunctionExpression(node)) && node.body !== undefined) {
    if (!ts.isBlock(node.body)) return processSourceOf(node.body, sourceFile);
    const only = node.body.statements.length === 1 ? node.body.statements[0] : undefined;
    return only !== undefined && ts.isReturnStatement(only) && only.expression !== undefined ? processSourceOf(only.expression, sourceFile) : undefined;
  }
  return undefined;
}

function nameText(name: ts.Node, sourceFile: ts.SourceFile): string {
  return name.getText(sourceFile);
}

/** Every silent default to a process source in one source text. */
export function defaultClocks(file: string, text: string): DefaultClock[] {
  const sourceFile = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const found: DefaultClock[] = [];
  const report = (at: ts.Node, kind: string, value: ts.Expression) => {
    if (processSourceOf(value, sourceFile) === undefined) return;
    const line = sourceFile.getLineAndCharacterOfPosition(at.getStart(sourceFile)).line + 1;
    found.push({ file, line, kind, text: value.getText(sourceFile) });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isParameter(node) && node.initializer !== undefined) report(node, `parameter ${nameText(node.name, sourceFile)}`, node.initializer);
    else if (ts.isBindingElement(node) && node.initializer !== undefined) report(node, `destructured ${nameText(node.name, sourceFile)}`, node.initializer);
    else if (ts.isPropertyDeclaration(node) && node.initializer !== undefined) report(node, `property ${nameText(node.name, sourceFile)}`, node.initializer);
    else if (ts.isBinaryExpression(node) && (node.operatorToken.kind === ts.SyntaxKind.QuestionQuestionToken || node.operatorToken.kind === ts.SyntaxKind.BarBarToken)) {
      report(node, `${node.operatorToken.getText(sourceFile)} fallback`, node.right);
    } else if (ts.isBinaryExpression(node) && node.operatorToken.kind === ts.SyntaxKind.QuestionQuestionEqualsToken) {
      report(node, '??= fallback', node.right);
    }
    ts.forEachChild(node, visit);
  };
  visit(sourceFile);
  return found;
}

/** Every silent default in packages/<pkg>/src under root, tests and the named files left out. */
export function defaultClocksUnder(root: string, exempt: ReadonlySet<string>): DefaultClock[] {
  return sourceFiles(root)
    .map((path) => relative(root, path))
    .filter((file) => !exempt.has(file))
    .flatMap((file) => defaultClocks(file, readFileSync(`${root}/${file}`, 'utf8')));
}
