/**
 * The command-line options the load-driving benchmarks share (for node:util parseArgs), and
 * their validation: how long, how hard (closed loop of --clients or open loop at --rate), what
 * data, and where the JSON result goes.
 */
export const loadOptions = (warmupDefault: string) =>
  ({
    seconds: { type: 'string', default: '10' },
    warmup: { type: 'string', default: warmupDefault },
    clients: { type: 'string', default: '64' },
    rate: { type: 'string' },
    keys: { type: 'string', default: '10000' },
    'value-bytes': { type: 'string', default: '100' },
    'max-ops': { type: 'string', default: '2000000' },
    out: { type: 'string' },
    profile: { type: 'string' },
  }) as const;

/**
 * Node.js flags that make every ringkv node write a V8 CPU profile into `dir` when it stops
 * (`--profile DIR`; open the .cpuprofile files in Chrome DevTools or speedscope for a flame
 * graph). None without --profile.
 */
export function profileArgs(dir: string | undefined): string[] {
  return dir === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', dir];
}

/** A positive finite number from option `--name`, or an error naming it. */
export function positive(name: string, text: string | undefined): number {
  const x = Number(text);
  if (!(x > 0) || !Number.isFinite(x)) throw new Error(`--${name} must be a positive number`);
  return x;
}

export interface LoadSettings {
  seconds: number;
  warmup: number;
  clients: number;
  /** Offered ops/s (open loop); undefined = closed loop. */
  rate: number | undefined;
  keyCount: number;
  valueBytes: number;
  maxOps: number;
  out: string | undefined;
}

export function loadSettings(values: { seconds?: string; warmup?: string; clients?: string; rate?: string; keys?: string; 'value-bytes'?: string; 'max-ops'?: string; out?: string }): LoadSettings {
  const warmup = Number(values.warmup);
  if (!(warmup >= 0)) throw new Error('--warmup must be 0 or more');
  return {
    seconds: positive('seconds', values.seconds),
    warmup,
    clients: Math.round(positive('clients', values.clients)),
    rate: values.rate === undefined ? undefined : positive('rate', values.rate),
    keyCount: Math.round(positive('keys', values.keys)),
    valueBytes: Math.round(positive('value-bytes', values['value-bytes'])),
    maxOps: positive('max-ops', values['max-ops']),
    out: values.out,
  };
}

/** The sync modes a `--sync` list names (full, normal), or an error. */
export function syncModes(text: string | undefined): ('full' | 'normal')[] {
  const modes = (text ?? '').split(',');
  if (modes.length === 0 || modes.some((m) => m !== 'full' && m !== 'normal')) throw new Error('--sync must be full or normal (or a list of both)');
  return modes as ('full' | 'normal')[];
}
