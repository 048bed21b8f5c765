/**
 * The fuzzing tier's harness (issue 18, point 4). Every decoder that reads bytes from the
 * network or the disk is run on generated and mutated inputs with fast-check, seeded so a
 * failure replays exactly:
 *
 * - a crash is any exception other than the decoder's own coded error (`expected`);
 * - a hang is an input that takes longer than `msMax` (the decoders are linear in their input,
 *   so microseconds are normal; a quadratic path or a loop shows up here long before it hangs).
 *
 * Counts: FUZZ_RUNS inputs per target (default DEFAULT_RUNS: a few seconds for the whole tier
 * in CI); the long run is `FUZZ_RUNS=1000000 node_modules/.bin/tap test/fuzz` (docs/security.md,
 * "Fuzzing"). FUZZ_SEED replays a printed seed.
 */
import fc from 'fast-check';
import type { Test } from 'tap';

/** Inputs per target when FUZZ_RUNS is not set. */
export const DEFAULT_RUNS = 1_000;
export const RUNS = Number(process.env.FUZZ_RUNS ?? DEFAULT_RUNS);
export const SEED = Number(process.env.FUZZ_SEED ?? 18_04);
/** Default per-input time bound. */
const MS_MAX = 250;

export interface Target<T> {
  readonly name: string;
  readonly input: fc.Arbitrary<T>;
  /** Runs the decoder; returning normally or throwing an `expected` error are both fine. */
  readonly run: (input: T) => unknown;
  /** The decoder's coded error. */
  readonly expected: (error: unknown) => boolean;
  readonly msMax?: number;
  /** Scales FUZZ_RUNS for costly targets (default 1). */
  readonly runsFactor?: number;
}

/** Runs one target; fails the test with the seed, the path and the input when it crashes or hangs. */
export async function fuzz<T>(t: Test, target: Target<T>): Promise<void> {
  const msMax = target.msMax ?? MS_MAX;
  let slowest = 0;
  const numRuns = Math.max(1, Math.round(RUNS * (target.runsFactor ?? 1)));
  const property = fc.asyncProperty(target.input, async (input) => {
    const started = performance.now();
    try {
      await target.run(input);
    } catch (error) {
      if (!target.expected(error)) throw new Error(`crash: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`, { cause: error });
    }
    const ms = performance.now() - started;
    slowest = Math.max(slowest, ms);
    if (ms > msMax) throw new Error(`hang: one input took ${ms.toFixed(1)} ms (bound ${msMax} ms)`);
  });
  const result = await fc.check(property, { numRuns, seed: SEED, endOnFailure: true });
  if (result.failed) {
    const cause = result.errorInstance instanceof Error ? result.errorInstance.message : String(result.errorInstance);
    t.fail(`${target.name}: ${cause}\n${fc.defaultReportMessage(result) ?? 'failed'}\n(replay: FUZZ_SEED=${SEED})`);
    return;
  }
  t.pass(`${target.name}: ${numRuns} inputs, slowest ${slowest.toFixed(2)} ms (seed ${SEED})`);
}

/** One way to damage a byte string. */
type Mutation =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'set'; at: number; value: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'delete'; at: number; length: number }
  | { kind: 'duplicate'; at: number; length: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.constantFrom(0, 1, 0x7f, 0x80, 0xff, 0xfe, 0x3f) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 12 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 16 }) }),
  fc.record({ kind: fc.constant('duplicate' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 64 }) }),
);

function apply(bytes: Uint8Array, m: Mutation): Uint8Array {
  const n = bytes.length;
  const at = n === 0 ? 0 : m.at % (n + 1);
  const b = Buffer.from(bytes);
  switch (m.kind) {
    case 'flip':
      if (at < n) b[at] = b[at]! ^ (1 << m.bit);
      return b;
    case 'set':
      if (at < n) b[at] = m.value;
      return b;
    case 'truncate':
      return b.subarray(0, at);
    case 'insert':
      return Buffer.concat([b.subarray(0, at), m.bytes, b.subarray(at)]);
    case 'delete':
      return Buffer.concat([b.subarray(0, at), b.subarray(at + m.length)]);
    case 'duplicate':
      return Buffer.concat([b.subarray(0, at + m.length), b.subarray(at, at + m.length), b.subarray(at + m.length)]);
  }
}

/**
 * Inputs for a decoder of bytes: valid encodings (from `valid`), the same with 1 to 4
 * mutations, and plain random bytes.
 */
export function bytesFrom(valid: fc.Arbitrary<Uint8Array>, maxRandom = 512): fc.Arbitrary<Uint8Array> {
  const mutated = fc.tuple(valid, fc.array(mutation, { minLength: 1, maxLength: 4 })).map(([bytes, ms]) => ms.reduce(apply, bytes));
  return fc.oneof({ arbitrary: mutated, weight: 6 }, { arbitrary: valid, weight: 1 }, { arbitrary: fc.uint8Array({ maxLength: maxRandom }), weight: 2 });
}

/** Strings for a decoder of text: mutations of valid ones (as UTF-8 bytes, decoded leniently) and random ones. */
export function textFrom(valid: fc.Arbitrary<string>): fc.Arbitrary<string> {
  const mutated = bytesFrom(valid.map((s) => Buffer.from(s, 'utf8'))).map((bytes) => Buffer.from(bytes).toString('latin1'));
  return fc.oneof({ arbitrary: mutated, weight: 4 }, { arbitrary: valid, weight: 1 }, { arbitrary: fc.string({ maxLength: 300 }), weight: 1 }, { arbitrary: fc.string({ unit: 'binary', maxLength: 200 }), weight: 1 });
}
