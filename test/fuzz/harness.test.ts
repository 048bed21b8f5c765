// The fuzzing harness must fail when a decoder crashes or hangs, or the tier proves nothing:
// a planted crash (a TypeError on some inputs) and a planted hang (a slow input) are caught.
import fc from 'fast-check';
import t from 'tap';
import { fuzz, bytesFrom } from './harness.js';

t.test('a planted crash and a planted hang are reported as failures', async (t) => {
  const failures: string[] = [];
  const probe = { ...t, fail: (message: string) => (failures.push(message), true), pass: () => true } as unknown as typeof t;
  await fuzz(probe, {
    name: 'planted crash',
    input: bytesFrom(fc.uint8Array({ minLength: 4, maxLength: 8 })),
    run: (bytes) => {
      if (bytes.length > 2 && bytes[0]! > 0x80) throw new TypeError('cannot read properties of undefined');
    },
    expected: (error) => error instanceof RangeError,
  });
  await fuzz(probe, {
    name: 'planted hang',
    input: fc.nat({ max: 100 }),
    run: (n) => {
      const until = performance.now() + (n > 90 ? 30 : 0);
      while (performance.now() < until);
    },
    expected: () => false,
    msMax: 10,
  });
  t.equal(failures.length, 2, 'both planted bugs fail the run');
  t.match(failures[0], /planted crash.*crash: TypeError/s);
  t.match(failures[1], /planted hang.*hang/s);
});
