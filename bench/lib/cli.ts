/**
 * Command-line parsing for the bench scripts: node:util parseArgs, plus `--help` / `-h` (the
 * usage line, what the script measures, then every flag with its default, listed from the
 * options themselves so the text cannot drift; exit 0) and a usage error (one line naming
 * the bad flag, then the usage; exit 64) instead of a stack trace for an unknown flag.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { wantsHelp } from '@ringkv/cli';

function flagList(options: ParseArgsConfig['options']): string {
  return Object.entries(options ?? {})
    .map(([name, option]) => {
      const value = option.type === 'boolean' ? '' : ' VALUE';
      const fallback = option.default === undefined ? '' : ` (default ${String(option.default)})`;
      return `  --${name}${value}${fallback}`;
    })
    .join('\n');
}

/**
 * parseArgs(config), or, for `--help`, the help on stdout and exit 0, or, for a flag it does not
 * know or a malformed one, the message and the usage on stderr and exit 64. `usage` is the
 * script's usage line(s) and a sentence on what it measures.
 */
export function benchArgs<const T extends ParseArgsConfig>(config: T, usage: string): ReturnType<typeof parseArgs<T>> {
  const args = config.args ?? process.argv.slice(2);
  if (wantsHelp(args)) {
    process.stdout.write(`${usage.trim()}\n\nflags:\n${flagList(config.options)}\n  --help, -h (this text)\n`);
    process.exit(0);
  }
  try {
    return parseArgs(config);
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n\n${usage.trim().split('\n')[0]}\n(--help lists every flag)\n`);
    process.exit(64);
  }
}
