// The length of every function in packages/<pkg>/src (STYLE.md §12: a reader sees a whole function
// at once). Declarations, methods, constructors, accessors, arrows and function expressions
// all count, nested ones separately from the function around them: a 60-line handler inside a
// 60-line function is two functions a reader can each see whole, but a 100-line arrow passed
// to a call is one they cannot. Lines are counted from the function's first token (its name
// or `function`/`async`, not the doc comment above it) to its closing brace, inclusive.
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import ts from 'typescript';
import { sourceFiles } from './source-files.js';

/** Most lines a function in packages/<pkg>/src may have. */
export const FUNCTION_LINES_MAX = 70;

export interface FunctionLength {
  /** Path relative to the root the scan started from. */
  readonly file: string;
  /** 1-based line of the function's first token. */
  readonly line: number;
  readonly name: string;
  readonly lines: number;
}

/** The name a reader would look for: the declared name, the variable, property or class member it is assigned to. */
function nameOf(node: ts.FunctionLikeDeclaration, sourceFile: ts.SourceFile): string {
  if (ts.isConstructorDeclaration(node)) return `${className(node.parent)}.constructor`;
  if (node.name !== undefined) {
    const own = node.name.getText(sourceFile);
    return ts.isClassLike(node.parent) ? `${className(node.parent)}.${own}` : own;
  }
  const parent = node.parent;
  if (ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent)) {
    return parent.name.getText(sourceFile);
  }
  if (ts.isCallExpression(parent)) return `(argument of ${parent.expression.getText(sourceFile).slice(0, 40)})`;
  return '(anonymous)';
}

function className(node: ts.Node): string {
  return ts.isClassLike(node) && node.name !== undefined ? node.name.text : '(class)';
}

/** Every function-like node with a body in one source text. */
export function functionLengths(file: string, text: string): FunctionLength[] {
  const sourceFile = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const found: FunctionLength[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body !== undefined) {
      const fn = node as ts.FunctionLikeDeclaration;
      const start = sourceFile.getLineAndCharacterOfPosition(fn.getStart(sourceFile)).line;
      const end = sourceFile.getLineAndCharacterOfPosition(fn.getEnd()).line;
      found.push({ file, line: start + 1, name: nameOf(fn, sourceFile), lines: end - start + 1 });
    }
    ts.forEachChild(node, visit);
  };
  visit(sourceFile);
  return found;
}

/** Every function over `max` lines in packages/<pkg>/src under root (tests left out), longest first. */
export function longFunctions(root: string, max: number = FUNCTION_LINES_MAX): FunctionLength[] {
  return sourceFiles(root)
    .flatMap((path) => functionLengths(relative(root, path), readFileSync(path, 'utf8')))
    .filter((fn) => fn.lines > max)
    .sort((a, b) => b.lines - a.lines || a.file.localeCompare(b.file) || a.line - b.line);
}
